import type { DiallingPlan } from "../numbers/telephone-number";
import { callPartyFrom } from "../numbers/telephone-number";
import type { InviteParts } from "../sip/invite";
import type { CallParty, Ingress, NormalizedCall } from "./call";

/** A field of the request that is missing or wrong, named so the caller can fix it. */
export class RequestFieldError extends Error {
  readonly code = "ERR_VALIDATION";
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

const MAX_FIELD_LENGTH = 2048;
const MAX_IDENTITY_VALUES = 16;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

function optionalString(body: Record<string, unknown>, field: string, prefix = ""): string | null {
  const value = body[field];
  if (value === undefined || value === null) return null;
  if (typeof value !== "string") throw new RequestFieldError(prefix + field, "must be a string");
  if (value.length > MAX_FIELD_LENGTH) throw new RequestFieldError(prefix + field, `longer than ${MAX_FIELD_LENGTH} characters`);
  return value;
}

function party(value: string | null, plan: DiallingPlan): CallParty | null {
  return value === null || value.trim() === "" ? null : callPartyFrom(value, plan);
}

/** A Call-ID as given; an empty one is none. */
const callIdOf = (value: string | null): string | null => (value === null || value.trim() === "" ? null : value.trim());

/** SIP Date (RFC 3261 §20.17, an RFC 1123 date) or epoch seconds → epoch seconds. */
function parseDate(value: unknown, field: string): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value) || value < 0) throw new RequestFieldError(field, "must be epoch seconds (a non-negative integer)");
    return value;
  }
  if (typeof value !== "string") throw new RequestFieldError(field, "must be a SIP Date string or epoch seconds");
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed)) throw new RequestFieldError(field, `'${value.slice(0, 64)}' is not an RFC 1123 date`);
  return Math.floor(parsed / 1000);
}

function readIngress(value: unknown): Ingress {
  if (value === undefined || value === null) return { trunk: null, carrier: null, international: null };
  if (!isRecord(value)) throw new RequestFieldError("ingress", "must be an object {trunk, carrier, international}");
  const international = value.international;
  if (international !== undefined && international !== null && typeof international !== "boolean") {
    throw new RequestFieldError("ingress.international", "must be true or false");
  }
  return {
    trunk: optionalString(value, "trunk", "ingress."),
    carrier: optionalString(value, "carrier", "ingress."),
    international: typeof international === "boolean" ? international : null,
  };
}

function assemble(parts: Omit<NormalizedCall, "cli" | "cliSource">): NormalizedCall {
  const cliSource = parts.pai?.tn ? "pai" : parts.from ? "from" : parts.pai ? "pai" : null;
  return { ...parts, cli: cliSource === null ? null : parts[cliSource], cliSource };
}

/** The native JSON verdict request (`POST /v1/verdict`, application/json). */
export function callFromJson(body: unknown, plan: DiallingPlan): NormalizedCall {
  if (!isRecord(body)) throw new RequestFieldError("body", "must be a JSON object");
  const identity = body.identity;
  let identities: string[];
  if (identity === undefined || identity === null) identities = [];
  else if (typeof identity === "string") identities = [identity];
  else if (Array.isArray(identity) && identity.every((value) => typeof value === "string")) identities = identity as string[];
  else throw new RequestFieldError("identity", "must be an array of Identity header values");
  if (identities.length > MAX_IDENTITY_VALUES) throw new RequestFieldError("identity", `more than ${MAX_IDENTITY_VALUES} values`);
  return assemble({
    identity: identities,
    from: party(optionalString(body, "from"), plan),
    pai: party(optionalString(body, "pai"), plan),
    to: party(optionalString(body, "to"), plan),
    ruri: party(optionalString(body, "ruri"), plan),
    callId: callIdOf(optionalString(body, "callId")),
    date: parseDate(body.date, "date"),
    ingress: readIngress(body.ingress),
    privacy: optionalString(body, "privacy"),
  });
}

/** A raw INVITE (`message/sip`) with the ingress descriptor from the query string. */
export function callFromInvite(invite: InviteParts, query: Record<string, string | undefined>, plan: DiallingPlan): NormalizedCall {
  const international = query.international;
  if (international !== undefined && international !== "true" && international !== "false") {
    throw new RequestFieldError("international", "query parameter must be true or false");
  }
  return assemble({
    identity: invite.identity,
    from: party(invite.from, plan),
    pai: party(invite.pai, plan),
    to: party(invite.to, plan),
    ruri: party(invite.ruri, plan),
    callId: callIdOf(invite.callId),
    date: parseDate(invite.date, "Date"),
    ingress: {
      trunk: query.trunk?.slice(0, 256) ?? null,
      carrier: query.carrier?.slice(0, 256) ?? null,
      international: international === undefined ? null : international === "true",
    },
    privacy: invite.privacy,
  });
}

/** The called numbers a PASSporT's dest may name: To and the Request-URI (RFC 8224 §6.2.2). */
export function calledNumbers(call: NormalizedCall): string[] {
  const numbers = [call.to?.tn, call.ruri?.tn].filter((tn): tn is string => typeof tn === "string");
  return [...new Set(numbers)];
}
