/** The native API's error body: a stable code, a message saying what was wrong, and the field when one was. */
export function nativeError(status: number, code: string, message: string, extra: Record<string, unknown> = {}): Response {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (status === 401) headers["WWW-Authenticate"] = 'Bearer realm="shaken-edge"';
  return new Response(JSON.stringify({ error: { code, message, ...extra } }), { status, headers });
}

export const AUTH_FAILURE_MESSAGES = {
  missing: "an Authorization: Bearer <key> header is required",
  malformed: "the Authorization header must be 'Bearer <key>'",
  rejected: "the bearer key is not accepted",
} as const;
