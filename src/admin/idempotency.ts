import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../api/app-env";
import { BodyTooLargeError, readBoundedText } from "../api/body";
import { nativeError } from "../api/native-errors";
import { sha256Hex } from "../lib/sha256";
import { errorResponse } from "../openapi/shared";
import { bodyTooLarge, clockOf, MAX_ADMIN_BODY_BYTES } from "./http";

/**
 * `Idempotency-Key` on creates (issue 22 item 12; draft-ietf-httpapi-idempotency-key-header-06): a
 * client that did not hear the answer — a timeout, an ambiguous 503 — sends the same request with the
 * same key again and gets the first answer back instead of a second rule or report.
 *
 * A key belongs to the operator who sent it and to one method and path. The first request claims it;
 * the create then stores its response under the key in the same D1 transaction that writes the entity
 * (`idempotentResponse`), so a key either names a committed create and its answer, or nothing. A
 * request that fails (4xx, 5xx) releases its claim, so a corrected retry may use the key again.
 * Keys are kept for a day. Apply per route: `router.post(path, idempotentCreate, handler)`.
 */
const KEY_TTL_MS = 24 * 3_600_000;
/** A claim this old without a response belongs to a request that died before its create committed. */
const ABANDONED_AFTER_MS = 60_000;
/** The draft's key is a Structured Fields string (RFC 8941 §3.3.3); the bare form clients also send is accepted. */
const IDEMPOTENCY_KEY = /^"?([\x20\x21\x23-\x5B\x5D-\x7E]{1,255})"?$/;
const PRUNED_PER_CLAIM = 100;

/** What the API description says of a route that takes an Idempotency-Key. */
export const IDEMPOTENCY_DOCUMENTATION = {
  description: "Send `Idempotency-Key: <unique string>` to make a retry safe: the same key with the same body, within a day, answers the first response again (`Idempotent-Replayed: true`) instead of creating again.",
  responses: {
    409: errorResponse("A request with this Idempotency-Key is still being handled (ERR_IDEMPOTENCY_IN_PROGRESS)"),
    422: errorResponse("This Idempotency-Key was used with a different body (ERR_IDEMPOTENCY_KEY_REUSED)"),
  },
};

interface Claim {
  scope: string;
  claimedAt: number;
}

/** Claims by request: set by the middleware, read by the handler that writes the create. */
const claims = new WeakMap<Request, Claim>();

interface KeyRow {
  fingerprint: string;
  status: number | null;
  body: string | null;
  etag: string | null;
}

export const idempotentCreate: MiddlewareHandler<AppEnv> = async (c, next) => {
  const header = c.req.header("Idempotency-Key");
  if (header === undefined) return next();
  const key = IDEMPOTENCY_KEY.exec(header.trim())?.[1];
  if (key === undefined) {
    return nativeError(400, "ERR_VALIDATION", "Idempotency-Key must be 1–255 printable ASCII characters, e.g. a UUID", { fields: { "Idempotency-Key": "expected 1–255 printable ASCII characters" } });
  }
  let fingerprint: string;
  try {
    fingerprint = await sha256Hex(await readBoundedText(c.req.raw.clone(), MAX_ADMIN_BODY_BYTES));
  } catch (error) {
    if (error instanceof BodyTooLargeError) return bodyTooLarge();
    throw error;
  }
  const db = c.env.DB;
  const now = clockOf(c).now();
  const scope = JSON.stringify([c.get("operator").name, c.req.method, c.req.path, key]);
  const [, claimed, existing] = await db.batch<KeyRow>([
    db.prepare("DELETE FROM idempotency_keys WHERE scope IN (SELECT scope FROM idempotency_keys WHERE claimed_at < ? ORDER BY claimed_at LIMIT ?)").bind(now - KEY_TTL_MS, PRUNED_PER_CLAIM),
    db
      .prepare(
        `INSERT INTO idempotency_keys (scope, fingerprint, claimed_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (scope) DO UPDATE SET fingerprint = excluded.fingerprint, claimed_at = excluded.claimed_at, status = NULL, body = NULL, etag = NULL
         WHERE (status IS NULL AND claimed_at < ?4) OR claimed_at < ?5`,
      )
      .bind(scope, fingerprint, now, now - ABANDONED_AFTER_MS, now - KEY_TTL_MS),
    db.prepare("SELECT fingerprint, status, body, etag FROM idempotency_keys WHERE scope = ?").bind(scope),
  ]);
  if (claimed!.meta.changes === 1) {
    claims.set(c.req.raw, { scope, claimedAt: now });
    await next();
    if (c.res.status < 200 || c.res.status > 299) {
      await db.prepare("DELETE FROM idempotency_keys WHERE scope = ? AND claimed_at = ? AND status IS NULL").bind(scope, now).run();
      // A create that failed because a retry took its claim over (idempotentResponse) answers what the
      // key holds now, as the retry does: the one entity, or that it is still being created.
      if (c.res.status >= 500) {
        const current = await db.prepare("SELECT fingerprint, status, body, etag, claimed_at FROM idempotency_keys WHERE scope = ?").bind(scope).first<KeyRow & { claimed_at: number }>();
        if (current && current.claimed_at !== now) c.res = answerFromKey(current, fingerprint);
      }
    }
    return;
  }
  return answerFromKey(existing!.results[0]!, fingerprint);
};

/** The answer to a request whose key another request of the same operator holds: that one's, once it has one. */
function answerFromKey(row: KeyRow, fingerprint: string): Response {
  if (row.fingerprint !== fingerprint) {
    return nativeError(422, "ERR_IDEMPOTENCY_KEY_REUSED", "this Idempotency-Key was used for a different request body: use a new key for a new request");
  }
  if (row.status === null) {
    const response = nativeError(409, "ERR_IDEMPOTENCY_IN_PROGRESS", "a request with this Idempotency-Key is still being handled; retry shortly");
    response.headers.set("Retry-After", "1");
    return response;
  }
  return new Response(row.body, { status: row.status, headers: { "Content-Type": "application/json", "Idempotent-Replayed": "true", ...(row.etag ? { ETag: row.etag } : {}) } });
}

/**
 * The statements that store a create's response under the request's Idempotency-Key, for the batch
 * that writes the entity; none when the request carries no key.
 *
 * The first fails the batch, the create with it, when the claim is no longer this request's: a create
 * held up past ABANDONED_AFTER_MS may find a retry has taken the key over and created already, and
 * committing it too would apply one request twice. SQLite raises only in triggers, so the failure is
 * json() of text that is no JSON, evaluated only when the claim is gone. The request then answers what
 * the key holds (idempotentCreate), as its client's retry is answered.
 */
export function idempotentResponse(c: Context<AppEnv>, status: number, body: unknown, etag?: string): D1PreparedStatement[] {
  const claim = claims.get(c.req.raw);
  if (!claim) return [];
  const db = c.env.DB;
  return [
    db
      .prepare("SELECT CASE WHEN EXISTS (SELECT 1 FROM idempotency_keys WHERE scope = ? AND claimed_at = ? AND status IS NULL) THEN 1 ELSE json('idempotency claim taken over') END")
      .bind(claim.scope, claim.claimedAt),
    db.prepare("UPDATE idempotency_keys SET status = ?, body = ?, etag = ? WHERE scope = ? AND claimed_at = ?").bind(status, JSON.stringify(body), etag ?? null, claim.scope, claim.claimedAt),
  ];
}
