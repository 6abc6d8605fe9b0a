import { CompactSign, importPKCS8 } from "jose";
import { telephoneNumberDigits } from "../numbers/telephone-number";
import type { Attestation } from "../verdict/verdict";
import type { PassportClaims, PassportHeader, SupportedPpt } from "./passport";

export interface SignPassportOptions {
  /** The signer's P-256 private key, as a CryptoKey or a PKCS#8 PEM. */
  key: CryptoKey | string;
  /** Where verifiers fetch the signer's certificate chain (RFC 8225 §5.1.4). */
  x5u: string;
  /** Calling number in E.164 (RFC 8224 §8.3 separators allowed; signed as its digits). */
  orig: string;
  /** Called number(s), likewise. */
  dest: string[];
  /** `shaken` only (RFC 8588 §4). */
  attest?: Attestation;
  /** `shaken` only; a random UUID when left out (RFC 8588 §4). */
  origid?: string;
  /** Epoch seconds; now when left out. */
  iat?: number;
  ppt?: SupportedPpt;
  /** `div` only (RFC 8946 §3): the number that diverted the call. */
  div?: string;
}

export interface SignedPassport {
  /** The PASSporT as a full-form compact JWS. */
  jws: string;
  /** The SIP Identity header value: `<jws>;info=<x5u>;alg=ES256;ppt=<ppt>` (RFC 8224 §4). */
  identity: string;
}

/** A claim that cannot be signed: `claim` names it, `problem` says what is wrong with it. */
export class PassportSigningError extends Error {
  readonly code = "ERR_PASSPORT_SIGNING_INPUT";
  constructor(
    readonly claim: "orig" | "dest" | "div" | "attest",
    readonly problem: string,
  ) {
    super(`${claim} ${problem}`);
  }
}

/**
 * RFC 8225 §5.2.1, RFC 8224 §8.3: a `tn` claim is E.164 digits, signed exactly as the verifier reads
 * it (`telephoneNumberDigits`), so that no token this signer makes is refused for its numbers.
 */
function tnClaim(value: string, claim: "orig" | "dest" | "div"): string {
  const digits = telephoneNumberDigits(value);
  if (digits === null) {
    throw new PassportSigningError(claim, `${JSON.stringify(value.slice(0, 40))} is not a telephone number: 1 to 15 digits of an E.164 number, visual separators allowed (RFC 8224 §8.3)`);
  }
  return digits;
}

/**
 * RFC 8225 §9: the claims object serialized with members in lexicographic order and no whitespace,
 * recursively, so that any signer produces the same bytes for the same claims.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const members = Object.entries(value)
      .filter(([, member]) => member !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${members.map(([name, member]) => `${JSON.stringify(name)}:${canonicalJson(member)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

function passportClaims(options: SignPassportOptions, ppt: SupportedPpt): PassportClaims {
  if (options.dest.length === 0) throw new PassportSigningError("dest", "needs at least one telephone number (RFC 8225 §5.2.1)");
  const common = {
    iat: options.iat ?? Math.floor(Date.now() / 1000),
    orig: { tn: tnClaim(options.orig, "orig") },
    dest: { tn: options.dest.map((tn) => tnClaim(tn, "dest")) },
  };
  if (ppt === "div") {
    if (!options.div) throw new PassportSigningError("div", "is required: a div PASSporT names the diverting number (RFC 8946 §3)");
    return { ...common, div: { tn: tnClaim(options.div, "div") } };
  }
  if (!options.attest) throw new PassportSigningError("attest", "is required: a shaken PASSporT has attest A, B or C (RFC 8588 §4)");
  return { ...common, attest: options.attest, origid: options.origid ?? crypto.randomUUID() };
}

/** Signs a SHAKEN or `div` PASSporT with ES256 (RFC 8225, RFC 8588, RFC 8946). */
export async function signPassport(options: SignPassportOptions): Promise<SignedPassport> {
  const ppt = options.ppt ?? "shaken";
  const claims = passportClaims(options, ppt);
  const key = typeof options.key === "string" ? await importPKCS8(options.key, "ES256") : options.key;
  const header: PassportHeader = { alg: "ES256", ppt, typ: "passport", x5u: options.x5u };
  const payload = new TextEncoder().encode(canonicalJson(claims));
  const jws = await new CompactSign(payload).setProtectedHeader({ ...header }).sign(key);
  return { jws, identity: `${jws};info=<${options.x5u}>;alg=ES256;ppt=${ppt}` };
}
