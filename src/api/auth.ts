import type { Context, MiddlewareHandler } from "hono";

/**
 * Bearer-key authentication. Keys are configured as secrets holding SHA-256 digests (lowercase hex,
 * comma-separated), so a leaked configuration does not leak usable keys. The presented key is hashed
 * and compared with every configured digest in constant time.
 */
export type Principal = "sbc" | "admin" | "metrics";

/** The secrets holding each principal's digests. A Prometheus scraper gets its own low-privilege token; an admin token reads metrics too. */
const DIGEST_VARIABLES: Record<Principal, readonly string[]> = {
  sbc: ["SBC_API_KEYS_SHA256"],
  admin: ["ADMIN_TOKENS_SHA256"],
  metrics: ["METRICS_TOKENS_SHA256", "ADMIN_TOKENS_SHA256"],
};

export type AuthFailure = "missing" | "malformed" | "rejected";

const encoder = new TextEncoder();

function parseDigests(configured: string | undefined): Uint8Array[] {
  if (!configured) return [];
  return configured
    .split(",")
    .map((digest) => digest.trim().toLowerCase())
    .filter((digest) => /^[0-9a-f]{64}$/.test(digest))
    .map((digest) => Uint8Array.from(digest.match(/../g)!, (byte) => parseInt(byte, 16)));
}

/** Reads `Authorization: Bearer <key>`; only the token68 syntax of RFC 6750 §2.1 is accepted. */
export function readBearer(header: string | undefined): { key: string } | { failure: AuthFailure } {
  if (header === undefined || header === "") return { failure: "missing" };
  const match = /^Bearer ([A-Za-z0-9\-._~+/]{1,512}=*)$/.exec(header);
  return match ? { key: match[1]! } : { failure: "malformed" };
}

/**
 * Keys accepted recently, per configuration: an SBC presents the same key on every call, and hashing it
 * each time was a measurable share of a warm verification. Only accepted keys are remembered, so guessing
 * cannot fill it; a changed configuration is a different entry.
 */
const recentlyAccepted = new Set<string>();
const RECENTLY_ACCEPTED_MAX = 64;

export async function isAcceptedKey(key: string, configured: string | undefined): Promise<boolean> {
  const remembered = `${configured ?? ""}\u0000${key}`;
  if (recentlyAccepted.has(remembered)) return true;
  const accepted = await compareWithDigests(key, configured);
  if (accepted) {
    if (recentlyAccepted.size >= RECENTLY_ACCEPTED_MAX) recentlyAccepted.clear();
    recentlyAccepted.add(remembered);
  }
  return accepted;
}

async function compareWithDigests(key: string, configured: string | undefined): Promise<boolean> {
  const presented = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(key)));
  let accepted = false;
  // Compare against every digest, without short-circuiting, so timing says nothing about which matched.
  for (const digest of parseDigests(configured)) {
    if (crypto.subtle.timingSafeEqual(presented, digest)) accepted = true;
  }
  return accepted;
}

export function requireBearer<E extends { Bindings: Partial<Record<string, unknown>> }>(
  principal: Principal,
  reject: (c: Context<E>, failure: AuthFailure) => Response,
): MiddlewareHandler<E> {
  return async (c, next) => {
    const bearer = readBearer(c.req.header("Authorization"));
    if ("failure" in bearer) return reject(c, bearer.failure);
    const configured = DIGEST_VARIABLES[principal].map((name) => c.env[name]).filter((digests) => typeof digests === "string");
    if (!(await isAcceptedKey(bearer.key, configured.join(",")))) {
      return reject(c, "rejected");
    }
    await next();
  };
}
