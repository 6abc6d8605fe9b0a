/**
 * Bearer credentials. Keys and tokens are configured as secrets holding SHA-256 digests (lowercase
 * hex), so a leaked configuration does not leak usable keys. The presented key is hashed and compared
 * with every configured digest in constant time.
 *
 * - SBC keys (`SBC_API_KEYS_SHA256`, comma-separated digests) open the verification endpoints.
 * - Operator tokens name a person and a role: `ADMIN_TOKENS` entries `name:role:sha256hex`; the older
 *   digest-only `ADMIN_TOKENS_SHA256` entries are role `admin`, named by their digest's first 12 hex digits.
 * - Scrape tokens (`METRICS_TOKENS_SHA256`) open `/metrics` only.
 */
export type AuthFailure = "missing" | "malformed" | "rejected";

/** Each role may do what the one before it may, and more (issue 20 "Named analysts and roles"). */
export const ROLES = ["viewer", "analyst", "admin"] as const;
export type Role = (typeof ROLES)[number];

export const roleCovers = (held: Role, needed: Role) => ROLES.indexOf(held) >= ROLES.indexOf(needed);

/** A person (or their automation) acting on the operator API: the audit log's "who". */
export interface Operator {
  name: string;
  role: Role;
  via: "token" | "access";
}

const encoder = new TextEncoder();
const DIGEST = /^[0-9a-f]{64}$/;

const digestBytes = (hex: string) => Uint8Array.from(hex.match(/../g)!, (byte) => parseInt(byte, 16));

function parseDigests(configured: string | undefined): Uint8Array[] {
  if (!configured) return [];
  return configured
    .split(",")
    .map((digest) => digest.trim().toLowerCase())
    .filter((digest) => DIGEST.test(digest))
    .map(digestBytes);
}

/**
 * Reads `Authorization: Bearer <key>`; only the token68 syntax of RFC 6750 §2.1 is accepted. The scheme's
 * name is case-insensitive (RFC 9110 §11.1): an SBC sending `bearer` is not refused for it.
 */
export function readBearer(header: string | undefined): { key: string } | { failure: AuthFailure } {
  if (header === undefined || header === "") return { failure: "missing" };
  const match = /^[Bb][Ee][Aa][Rr][Ee][Rr] ([A-Za-z0-9\-._~+/]{1,512}=*)$/.exec(header);
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
  const accepted = (await matchingDigest(key, parseDigests(configured))) !== -1;
  if (accepted) {
    if (recentlyAccepted.size >= RECENTLY_ACCEPTED_MAX) recentlyAccepted.clear();
    recentlyAccepted.add(remembered);
  }
  return accepted;
}

/** The index of the first digest the key hashes to, or -1. */
async function matchingDigest(key: string, digests: readonly Uint8Array[]): Promise<number> {
  const presented = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(key)));
  let matched = -1;
  // Compare against every digest, without short-circuiting, so timing says nothing about which matched.
  digests.forEach((digest, index) => {
    if (crypto.subtle.timingSafeEqual(presented, digest) && matched === -1) matched = index;
  });
  return matched;
}

interface OperatorToken {
  operator: Operator;
  digest: Uint8Array;
}

/** `alice`, `ops-automation`, `aigerim@operator.example`: what the audit log shows. */
const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$/;

/**
 * `ADMIN_TOKENS="aigerim:analyst:<sha256hex>,daniyar:admin:<sha256hex>"`. An entry that does not read is
 * skipped, as a malformed digest always was: it opens nothing, and the refusal names no configuration.
 */
function parseNamedTokens(configured: string | undefined): OperatorToken[] {
  return (configured ?? "").split(",").flatMap((entry) => {
    const [name = "", role = "", digest = "", ...rest] = entry.trim().split(":");
    const hex = digest.toLowerCase();
    if (rest.length > 0 || !TOKEN_NAME.test(name) || !(ROLES as readonly string[]).includes(role) || !DIGEST.test(hex)) return [];
    return [{ operator: { name, role: role as Role, via: "token" }, digest: digestBytes(hex) }];
  });
}

/** Digest-only tokens (the form before names): role admin, named so that the audit log tells them apart without revealing them. */
function parseUnnamedTokens(configured: string | undefined): OperatorToken[] {
  return parseDigests(configured).map((digest) => ({
    operator: { name: `admin-token:${[...digest.slice(0, 6)].map((byte) => byte.toString(16).padStart(2, "0")).join("")}`, role: "admin", via: "token" },
    digest,
  }));
}

const parsedTokens = new Map<string, OperatorToken[]>();

function operatorTokens(named: string | undefined, unnamed: string | undefined): OperatorToken[] {
  const configured = `${named ?? ""}\u0000${unnamed ?? ""}`;
  let tokens = parsedTokens.get(configured);
  if (!tokens) {
    tokens = [...parseNamedTokens(named), ...parseUnnamedTokens(unnamed)];
    // Configurations change rarely; this only bounds the map should they change often.
    if (parsedTokens.size >= 16) parsedTokens.clear();
    parsedTokens.set(configured, tokens);
  }
  return tokens;
}

export interface OperatorTokenEnv {
  ADMIN_TOKENS?: string;
  ADMIN_TOKENS_SHA256?: string;
}

/** The operator a bearer token belongs to, or null when it is no configured operator token. */
export async function operatorForToken(key: string, env: OperatorTokenEnv): Promise<Operator | null> {
  const tokens = operatorTokens(env.ADMIN_TOKENS, env.ADMIN_TOKENS_SHA256);
  const index = await matchingDigest(
    key,
    tokens.map((token) => token.digest),
  );
  return index === -1 ? null : tokens[index]!.operator;
}
