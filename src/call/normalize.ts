import * as z from "zod";
import type { DiallingPlan } from "../numbers/telephone-number";
import { canonicalizeTn, isGlobalNumber, telephoneNumberDigits } from "../numbers/telephone-number";
import { describeAddressProblem, MAX_ASSERTED_IDENTITIES, readAddress, readAssertedIdentities, type AddressReading, type AddressSource, type SipAddress } from "../sip/address";
import type { InviteParts } from "../sip/invite";
import { readPrivacy } from "../sip/privacy";
import type { CallParty, Ingress, NormalizedCall } from "./call";

/**
 * A field of the request that is missing or wrong, named so the caller can fix it. Only what the SBC
 * itself wrote is refused this way: what the calling peer wrote (the INVITE's headers, whichever form
 * carries them) is judged by the checks instead.
 */
export class RequestFieldError extends Error {
  readonly code = "ERR_VALIDATION";
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

const MAX_INGRESS_NAME_LENGTH = 2048;

const EPOCH_SECONDS = "epoch seconds (a non-negative integer)";
const MUST_BE_EPOCH_SECONDS = `must be ${EPOCH_SECONDS}`;
const headerValue = (description: string) => z.string({ error: "must be a string" }).nullish().describe(description);
const ingressName = (description: string) =>
  z.string({ error: "must be a string" }).max(MAX_INGRESS_NAME_LENGTH, { error: `longer than ${MAX_INGRESS_NAME_LENGTH} characters` }).nullish().describe(description);

/**
 * Where the call came in, as the SBC describes it: the `ingress` member of the JSON call, and the query
 * parameters of a raw INVITE. Its members are the only ones accepted.
 */
const ingressSchema = z.strictObject(
  {
    trunk: ingressName("The SBC's name for the trunk the call arrived on"),
    carrier: ingressName("The carrier that handed the call over"),
    international: z.boolean({ error: "must be true or false" }).nullish().describe("Whether the interconnect is international, as the SBC knows it"),
  },
  { error: "must be an object {trunk, carrier, international}" },
);

/**
 * The JSON call description of `POST /v1/verdict`: its members are the only ones accepted, so a
 * misspelt one is refused rather than read as absent. A member added here is accepted, typed and
 * documented (OpenAPI) at once.
 */
export const callDescriptionSchema = z.strictObject(
  {
    identity: z
      .union([z.string(), z.array(z.string())], { error: "must be an array of Identity header values" })
      .nullish()
      .describe("The Identity header values, in arrival order"),
    from: headerValue("From: a header value, a URI or a bare number"),
    pai: headerValue("P-Asserted-Identity: a header value, a URI or a bare number"),
    to: headerValue("To: a header value, a URI or a bare number"),
    ruri: headerValue("The Request-URI: a URI or a bare number"),
    date: z
      .union([z.number().int({ error: MUST_BE_EPOCH_SECONDS }).nonnegative({ error: MUST_BE_EPOCH_SECONDS }), z.string()], { error: `must be a SIP Date string or ${EPOCH_SECONDS}` })
      .nullish()
      .describe("The Date header's value, or epoch seconds"),
    privacy: headerValue("The Privacy header's value (RFC 3323)"),
    callId: headerValue("The SIP Call-ID: a call's retransmissions, failovers and forks share it (replay detection)"),
    ingress: ingressSchema.nullish(),
  },
  { error: "must be a JSON object" },
);

/** A Call-ID as given; an empty one is none. */
const callIdOf = (value: string | null | undefined): string | null => (value === null || value === undefined || value.trim() === "" ? null : value.trim());

/**
 * The first thing wrong, as a field error; an unknown member first, since a misspelt name explains what
 * looks missing. `objects` are the schemas of the objects read, by their path.
 */
function fieldError(issues: z.core.$ZodIssue[], objects: Record<string, z.ZodObject>): RequestFieldError {
  const issue = issues.find((candidate) => candidate.code === "unrecognized_keys") ?? issues[0]!;
  const path = issue.path.map(String);
  if (issue.code === "unrecognized_keys") {
    const accepted = Object.keys(objects[path.join(".")]?.shape ?? {});
    return new RequestFieldError([...path, issue.keys[0]!].join("."), `unknown name; expected one of ${accepted.join(", ")}`);
  }
  return new RequestFieldError(path.join(".") || "body", issue.message);
}

/**
 * The origin checks judge a caller ID by where the call came in (cli-spoofing.md §3 check 5). An SBC
 * that says nothing about it has a configuration fault: refused, rather than judged on the default.
 */
function declaredIngress(ingress: z.infer<typeof ingressSchema> | null | undefined): Ingress {
  const declared = { trunk: ingress?.trunk ?? null, carrier: ingress?.carrier ?? null, international: ingress?.international ?? null };
  if (declared.trunk === null && declared.carrier === null && declared.international === null) {
    throw new RequestFieldError("ingress", "say where the call came in: its trunk, its carrier or whether it is international");
  }
  return declared;
}

const PHONE_CONTEXT = "phone-context=";

/**
 * The telephone number of an address: a tel URI's number or a SIP URI's user part, before any
 * parameter (RFC 3966 §3, RFC 4694 §4); null when the address names no number (`sip:anonymous@…`).
 * What presents a number the verifier cannot place is a problem, not "no number": the callee may be
 * shown that number, so it must not go unjudged beside a P-Asserted-Identity that holds another.
 * - A global number (`+…`, RFC 3966 §5.1.4; or `＋…`, the full-width plus libphonenumber reads as `+`)
 *   that is no telephone number (more than 15 digits, a letter): a phone matches it to a contact on its
 *   dialable digits, `+77272501234a` to the bank.
 * - A local number, one without `+`, that names the context it is local to (RFC 3966 §5.1.5:
 *   `tel:4940545;phone-context=+7701`), other than the home country's (`phone-context=+7`, read in
 *   the home dialling plan): it is no number of the plan, nor the international number its digits
 *   would spell (+49 40545); a core may place it in its context (+7 701 494 05 45), a phone show it
 *   as a local number.
 */
function telephoneNumberOf(address: SipAddress, plan: DiallingPlan): { tn: string | null } | { problem: string } {
  if (address.user === null) return { tn: null };
  const [number, ...parameters] = address.user.split(";");
  const global = isGlobalNumber(number!);
  const context = parameters.find((parameter) => parameter.toLowerCase().startsWith(PHONE_CONTEXT))?.slice(PHONE_CONTEXT.length);
  if (!global && context !== undefined && !(context.trim().startsWith("+") && telephoneNumberDigits(context) === plan.countryCode)) {
    return { problem: "holds a local number whose phone-context is not the home country's: it names no international number (RFC 3966 §5.1.5)" };
  }
  const tn = canonicalizeTn(number!, plan);
  if (tn === null && global) return { problem: "holds a global number (+…) that is no telephone number: more than 15 digits, or characters other than digits and visual separators" };
  return { tn };
}

function partyFrom(reading: AddressReading | null, source: AddressSource, plan: DiallingPlan): CallParty | null {
  if (reading === null) return null;
  if ("problem" in reading) return { raw: reading.raw, tn: null, unreadable: describeAddressProblem(source, reading.problem) };
  const number = telephoneNumberOf(reading.address, plan);
  if ("problem" in number) return { raw: reading.raw, tn: null, unreadable: `${source} ${number.problem}` };
  const { name } = reading.address;
  return { raw: reading.raw, tn: number.tn, unreadable: null, ...(name === undefined ? {} : { name }) };
}

/**
 * A JSON part: a value with a URI scheme or angle brackets is an address, read as its header would be;
 * anything else is a number, read as a tel URI's would be.
 */
function partyFromJson(value: string | null | undefined, source: AddressSource, plan: DiallingPlan): CallParty | null {
  const trimmed = value?.trim() ?? "";
  if (trimmed === "") return null;
  return partyFrom(isAddress(trimmed) ? readAddress(trimmed, source) : bareNumber(trimmed), source, plan);
}

const isAddress = (value: string) => /[:<]/.test(value);
const bareNumber = (value: string): AddressReading => ({ raw: value, address: { scheme: "tel", user: value } });

/** The JSON `pai`: a header value lists its identities, as the header does; a bare number is one. */
function assertedIdentitiesFromJson(value: string | null | undefined): AddressReading[] {
  const trimmed = value?.trim() ?? "";
  if (trimmed === "") return [];
  return isAddress(trimmed) ? readAssertedIdentities(trimmed) : [bareNumber(trimmed)];
}

/**
 * P-Asserted-Identity from the identities it lists (RFC 3325 §9.1: one, or a SIP or SIPS URI and a tel
 * URI). The caller ID is the first that presents a number. The far end may present any of them (a
 * gateway to the circuit-switched network can take the calling number from the tel URI, or from the
 * second identity), so one presenting another number is kept beside it and judged too
 * (otherPresentedCallers): otherwise `<sip:+49…@…>, <tel:+7727…>` would carry a Kazakh landline in
 * from abroad on the first identity's verdict. An identity that cannot be read, or a list longer than
 * the standard's, leaves the whole header unreadable: which number the callee is shown cannot be told.
 */
function assertedIdentity(readings: AddressReading[], plan: DiallingPlan): Pick<NormalizedCall, "pai" | "paiOther"> {
  if (readings.length === 0) return { pai: null, paiOther: null };
  if (readings.length > MAX_ASSERTED_IDENTITIES) {
    const unreadable = `P-Asserted-Identity lists more than ${MAX_ASSERTED_IDENTITIES} identities (RFC 3325 §9.1: one, or a SIP or SIPS URI and a tel URI)`;
    return { pai: { raw: readings.map(({ raw }) => raw).join(", "), tn: null, unreadable }, paiOther: null };
  }
  const parties = readings.map((reading) => partyFrom(reading, "P-Asserted-Identity", plan)!);
  const unreadable = parties.find((party) => party.unreadable !== null);
  if (unreadable) return { pai: unreadable, paiOther: null };
  const pai = parties.find((party) => party.tn !== null) ?? parties[0]!;
  return { pai, paiOther: parties.find((party) => party.tn !== null && party.tn !== pai.tn) ?? null };
}

/** SIP Date (RFC 3261 §20.17, an RFC 1123 date) → epoch seconds; `unreadable` when it is no date. */
function readSipDate(value: string): number | "unreadable" {
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? "unreadable" : Math.floor(parsed / 1000);
}

/**
 * Where the caller ID comes from: P-Asserted-Identity when it holds a number, else From. A From or
 * P-Asserted-Identity that cannot be read is the caller ID whatever the other holds: which one the
 * callee would be shown cannot be told, so no number is vouched for.
 */
function callerIdSource(from: CallParty | null, pai: CallParty | null): NormalizedCall["cliSource"] {
  if (pai?.unreadable) return "pai";
  if (from?.unreadable) return "from";
  if (pai?.tn) return "pai";
  return from ? "from" : pai ? "pai" : null;
}

function assemble(parts: Omit<NormalizedCall, "cli" | "cliSource">): NormalizedCall {
  const cliSource = callerIdSource(parts.from, parts.pai);
  return { ...parts, cli: cliSource === null ? null : parts[cliSource], cliSource };
}

/** The native JSON verdict request (`POST /v1/verdict`, application/json). */
export function callFromJson(body: unknown, plan: DiallingPlan): NormalizedCall {
  const parsed = callDescriptionSchema.safeParse(body);
  if (!parsed.success) throw fieldError(parsed.error.issues, { "": callDescriptionSchema, ingress: ingressSchema });
  const call = parsed.data;
  const identity = call.identity ?? [];
  return assemble({
    identity: typeof identity === "string" ? [identity] : identity,
    from: partyFromJson(call.from, "From", plan),
    ...assertedIdentity(assertedIdentitiesFromJson(call.pai), plan),
    to: partyFromJson(call.to, "To", plan),
    ruri: partyFromJson(call.ruri, "Request-URI", plan),
    callId: callIdOf(call.callId),
    date: typeof call.date === "string" ? readSipDate(call.date) : (call.date ?? null),
    ingress: declaredIngress(call.ingress),
    privacy: readPrivacy(call.privacy ? [call.privacy] : []),
  });
}

/** The ingress of a raw INVITE, from the query string: the same members as the JSON call's `ingress`. */
export function ingressFromQuery(query: Record<string, string>): Ingress {
  const { international } = query;
  const flag = international === "true" ? true : international === "false" ? false : international;
  const parsed = ingressSchema.safeParse({ ...query, ...(international === undefined ? {} : { international: flag }) });
  if (!parsed.success) throw fieldError(parsed.error.issues, { "": ingressSchema });
  return declaredIngress(parsed.data);
}

/**
 * The From of a raw INVITE. Every request carries one (RFC 3261 §8.1.1.3): an INVITE without it is
 * judged as having an unreadable caller ID, not on its P-Asserted-Identity alone. Nor is an INVITE that
 * was cut short: whatever followed the cut (the From the core reads, a second one) was never seen here.
 */
function inviteFrom(invite: InviteParts, plan: DiallingPlan): CallParty {
  if (invite.cutShort !== null) return { raw: invite.from?.raw ?? "", tn: null, unreadable: invite.cutShort };
  if (invite.from === null) return { raw: "", tn: null, unreadable: "the INVITE has no From header (RFC 3261 §8.1.1.3)" };
  return partyFrom(invite.from, "From", plan)!;
}

/**
 * The numbers Remote-Party-ID and P-Preferred-Identity present. One that cannot be read, or names no
 * number, is left out: those headers are the SBC's to remove (README), and a core that shows them is
 * shown what they name; what names nothing the checks could judge is no number anyone is shown.
 */
function claimedNumbers(invite: InviteParts, plan: DiallingPlan): Pick<NormalizedCall, "claimed"> {
  const claimed = invite.claimed.flatMap(({ header, reading }) => {
    const party = "address" in reading ? partyFrom(reading, "P-Asserted-Identity", plan) : null;
    return party?.tn ? [{ party: { ...party, tn: party.tn }, presentedIn: header }] : [];
  });
  return claimed.length > 0 ? { claimed } : {};
}

/** A raw INVITE (`message/sip`) with the ingress its SBC described. */
export function callFromInvite(invite: InviteParts, ingress: Ingress, plan: DiallingPlan): NormalizedCall {
  return assemble({
    identity: invite.identity,
    from: inviteFrom(invite, plan),
    ...assertedIdentity(invite.pai, plan),
    ...claimedNumbers(invite, plan),
    to: partyFrom(invite.to, "To", plan),
    ruri: partyFrom(invite.ruri, "Request-URI", plan),
    callId: callIdOf(invite.callId),
    date: invite.date === null ? null : readSipDate(invite.date),
    ingress,
    privacy: readPrivacy(invite.privacy),
  });
}

/**
 * The number the call is routed to: the Request-URI's, which routing follows, and To's only when the
 * Request-URI holds no number (RFC 3261 §8.1.1.1: To is whatever the caller wrote). A PASSporT's dest
 * must name it (RFC 8224 §6.2.2), and the destination rules and counters read it: judged on To, a
 * PASSporT signed for one callee, or a call to a protected number, would reach whoever the Request-URI
 * names. A Request-URI that cannot be read gives none. A call retargeted upstream carries a `div`
 * PASSporT naming its new target (RFC 8946).
 */
export function calledNumber(call: NormalizedCall): string | null {
  if (call.ruri?.unreadable) return null;
  return call.ruri?.tn ?? call.to?.tn ?? null;
}

/** The called numbers a PASSporT's dest must name: the one the call is routed to. */
export function calledNumbers(call: NormalizedCall): string[] {
  const called = calledNumber(call);
  return called === null ? [] : [called];
}

/** A number the call presents besides its caller ID, and where it presents it. */
export interface OtherPresentedCaller {
  party: CallParty & { tn: string };
  presentedIn: "From" | "P-Asserted-Identity" | "Remote-Party-ID" | "P-Preferred-Identity";
}

/**
 * The numbers the call presents besides its caller ID, when that is P-Asserted-Identity: From's, and
 * P-Asserted-Identity's other identity's (assertedIdentity), each when it is another number; and,
 * whatever the caller ID, those Remote-Party-ID and P-Preferred-Identity present (claimedNumbers). The
 * callee may be shown any of them (a core, or ISUP interworking, can present From, or the tel URI; an
 * Asterisk core Remote-Party-ID), so the origin checks and the per-CLI counters judge each: otherwise a
 * foreign first identity would carry a domestic From, or a domestic tel URI, past them.
 */
export function otherPresentedCallers(call: NormalizedCall): OtherPresentedCaller[] {
  const { from, paiOther, cli, claimed } = call;
  const others: OtherPresentedCaller[] = [];
  if (call.cliSource === "pai") {
    if (from?.tn && from.tn !== cli?.tn) others.push({ party: { ...from, tn: from.tn }, presentedIn: "From" });
    if (paiOther?.tn && paiOther.tn !== cli?.tn && paiOther.tn !== from?.tn) others.push({ party: { ...paiOther, tn: paiOther.tn }, presentedIn: "P-Asserted-Identity" });
  }
  // Each number once: the caller ID and the numbers above are judged already.
  for (const identity of claimed ?? []) {
    if (identity.party.tn !== cli?.tn && identity.party.tn !== from?.tn && !others.some(({ party }) => party.tn === identity.party.tn)) others.push(identity);
  }
  return others;
}
