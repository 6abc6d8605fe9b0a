import { LoggerFactory } from "sip.js/lib/core/log/logger-factory.js";
import { IncomingRequestMessage } from "sip.js/lib/core/messages/incoming-request-message.js";
import { Parser } from "sip.js/lib/core/messages/parser.js";

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

const loggerFactory = new LoggerFactory();
loggerFactory.builtinEnabled = false;
const logger = loggerFactory.getLogger("sip.parser");

/**
 * Parses a raw SIP request with the parser inside sip.js. Bare LF line endings (common when a message
 * is pasted or built by a script) are normalized to CRLF first; the message must be an INVITE.
 */
export function parseInvite(raw: string): InviteParts {
  if (raw.length > MAX_SIP_MESSAGE_BYTES) throw new SipMessageError(`SIP message is larger than ${MAX_SIP_MESSAGE_BYTES} bytes`);
  const text = raw.replace(/\r?\n/g, "\r\n");
  const headerEnd = text.indexOf("\r\n\r\n");
  // sip.js expects the blank line that ends the header section.
  const message = safeParse(headerEnd === -1 ? `${text.replace(/(\r\n)*$/, "")}\r\n\r\n` : text);
  if (!(message instanceof IncomingRequestMessage)) throw new SipMessageError("body is not a SIP request (expected an INVITE request line)");
  if (message.method !== "INVITE") throw new SipMessageError(`SIP request is ${message.method}; only INVITE is evaluated`);
  if (!message.ruri) throw new SipMessageError("INVITE Request-URI cannot be parsed");
  const single = (name: string) => (message.hasHeader(name) ? message.getHeader(name) ?? null : null);
  return {
    ruri: message.ruri.toString(),
    from: single("From"),
    pai: firstValue(single("P-Asserted-Identity")),
    to: single("To"),
    identity: message.getHeaders("Identity"),
    date: single("Date"),
    privacy: single("Privacy"),
  };
}

function safeParse(text: string): ReturnType<typeof Parser.parseMessage> {
  try {
    return Parser.parseMessage(text, logger);
  } catch (error) {
    throw new SipMessageError(`SIP message cannot be parsed: ${error instanceof Error ? error.message.slice(0, 120) : "parser error"}`);
  }
}

/** P-Asserted-Identity may list a sip: and a tel: identity (RFC 3325 §9.1); the first one presents the caller. */
function firstValue(value: string | null): string | null {
  if (value === null) return null;
  const close = value.indexOf(">");
  const comma = value.indexOf(",", close === -1 ? 0 : close);
  return (comma === -1 ? value : value.slice(0, comma)).trim();
}
