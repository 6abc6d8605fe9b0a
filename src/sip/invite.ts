import { parseSipRule } from "./grammar";

/** The parts of a SIP INVITE the verdict reads, as header values (not yet canonicalized). */
export interface InviteParts {
  ruri: string;
  from: string | null;
  pai: string | null;
  to: string | null;
  identity: string[];
  date: string | null;
  privacy: string | null;
}

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
  identity: "identity",
  y: "identity",
  date: "date",
  privacy: "privacy",
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
  const requestLine = grammar(lines[0]!, "Request_Response");
  if (requestLine === -1 || requestLine.status_code) throw new SipMessageError("body is not a SIP request (expected an INVITE request line)");
  if (requestLine.method !== "INVITE") throw new SipMessageError(`SIP request is ${String(requestLine.method)}; only INVITE is evaluated`);
  if (!requestLine.uri) throw new SipMessageError("INVITE Request-URI cannot be parsed");

  const parts: InviteParts = { ruri: String(requestLine.uri.toString()), from: null, pai: null, to: null, identity: [], date: null, privacy: null };
  for (const { name, value } of headerFields(lines)) {
    const part = READ_HEADERS[name.toLowerCase()];
    switch (part) {
      case undefined:
        break;
      case "identity":
        parts.identity.push(value);
        break;
      case "from":
      case "to":
        // The grammar's rule names are "From" and "To"; a value it refuses makes the message unreadable.
        if (grammar(value, part === "from" ? "From" : "To") === -1) throw new SipMessageError(`SIP message cannot be parsed: error parsing header '${name}'`);
        parts[part] = value; // a repeated From/To replaces the earlier one
        break;
      default:
        parts[part] ??= value; // the first Date, Privacy and P-Asserted-Identity header counts
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

/** P-Asserted-Identity may list a sip: and a tel: identity (RFC 3325 §9.1); the first one presents the caller. */
function firstValue(value: string | null): string | null {
  if (value === null) return null;
  const close = value.indexOf(">");
  const comma = value.indexOf(",", close === -1 ? 0 : close);
  return (comma === -1 ? value : value.slice(0, comma)).trim();
}
