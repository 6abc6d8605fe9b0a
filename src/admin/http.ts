import type { Context } from "hono";
import * as z from "zod";
import type { AppEnv } from "../api/app-env";
import { BodyTooLargeError, readBoundedText } from "../api/body";
import { nativeError } from "../api/native-errors";
import { systemClock, type Clock } from "../lib/clock";
import { NOT_A_NUMBER } from "../numbering/number-pattern";
import { canonicalizeTn, diallingPlanFor, type DiallingPlan } from "../numbers/telephone-number";
import { DEFAULT_HOME_COUNTRY } from "../origin/deps";
import type { AuditActor } from "./audit-log";

/**
 * What the operator-facing sub-apps (admin, reports, stats) share: the error body
 * `{"error":{"code","message","fields"?}}`, body validation that names each bad field, the clock, the
 * home dialling plan, who is acting, and the version a write is based on. Who may call them is decided
 * before they run (src/api/authenticate.ts).
 */

export const MAX_ADMIN_BODY_BYTES = 1_048_576;
const JSON_TYPE = /^\s*application\/json\s*(;|$)/i;

export const clockOf = (c: Context<AppEnv>): Clock => c.get("runtime")?.clock ?? systemClock;

/** How numbers a person types are read: as the verdict reads a caller ID (HOME_COUNTRY's plan). */
export const planOf = (c: Context<AppEnv>): DiallingPlan => c.get("runtime").config.plan;

/** The plan the API description's schemas are built with: they document the same fields whatever the plan. */
export const DOCUMENTED_PLAN = diallingPlanFor(DEFAULT_HOME_COUNTRY);

export const bodyTooLarge = () => nativeError(413, "ERR_BODY_TOO_LARGE", `request body exceeds ${MAX_ADMIN_BODY_BYTES} bytes`);

export function validationError(error: z.ZodError): Response {
  const fields: Record<string, string> = {};
  for (const issue of error.issues) {
    const path = issue.path.map(String).join(".") || "(body)";
    fields[path] ??= issue.message;
  }
  const summary = Object.entries(fields).map(([field, message]) => `${field}: ${message}`).join("; ");
  return nativeError(400, "ERR_VALIDATION", `invalid request: ${summary}`, { fields });
}

class ProtoMemberError extends Error {}

/**
 * A member named `__proto__` is refused: the schemas would drop it without a word (an object cannot
 * hold it as data), and an operator who wrote it would believe it saved.
 */
function refuseProtoMember(key: string, value: unknown): unknown {
  if (key === "__proto__") throw new ProtoMemberError("request body has a member named '__proto__', which is not accepted");
  return value;
}

/** Parses the JSON body and validates it; answers with the 4xx response when either fails. */
export async function readValidBody<S extends z.ZodType>(c: Context<AppEnv>, schema: S): Promise<{ value: z.output<S>; json: unknown } | { response: Response }> {
  // A body is JSON: a form or plain text is refused, as /v1/verdict refuses them, instead of being parsed anyway.
  const contentType = c.req.header("Content-Type");
  if (contentType !== undefined && !JSON_TYPE.test(contentType)) {
    return { response: nativeError(415, "ERR_CONTENT_TYPE", `Content-Type must be application/json, not ${JSON.stringify(contentType.slice(0, 64))}`) };
  }
  let text: string;
  try {
    // Bounded while it is read, chunked bodies too: the limit is in bytes, whatever the characters.
    text = await readBoundedText(c.req.raw, MAX_ADMIN_BODY_BYTES);
  } catch (error) {
    if (error instanceof BodyTooLargeError) return { response: bodyTooLarge() };
    throw error;
  }
  let json: unknown;
  try {
    json = text.trim() === "" ? {} : JSON.parse(text, refuseProtoMember);
  } catch (error) {
    if (error instanceof ProtoMemberError) return { response: nativeError(400, "ERR_JSON", error.message) };
    return { response: nativeError(400, "ERR_JSON", "request body is not valid JSON") };
  }
  const parsed = schema.safeParse(json);
  return parsed.success ? { value: parsed.data, json } : { response: validationError(parsed.error) };
}

/**
 * Who made a change, for the audit log (issue 22 item 10): always the authenticated operator; an
 * `author` the client gave is kept beside it as a claim (a shared automation token acting for someone),
 * never in its place.
 */
export const actorOf = (c: Context<AppEnv>, author?: string): AuditActor => ({ actor: c.get("operator").name, author: author ?? null });

/**
 * The version an update is based on (optimistic versioning): `If-Match: "3"` (or W/"3", or 3), else
 * the body's `version`. Undefined when the client gave neither; an error response when they disagree
 * or If-Match is not a version.
 */
export function basedOnVersion(c: Context<AppEnv>, bodyVersion: number | undefined): { version: number | undefined } | { response: Response } {
  const header = c.req.header("If-Match");
  if (header === undefined) return { version: bodyVersion };
  const match = /^(?:W\/)?"?(\d{1,9})"?$/.exec(header.trim());
  if (!match) return { response: nativeError(400, "ERR_VALIDATION", "If-Match must be a version number, e.g. \"3\"", { fields: { "If-Match": "expected a version number" } }) };
  const version = Number(match[1]);
  if (bodyVersion !== undefined && bodyVersion !== version) {
    return { response: nativeError(400, "ERR_VALIDATION", "If-Match and the body's version disagree", { fields: { version: "differs from If-Match" } }) };
  }
  return { version };
}

export const conflict = (current: unknown) => nativeError(409, "ERR_VERSION_CONFLICT", "the resource changed since you read it: re-read it and apply your change to the current version", { current });
export const notFound = (what: string) => nativeError(404, "ERR_NOT_FOUND", `${what} not found`);

/** The 400 naming one bad query (or path) parameter. */
export const invalidQuery = (field: string, message: string) => nativeError(400, "ERR_VALIDATION", `invalid query parameter ${field}: ${message}`, { fields: { [field]: message } });

/** A number in the query, as a person types it; read with the home plan by `readNumberQuery`. */
export const numberQuery = z.string().max(64);

/**
 * A number from the query or path, read as the verdict reads a caller ID (issue 23 item 5): the
 * canonical digits, undefined when absent, or the 400 naming the parameter.
 */
export function readNumberQuery(c: Context<AppEnv>, field: string, value: string | undefined): string | undefined | { response: Response } {
  if (value === undefined) return undefined;
  const tn = canonicalizeTn(value, planOf(c));
  return tn ?? { response: invalidQuery(field, NOT_A_NUMBER) };
}

/** Query fields the list routes share, validated by the same schemas that document them (validQuery). */
export const pagingQuery = {
  limit: z.coerce.number().int().min(1).max(1000).default(100).describe("At most this many; default 100"),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
};

/** The client's own account of who acts, kept in the audit log beside the authenticated operator. */
export const authorField = z.string().trim().min(1).max(128).describe("Who acts, by the client's account; the audit log keeps it beside the authenticated operator");

export const authorQuery = z.object({ author: authorField.optional() });
