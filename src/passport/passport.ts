import { base64url } from "jose";
import { parseStrictJson, shortened, showJsonValue } from "../lib/strict-json";
import { telephoneNumberDigits } from "../numbers/telephone-number";
import { decodeUtf8Strict } from "../lib/utf8";
import { VerificationError } from "../verification/outcomes";
import type { Attestation } from "../verdict/verdict";

/** PASSporT types this verifier validates (RFC 8588 `shaken`, RFC 8946 `div`). */
export const SUPPORTED_PPT = ["shaken", "div"] as const;
export type SupportedPpt = (typeof SUPPORTED_PPT)[number];

export interface PassportHeader {
  alg: "ES256";
  typ: "passport";
  ppt: SupportedPpt;
  x5u: string;
}

export interface TelephoneIdentity {
  tn?: string;
  uri?: string;
}

export interface PassportClaims {
  iat: number;
  orig: TelephoneIdentity;
  dest: { tn?: string[]; uri?: string[] };
  /** `shaken` only (RFC 8588 §4). */
  attest?: Attestation;
  origid?: string;
  /** `div` only (RFC 8946 §3): the number that diverted the call. */
  div?: TelephoneIdentity;
}

export interface DecodedPassport {
  header: PassportHeader;
  claims: PassportClaims;
  /**
   * Every claim as signed, those `claims` does not read included: the signing certificate's JWT Claim
   * Constraints may name any claim (RFC 8226 §8, RFC 9118 §3).
   */
  claimSet: Readonly<Record<string, unknown>>;
  /** The JWS exactly as received; the signature is verified over these bytes, never re-serialized. */
  jws: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** RFC 8588 §4 asks for a UUID; signers in the field send other opaque ids, which are reported, not refused. */
export const isUuid = (value: string): boolean => UUID.test(value);
const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function decodeSegment(segment: string, what: "header" | "claims"): Record<string, unknown> {
  const failure = what === "header" ? "PASSPORT_HEADER_INVALID" : "CLAIMS_INVALID";
  let text: string;
  try {
    text = decodeUtf8Strict(base64url.decode(segment));
  } catch {
    throw new VerificationError(failure, `PASSporT ${what} is not base64url-encoded UTF-8`);
  }
  let value: unknown;
  try {
    value = parseStrictJson(text);
  } catch (error) {
    throw new VerificationError(failure, `PASSporT ${what} is not valid JSON: ${(error as Error).message}`);
  }
  if (!isRecord(value)) throw new VerificationError(failure, `PASSporT ${what} must be a JSON object`);
  return value;
}

/**
 * Checks the protected header (RFC 8225 §4, RFC 8588 §3): only ES256 (never `none`, `HS*`, `RS*`),
 * `typ: passport`, a supported `ppt` matching the Identity header's, `x5u` equal to `info`, no `crit`.
 */
function checkHeader(header: Record<string, unknown>, expected: { info: string; ppt: string | null; alg: string | null }): PassportHeader {
  if ("crit" in header) {
    throw new VerificationError("PASSPORT_HEADER_INVALID", "PASSporT header carries 'crit'; no critical extensions are supported");
  }
  if (header.typ !== "passport") {
    throw new VerificationError("TYP_UNSUPPORTED", `PASSporT typ is ${shortened(String(JSON.stringify(header.typ)))}; expected "passport"`);
  }
  if (header.alg !== "ES256") {
    throw new VerificationError("ALG_UNSUPPORTED", `PASSporT alg is ${shortened(String(JSON.stringify(header.alg)))}; only ES256 is accepted`);
  }
  if (expected.alg !== null && expected.alg !== "ES256") {
    throw new VerificationError("ALG_UNSUPPORTED", `Identity alg parameter is '${shortened(expected.alg)}'; only ES256 is accepted`);
  }
  const ppt = header.ppt;
  if (typeof ppt !== "string") throw new VerificationError("PASSPORT_HEADER_INVALID", "PASSporT header lacks ppt");
  if (!(SUPPORTED_PPT as readonly string[]).includes(ppt)) {
    throw new VerificationError("PPT_UNSUPPORTED", `PASSporT type '${shortened(ppt)}' is not supported (shaken, div)`);
  }
  if (expected.ppt !== ppt) {
    throw new VerificationError(
      "PPT_PARAMETER_MISMATCH",
      expected.ppt === null
        ? `Identity header lacks ppt=${ppt}; SHAKEN requires it (ATIS-1000074 §5.3.3)`
        : `Identity ppt parameter '${shortened(expected.ppt)}' differs from the PASSporT's ppt '${ppt}'`,
    );
  }
  if (typeof header.x5u !== "string") throw new VerificationError("X5U_MISMATCH", "PASSporT header lacks x5u");
  if (header.x5u !== expected.info) {
    throw new VerificationError("X5U_MISMATCH", "PASSporT x5u differs from the Identity header's info parameter", {
      x5u: header.x5u.slice(0, 512),
      info: expected.info.slice(0, 512),
    });
  }
  return { alg: "ES256", typ: "passport", ppt: ppt as SupportedPpt, x5u: header.x5u };
}

function readIdentity(value: unknown, claim: string): TelephoneIdentity {
  if (!isRecord(value)) throw new VerificationError("CLAIMS_INVALID", `${claim} claim must be an object`);
  const hasTn = "tn" in value;
  const hasUri = "uri" in value;
  if (hasTn === hasUri) throw new VerificationError("CLAIMS_INVALID", `${claim} claim must hold exactly one of tn or uri`);
  const identity = hasTn ? value.tn : value.uri;
  if (typeof identity !== "string" || identity === "") {
    throw new VerificationError("CLAIMS_INVALID", `${claim}.${hasTn ? "tn" : "uri"} must be a non-empty string`);
  }
  if (hasTn) {
    requireTelephoneNumber(identity, `${claim}.tn`);
    return { tn: identity };
  }
  return { uri: identity };
}

/** RFC 8225 §5.2.1: a `tn` claim is a telephone number (digits, RFC 8224 §8.3's visual separators allowed). */
function requireTelephoneNumber(value: string, claim: string): void {
  if (telephoneNumberDigits(value) === null) {
    throw new VerificationError("CLAIMS_INVALID", `${claim} ${JSON.stringify(value.slice(0, 32))} is not a telephone number (1 to 15 digits, RFC 8224 §8.3)`);
  }
}

function readStringArray(value: unknown, claim: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0 || value.some((item) => typeof item !== "string" || item === "")) {
    throw new VerificationError("CLAIMS_INVALID", `${claim} must be a non-empty array of strings`);
  }
  return value as string[];
}

/** Claims per RFC 8225 §5 and, for `shaken`, RFC 8588 §4; `div` per RFC 8946 §3. */
function checkClaims(claims: Record<string, unknown>, ppt: SupportedPpt): PassportClaims {
  const { iat } = claims;
  if (typeof iat !== "number" || !Number.isSafeInteger(iat) || iat < 0) {
    // Erratum 6656: iat is a NumericDate (a JSON number); "1443208345" as a string is refused.
    throw new VerificationError("CLAIMS_INVALID", `iat must be a JSON integer (NumericDate), found ${showJsonValue(iat).slice(0, 40)}`);
  }
  const orig = readIdentity(claims.orig, "orig");
  if (!isRecord(claims.dest)) throw new VerificationError("CLAIMS_INVALID", "dest claim must be an object");
  const dest = { tn: readStringArray(claims.dest.tn, "dest.tn"), uri: readStringArray(claims.dest.uri, "dest.uri") };
  for (const tn of dest.tn ?? []) requireTelephoneNumber(tn, "dest.tn");
  if (!dest.tn && !dest.uri) throw new VerificationError("CLAIMS_INVALID", "dest claim must hold tn or uri");
  const result: PassportClaims = { iat, orig, dest };

  if (ppt === "shaken") {
    if (claims.attest !== "A" && claims.attest !== "B" && claims.attest !== "C") {
      throw new VerificationError("ATTEST_INVALID", `attest must be "A", "B" or "C", found ${JSON.stringify(claims.attest)?.slice(0, 20)}`);
    }
    if (claims.origid === undefined) throw new VerificationError("ORIGID_MISSING", "origid claim is missing (RFC 8588 §4)");
    if (typeof claims.origid !== "string" || claims.origid === "") {
      throw new VerificationError("ORIGID_MISSING", "origid must be a non-empty string (RFC 8588 §4)");
    }
    result.attest = claims.attest;
    result.origid = claims.origid;
  } else {
    result.div = readIdentity(claims.div, "div");
  }
  return result;
}

/** Decodes and checks a PASSporT's header and claims. Does not verify the signature. */
export function decodePassport(jws: string, identity: { info: string; ppt: string | null; alg: string | null }): DecodedPassport {
  const header = decodePassportHeader(jws, identity);
  return { header, ...decodePassportClaims(jws, header), jws };
}

/** The first half of decodePassport: the protected header, decoded and checked. */
export function decodePassportHeader(jws: string, identity: { info: string; ppt: string | null; alg: string | null }): PassportHeader {
  return checkHeader(decodeSegment(jws.slice(0, jws.indexOf(".")), "header"), identity);
}

/** The second half: the claims, decoded and checked against the header's `ppt`, and the claim set they were read from. */
export function decodePassportClaims(jws: string, header: PassportHeader): Pick<DecodedPassport, "claims" | "claimSet"> {
  const start = jws.indexOf(".") + 1;
  const claimSet = decodeSegment(jws.slice(start, jws.indexOf(".", start)), "claims");
  return { claims: checkClaims(claimSet, header.ppt), claimSet };
}
