// The keys and tokens vitest.config.ts configures.
export const TEST_SBC_KEY = "test-sbc-key";
/** A digest-only token (ADMIN_TOKENS_SHA256): role admin, named by its digest. */
export const TEST_ADMIN_TOKEN = "test-admin-token";
export const sbcAuth = { Authorization: `Bearer ${TEST_SBC_KEY}` };
export const adminAuth = { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

/** Named tokens (ADMIN_TOKENS), one per role, and the names the audit log shows for them. */
export const NAMED = {
  viewer: { name: "vera", headers: { Authorization: "Bearer test-viewer-token" } },
  analyst: { name: "aigerim", headers: { Authorization: "Bearer test-analyst-token" } },
  admin: { name: "daniyar", headers: { Authorization: "Bearer test-named-admin-token" } },
} as const;

/** Who writes, in tests that call the stores directly. */
export const TEST_ACTOR = { actor: "test", author: null };
