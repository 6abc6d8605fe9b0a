import { VerificationError } from "../verification/outcomes";

/** One parsed SIP Identity header value (RFC 8224 §4, with erratum 6499's base64url). */
export interface IdentityHeader {
  /** The PASSporT in JWS compact serialization, exactly as received. */
  jws: string;
  /** The `info` URI, without the angle brackets. */
  info: string;
  /** The `alg` parameter; absent means ES256 (RFC 8224 §4.1). */
  alg: string | null;
  /** The `ppt` parameter, unquoted. */
  ppt: string | null;
}

/** Headers longer than this (in characters, UTF-16 code units) are refused before any parsing (a SHAKEN header is ~600–900 ASCII characters). */
export const MAX_IDENTITY_HEADER_LENGTH = 4096;

const JWS_CHARS = /^[A-Za-z0-9_\-.]+$/;
const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/;

const malformed = (description: string) => new VerificationError("IDENTITY_MALFORMED", description);

/**
 * Parses `<jws>;info=<uri>;alg=ES256;ppt=shaken`. Both `ppt=shaken` and `ppt="shaken"` are accepted
 * (both occur in real traffic); duplicate parameters are refused; unknown generic parameters are ignored.
 * Throws a VerificationError naming exactly what is wrong.
 */
export function parseIdentityHeader(value: string): IdentityHeader {
  if (value.length > MAX_IDENTITY_HEADER_LENGTH) {
    throw malformed(`Identity header is ${value.length} characters long; at most ${MAX_IDENTITY_HEADER_LENGTH} are accepted`);
  }
  const text = value.trim();
  const firstSemicolon = text.indexOf(";");
  const jws = (firstSemicolon === -1 ? text : text.slice(0, firstSemicolon)).trim();
  if (jws === "") throw malformed("Identity header has no PASSporT before its parameters");
  if (!JWS_CHARS.test(jws)) throw malformed("PASSporT contains characters outside base64url and '.'");
  const segments = jws.split(".");
  if (segments.length !== 3) {
    throw malformed(`PASSporT must have 3 dot-separated segments, found ${segments.length}`);
  }
  if (segments[0] === "" && segments[1] === "") {
    throw new VerificationError(
      "IDENTITY_COMPACT_FORM",
      "PASSporT is in compact form (header and claims omitted); SHAKEN requires the full form (ATIS-1000074 §5.3.3)",
    );
  }
  if (segments.some((segment) => segment === "")) throw malformed("PASSporT has an empty segment");
  if (firstSemicolon === -1) {
    throw new VerificationError("INFO_INVALID", "Identity header has no parameters: the info parameter is required");
  }

  const params = parseParameters(text.slice(firstSemicolon));
  const info = params.get("info");
  if (info === undefined) throw new VerificationError("INFO_INVALID", "Identity header lacks the required info parameter");
  if (!info.startsWith("<") || !info.endsWith(">") || info.length < 3) {
    throw new VerificationError("INFO_INVALID", "info parameter must be an absolute URI in angle brackets");
  }
  return { jws, info: info.slice(1, -1), alg: unquote(params.get("alg")), ppt: unquote(params.get("ppt")) };
}

function unquote(value: string | undefined): string | null {
  if (value === undefined) return null;
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
}

/** Reads `;name=value` pairs where value is `<uri>`, a quoted string or a token. */
function parseParameters(text: string): Map<string, string> {
  const params = new Map<string, string>();
  let position = 0;
  const skipSpace = () => {
    while (position < text.length && (text[position] === " " || text[position] === "\t")) position++;
  };
  while (position < text.length) {
    skipSpace();
    if (text[position] !== ";") throw malformed(`expected ';' before parameter at offset ${position}`);
    position++;
    skipSpace();
    const nameStart = position;
    while (position < text.length && /[A-Za-z0-9\-._!%*+`'~]/.test(text[position]!)) position++;
    const name = text.slice(nameStart, position).toLowerCase();
    if (name === "") throw malformed(`empty parameter name at offset ${nameStart}`);
    skipSpace();
    let paramValue = "";
    if (text[position] === "=") {
      position++;
      skipSpace();
      paramValue = readParameterValue(text, position, name);
      position += paramValue.length;
    }
    if (params.has(name)) throw malformed(`parameter '${name}' appears more than once`);
    params.set(name, paramValue);
    skipSpace();
  }
  return params;
}

function readParameterValue(text: string, start: number, name: string): string {
  const opening = text[start];
  if (opening === "<" || opening === '"') {
    const closing = opening === "<" ? ">" : '"';
    const end = text.indexOf(closing, start + 1);
    if (end === -1) throw malformed(`parameter '${name}' has an unterminated ${opening}…${closing} value`);
    return text.slice(start, end + 1);
  }
  let end = start;
  while (end < text.length && text[end] !== ";" && text[end] !== " " && text[end] !== "\t") end++;
  const token = text.slice(start, end);
  // An unbracketed info is reported as a bad info (436) by the caller, not as a syntax error.
  if (name !== "info" && !TOKEN.test(token)) throw malformed(`parameter '${name}' has an invalid value '${token.slice(0, 40)}'`);
  return token;
}
