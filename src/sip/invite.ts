import type { URI } from "sip.js/lib/grammar/uri.js";
import { addressOf, MAX_ASSERTED_IDENTITIES, MAX_PARSED_LINE_CHARS, readAddress, readAssertedIdentities, type AddressReading } from "./address";
import { matchSipRule } from "./grammar";

/**
 * The parts of a SIP INVITE the verdict reads: the addresses as the grammar read them (or why it
 * could not), the other headers as their values.
 */
export interface InviteParts {
  ruri: AddressReading;
  from: AddressReading | null;
  /**
   * Every identity P-Asserted-Identity lists, in order, over all its headers (RFC 3261 §7.3.1: two
   * headers are one list); empty when there is none. At most one more than RFC 3325 §9.1 allows is read.
   */
  pai: AddressReading[];
  /**
   * The caller identities an INVITE from an interconnect should not carry, which some cores and gateways
   * still show (Asterisk and FreeSWITCH read Remote-Party-ID; RFC 3325 §9.2 P-Preferred-Identity is a
   * user agent's wish): each calling-party identity, in order, at most MAX_CLAIMED_IDENTITIES of each header.
   */
  claimed: ClaimedIdentityReading[];
  to: AddressReading | null;
  identity: string[];
  callId: string | null;
  date: string | null;
  /** Every Privacy header's value, in arrival order (RFC 3323 §4.2). */
  privacy: string[];
  /**
   * Why the message is not whole, or null when it is: a header section without its closing blank line,
   * or a body shorter than its Content-Length. Whatever was cut off (a second From, the real caller)
   * cannot be judged, so the caller ID counts as unreadable (src/call/normalize.ts).
   */
  cutShort: string | null;
}

export type ClaimedIn = "Remote-Party-ID" | "P-Preferred-Identity";
export interface ClaimedIdentityReading {
  header: ClaimedIn;
  reading: AddressReading;
}

/**
 * The identities read of each of Remote-Party-ID and P-Preferred-Identity; the headers after them are
 * not parsed. Each header's own: a core reads each by its name (FreeSWITCH the first
 * P-Preferred-Identity, Asterisk the first Remote-Party-ID), and a bound shared by both let the peer
 * spend it on one header to leave the other's number unjudged.
 */
export const MAX_CLAIMED_IDENTITIES = 4;

/**
 * A Remote-Party-ID naming the called party (its `party` parameter `called`, draft-ietf-sip-privacy-04, which defines the
 * header) presents no caller; one without `party` names the calling party.
 */
const namesCalledParty = (reading: AddressReading): boolean => "address" in reading && reading.address.party === "called";

/** A body that is not an INVITE request at all: the SBC sent the wrong thing, whatever the peer did. */
export class SipMessageError extends Error {
  readonly code = "ERR_SIP_MESSAGE";
}

/** An INVITE with its SDP is a few KiB; this bounds the parser's work on hostile input. */
export const MAX_SIP_MESSAGE_BYTES = 65_536;

/** The headers the verdict reads, by lowercase name and compact form (RFC 3261 §7.3.3, RFC 8224 §4 for `y`). */
const READ_HEADERS: Readonly<Record<string, keyof Omit<InviteParts, "ruri">>> = {
  from: "from",
  f: "from",
  to: "to",
  t: "to",
  "p-asserted-identity": "pai",
  "remote-party-id": "claimed",
  "p-preferred-identity": "claimed",
  identity: "identity",
  y: "identity",
  date: "date",
  privacy: "privacy",
  "call-id": "callId",
  i: "callId",
};
const CONTENT_LENGTH = new Set(["content-length", "l"]);

/**
 * Reads the parts of a raw SIP INVITE the verdict needs. Bare LF line endings (common when a message
 * is pasted or built by a script) are accepted as CRLF. The request line and the From, To and
 * P-Asserted-Identity values go through sip.js's grammar, once each; the other headers are split and
 * unfolded here (RFC 3261 §7.3.1) and never parsed, since the verdict does not read them: running the
 * full grammar on Via, Contact, CSeq and the rest was most of a verdict's CPU.
 *
 * Only a message that is not an INVITE request throws. Everything in it is the calling peer's to
 * write, so a header the grammar cannot read, one that is too long to parse, or a From or To given
 * twice is reported in the parts, for the checks to judge (issue 22 item 1): were it a request error,
 * the peer could choose it, and an SBC that forwards on errors would forward the call unverified.
 */
export function parseInvite(raw: string): InviteParts {
  if (raw.length > MAX_SIP_MESSAGE_BYTES) throw new SipMessageError(`SIP message is larger than ${MAX_SIP_MESSAGE_BYTES} bytes`);
  const { lines, body } = sections(raw);
  const parts: InviteParts = { ruri: readRequestLine(lines[0]!), from: null, pai: [], claimed: [], to: null, identity: [], callId: null, date: null, privacy: [], cutShort: null };
  let contentLength: string | null = null;
  for (const { name, value } of headerFields(lines)) {
    const key = name.toLowerCase();
    if (CONTENT_LENGTH.has(key)) contentLength ??= value;
    const part = Object.hasOwn(READ_HEADERS, key) ? READ_HEADERS[key] : undefined;
    switch (part) {
      case undefined:
        break;
      case "identity":
      case "privacy":
        parts[part].push(value);
        break;
      case "from":
      case "to": {
        const source = part === "from" ? "From" : "To";
        // RFC 3261 §7.3.1, §20: a request carries one From and one To. Which of two the far end would
        // show is anybody's guess, and the checks must judge the number the callee sees.
        const first = parts[part];
        parts[part] = first === null ? readAddress(value, source) : { raw: first.raw, problem: "repeated" };
        break;
      }
      case "pai": {
        // Which identity the far end presents is its own choice (src/call/normalize.ts): every one is read,
        // up to one more than the standard allows; the headers after that are not parsed at all.
        const room = MAX_ASSERTED_IDENTITIES + 1 - parts.pai.length;
        if (room > 0) parts.pai.push(...readAssertedIdentities(value).slice(0, room));
        break;
      }
      case "claimed": {
        const header: ClaimedIn = key === "remote-party-id" ? "Remote-Party-ID" : "P-Preferred-Identity";
        const room = MAX_CLAIMED_IDENTITIES - parts.claimed.filter((claimed) => claimed.header === header).length;
        if (room <= 0) break;
        const readings = readAssertedIdentities(value).filter((reading) => header !== "Remote-Party-ID" || !namesCalledParty(reading));
        parts.claimed.push(...readings.slice(0, room).map((reading) => ({ header, reading })));
        break;
      }
      case "callId":
        parts.callId ??= value; // the first Call-ID counts, as the first Date does
        break;
      case "date":
        parts.date ??= value;
        break;
    }
  }
  parts.cutShort = cutShortBecause(body, contentLength, raw);
  return parts;
}

/**
 * Why a message was cut short, or null. An SBC that hands the verifier a C string stops at the first NUL
 * byte, while it forwards the whole message to the core: what follows the cut (the From the core reads,
 * a second one) would never be judged. RFC 3261 §7 ends every header section with an empty line, and
 * §18.3 discards a message whose body is shorter than its Content-Length. A longer body is allowed (the
 * excess is ignored), and so is a message without Content-Length, as UDP allows.
 */
function cutShortBecause(body: string | null, contentLength: string | null, raw: string): string | null {
  if (body === null) return "the INVITE ends inside its header section (no empty line after the headers): it was cut short";
  if (contentLength === null) return null;
  if (!/^[0-9]{1,9}$/.test(contentLength)) return `the INVITE's Content-Length '${contentLength.slice(0, 32)}' is not a length`;
  const declared = Number(contentLength);
  if (body.length >= declared) return null; // a UTF-16 code unit is at least one UTF-8 byte
  // A message whose lines end in bare LF (pasted, or built by a script) is read as CRLF; its body is counted so too.
  const bareLineFeeds = raw.includes("\r\n") ? 0 : (body.match(/\n/g)?.length ?? 0);
  const bytes = new TextEncoder().encode(body).length + bareLineFeeds;
  return bytes < declared ? `the INVITE's body is ${bytes} bytes where its Content-Length says ${declared}: it was cut short` : null;
}

/** RFC 3261 §7.1: `Method SP Request-URI SP SIP-Version`, as far as telling an INVITE from anything else needs. */
const REQUEST_LINE = /^(\S+) ([^]+) SIP\/\d+\.\d+$/i;

/**
 * The request line through the grammar; its Request-URI as an address. A line that is no INVITE request
 * throws. An INVITE whose Request-URI the grammar refuses, or that is too long to parse, is still an
 * INVITE: the unreadable Request-URI is the peer's, and is reported.
 */
function readRequestLine(line: string): AddressReading {
  const match = line.length > MAX_PARSED_LINE_CHARS ? null : matchSipRule(line, "Request_Response");
  const parsed = match?.matched ? (match.data as { method?: string; status_code?: number; uri?: URI }) : null;
  const shape = REQUEST_LINE.exec(line);
  if (parsed?.status_code !== undefined || shape === null) throw new SipMessageError("body is not a SIP request (expected an INVITE request line)");
  const method = parsed?.method ?? shape[1]!;
  if (method !== "INVITE") throw new SipMessageError(`SIP request is ${method.slice(0, 32)}; only INVITE is evaluated`);
  const uri = shape[2]!;
  if (parsed === null) return { raw: uri, problem: match === null ? "too-long" : "unparseable" };
  // A tel: Request-URI is an absoluteURI to the grammar, which builds no URI for it: it is read as an address.
  return parsed.uri ? { raw: uri, address: addressOf(parsed.uri) } : readAddress(uri, "Request-URI");
}

/**
 * The lines of the header section and the body after the empty line that ends it; a message without
 * that line is all header lines, and its body null.
 */
function sections(raw: string): { lines: string[]; body: string | null } {
  const end = /\r?\n\r?\n/.exec(raw);
  const lines = (end === null ? raw : raw.slice(0, end.index)).split(/\r?\n/);
  while (lines.length > 1 && lines.at(-1) === "") lines.pop();
  return { lines, body: end === null ? null : raw.slice(end.index + end[0].length) };
}

/**
 * Header fields with continuation lines folded into one value (RFC 3261 §7.3.1: the fold is a single SP).
 * A line starting with any whitespace continues the previous one, as in sip.js's message parser.
 */
function* headerFields(lines: string[]): Generator<{ name: string; value: string }> {
  for (let index = 1; index < lines.length; index++) {
    let field = lines[index]!;
    while (index + 1 < lines.length && /^\s/.test(lines[index + 1]!)) field += ` ${lines[++index]!.trim()}`;
    const colon = field.indexOf(":");
    if (colon === -1) continue; // not a header field; sip.js's message parser let such lines through as well
    yield { name: field.slice(0, colon).trim(), value: field.slice(colon + 1).trim() };
  }
}
