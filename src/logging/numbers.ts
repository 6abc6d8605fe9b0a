import { ConfigError } from "../config";

/**
 * How telephone numbers appear in logs (LOG_NUMBERS): `plain`, `hashed` — an HMAC-SHA-256 under the
 * LOG_NUMBERS_KEY secret, truncated to 16 hex digits, so one number always gives one pseudonym an
 * analyst can search for without the logs revealing it — or `omit`.
 */
export type NumberLogging = "plain" | "hashed" | "omit";
const MODES: readonly NumberLogging[] = ["plain", "hashed", "omit"];

export interface NumberLoggingEnv {
  LOG_NUMBERS?: string;
  LOG_NUMBERS_KEY?: string;
}

/** Renders a canonical TN for a log line; null stays null. */
export type NumberRenderer = (tn: string | null) => Promise<string | null>;

const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    keys.set(secret, key);
  }
  return key;
}

export function numberRenderer(env: NumberLoggingEnv): NumberRenderer {
  const mode = (env.LOG_NUMBERS?.trim() || "plain") as NumberLogging;
  if (!MODES.includes(mode)) throw new ConfigError(`LOG_NUMBERS must be one of ${MODES.join(", ")}, got '${env.LOG_NUMBERS}'`);
  if (mode === "plain") return async (tn) => tn;
  if (mode === "omit") return async () => null;
  const secret = env.LOG_NUMBERS_KEY?.trim();
  if (!secret) throw new ConfigError("LOG_NUMBERS=hashed needs the LOG_NUMBERS_KEY secret (wrangler secret put LOG_NUMBERS_KEY)");
  return async (tn) => {
    if (tn === null) return null;
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(tn)));
    return [...mac.slice(0, 8)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  };
}
