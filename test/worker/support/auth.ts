export const TEST_SBC_KEY = "test-sbc-key";
export const TEST_ADMIN_TOKEN = "test-admin-token";
export const sbcAuth = { Authorization: `Bearer ${TEST_SBC_KEY}` };
export const adminAuth = { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
