import { addressStart } from "../numbers/telephone-number";
import { parseSipRule } from "./grammar";

/** The parts of a SIP INVITE the verdict reads, as header values (not yet canonicalized). */
export interface InviteParts {
  ruri: string;
  from: string | null;
  pai: string | null;
  to: string | null;
  identity: string[];
  callId: string | null;
  date: string | null;
  privacy: string | null;
}

export class SipMessageError extends Error {
  readonly code = "ERR_SIP_MESSAGE";
}

/** An INVITE with its SDP is a few KiB; this bounds the parser's work on hostile input. */
export const MAX_SIP_MESSAGE_BYTES = 65_536;

/**
 * The request line and each From and To value go through sip.js's grammar, whose work grows with the
 * value (~3 ms for 1 KiB of URI parameters, ~15 ms for 4 KiB, on Node): a longer one is refused
 * before it is parsed. Real ones are a few hundred characters.
 */
export const MAX_PARSED_LINE_CHARS = 1_024;

/** The headers the verdict reads, by lowercase name and compact form (RFC 3261 §7.3.3, RFC 8224 §4 for `y`). */
const READ_HEADERS: Readonly<Record<string, keyof Omit<InviteParts, "ruri">>> = {
  from: "from",
  f: "from",
  to: "to",
  t: "to",
  "p-asserted-identity": "pai",
  identity: "identity",
  y: "identity",
  date: "date",
  privacy: "privacy",
  "call-id": "callId",
  i: "callId",
};

/**
 * Reads the parts of a raw SIP INVITE the verdict needs. Bare LF line endings (common when a message
 * is pasted or built by a script) are accepted as CRLF. Only the request line and the From and To
 * values go through sip.js's grammar (as its own message parser would check them); the other headers
 * are split and unfolded here (RFC 3261 §7.3.1) and never parsed, since the verdict does not read
 * them: running the full grammar on Via, Contact, CSeq and the rest was most of a verdict's CPU.
 */
export function parseInvite(raw: string): InviteParts {
  if (raw.length > MAX_SIP_MESSAGE_BYTES) throw new SipMessageError(`SIP message is larger than ${MAX_SIP_MESSAGE_BYTES} bytes`);
  const lines = headerSection(raw);
  if (lines[0]!.length > MAX_PARSED_LINE_CHARS) throw new SipMessageError(`SIP request line is longer than ${MAX_PARSED_LINE_CHARS} characters`);
  const requestLine = grammar(lines[0]!, "Request_Response");
  if (requestLine === -1 || requestLine.status_code) throw new SipMessageError("body is not a SIP request (expected an INVITE request line)");
  if (requestLine.method !== "INVITE") throw new SipMessageError(`SIP request is ${String(requestLine.method)}; only INVITE is evaluated`);
  if (!requestLine.uri) throw new SipMessageError("INVITE Request-URI cannot be parsed");

  const parts: InviteParts = { ruri: String(requestLine.uri.toString()), from: null, pai: null, to: null, identity: [], callId: null, date: null, privacy: null };
  for (const { name, value } of headerFields(lines)) {
    const key = name.toLowerCase();
    const part = Object.hasOwn(READ_HEADERS, key) ? READ_HEADERS[key] : undefined;
    switch (part) {
      case undefined:
        break;
      case "identity":
        parts.identity.push(value);
        break;
      case "from":
      case "to": {
        const rule = part === "from" ? "From" : "To";
        // RFC 3261 §7.3.1, §20: a request carries one From and one To. Which of two the far end would
        // show is anybody's guess, and the checks must judge the number the callee sees.
        if (parts[part] !== null) throw new SipMessageError(`SIP message has more than one ${rule} header`);
        if (value.length > MAX_PARSED_LINE_CHARS) throw new SipMessageError(`${rule} header is longer than ${MAX_PARSED_LINE_CHARS} characters`);
        // The grammar's rule names are "From" and "To"; a value it refuses makes the message unreadable.
        if (grammar(value, rule) === -1) throw new SipMessageError(`SIP message cannot be parsed: error parsing header '${name}'`);
        parts[part] = value;
        break;
      }
      default:
        parts[part] ??= value; // the first Call-ID, Date, Privacy and P-Asserted-Identity header counts
    }
  }
  parts.pai = firstValue(parts.pai);
  return parts;
}

/** The lines of the header section (up to the blank line, or the end of a message without a body). */
function headerSection(raw: string): string[] {
  const end = /\r?\n\r?\n/.exec(raw);
  const lines = (end === null ? raw : raw.slice(0, end.index)).split(/\r?\n/);
  while (lines.length > 1 && lines.at(-1) === "") lines.pop();
  return lines;
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

/** sip.js's grammar for one rule: what it built, or -1 when the input does not match (it never throws). */
const grammar = (input: string, rule: string) => parseSipRule(input, rule) as -1 | { method?: string; status_code?: number; uri?: { toString(): string } };

/**
 * P-Asserted-Identity may list a sip: and a tel: identity (RFC 3325 §9.1); the first one presents the
 * caller. Its display name may hold `>` and `,` inside quotes: the list is split after the address.
 */
function firstValue(value: string | null): string | null {
  if (value === null) return null;
  const start = Math.max(0, addressStart(value));
  const close = value.indexOf(">", start);
  const comma = value.indexOf(",", close === -1 ? start : close);
  return (comma === -1 ? value : value.slice(0, comma)).trim();
}
