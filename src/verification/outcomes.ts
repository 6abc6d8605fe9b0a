import { printable } from "../lib/printable";
import type { Verstat } from "../verdict/verdict";

/**
 * The one table that maps every verification failure to its SIP response code, reason text,
 * verstat and check id (spec digest §4, after ATIS-1000082's error cases as vermouth maps them).
 * No other module decides a reason code: everything else names a `VerificationFailure`.
 */
export interface Outcome {
  /** Stable id of the check that failed; also the `checks[].id` in the native verdict. */
  checkId: string;
  reasonCode: 403 | 428 | 436 | 437 | 438;
  reasonText: string;
  verstat: Verstat;
}

const USE_IDENTITY = "Use Identity Header";
const USE_SUPPORTED_PASSPORT = "Use Supported PASSporT Format";
const INVALID_IDENTITY = "Invalid Identity Header";
const BAD_INFO = "Bad Identity Info";
const UNSUPPORTED_CREDENTIAL = "Unsupported Credential";
const STALE_DATE = "Stale Date";

const row = (checkId: string, reasonCode: Outcome["reasonCode"], reasonText: string, verstat: Verstat): Outcome => ({
  checkId,
  reasonCode,
  reasonText,
  verstat,
});

export const OUTCOMES = {
  // RFC 8224 §6.2 step 1: is there an Identity header we can use?
  IDENTITY_MISSING: row("identity.present", 428, USE_IDENTITY, "No-TN-Validation"),
  PPT_UNSUPPORTED: row("identity.ppt", 428, USE_SUPPORTED_PASSPORT, "No-TN-Validation"),
  IDENTITY_MALFORMED: row("identity.syntax", 438, INVALID_IDENTITY, "No-TN-Validation"),
  // ATIS-1000074 §5.3.3: SHAKEN requires the full form; the compact `..sig` form is refused.
  IDENTITY_COMPACT_FORM: row("identity.full-form", 438, INVALID_IDENTITY, "No-TN-Validation"),
  PPT_PARAMETER_MISMATCH: row("identity.ppt-parameter", 438, INVALID_IDENTITY, "No-TN-Validation"),
  // Credential location (`info`, `x5u`): RFC 8224 §6.2.3, ATIS-1000074 §5.3.1.
  INFO_INVALID: row("identity.info", 436, BAD_INFO, "No-TN-Validation"),
  X5U_MISMATCH: row("passport.x5u", 436, BAD_INFO, "No-TN-Validation"),
  X5U_POLICY: row("x5u.policy", 436, BAD_INFO, "No-TN-Validation"),
  X5U_FETCH_FAILED: row("x5u.fetch", 436, BAD_INFO, "No-TN-Validation"),
  X5U_NOT_CERTIFICATE_CHAIN: row("x5u.content", 436, BAD_INFO, "No-TN-Validation"),
  // PASSporT header: RFC 8225 §4, RFC 8588 §3.
  PASSPORT_HEADER_INVALID: row("passport.header", 438, INVALID_IDENTITY, "No-TN-Validation"),
  TYP_UNSUPPORTED: row("passport.typ", 437, UNSUPPORTED_CREDENTIAL, "No-TN-Validation"),
  ALG_UNSUPPORTED: row("passport.alg", 437, UNSUPPORTED_CREDENTIAL, "No-TN-Validation"),
  // Claims: RFC 8225 §5, RFC 8588 §4.
  CLAIMS_INVALID: row("passport.claims", 438, INVALID_IDENTITY, "No-TN-Validation"),
  ATTEST_INVALID: row("passport.attest", 438, INVALID_IDENTITY, "No-TN-Validation"),
  ORIGID_MISSING: row("passport.origid", 438, INVALID_IDENTITY, "No-TN-Validation"),
  // RFC 8224 §6.2.2 / §12.1: freshness of iat (and of the SIP Date when given).
  STALE: row("passport.freshness", 403, STALE_DATE, "No-TN-Validation"),
  // RFC 8224 §6.2.2: the signed numbers must be this call's numbers.
  ORIG_MISMATCH: row("passport.orig", 438, INVALID_IDENTITY, "No-TN-Validation"),
  DEST_MISMATCH: row("passport.dest", 438, INVALID_IDENTITY, "No-TN-Validation"),
  // RFC 8946 §5: a `div` PASSporT must chain to the call's `shaken` PASSporT.
  DIV_NOT_CHAINED: row("passport.div-chain", 438, INVALID_IDENTITY, "No-TN-Validation"),
  // The credential itself: ATIS-1000074 §5.3.1, ATIS-1000080 §6.
  CHAIN_UNTRUSTED: row("certificate.chain", 437, UNSUPPORTED_CREDENTIAL, "TN-Validation-Failed"),
  CERTIFICATE_NOT_VALID_AT_IAT: row("certificate.validity", 437, UNSUPPORTED_CREDENTIAL, "TN-Validation-Failed"),
  CERTIFICATE_REVOKED: row("certificate.revocation", 437, UNSUPPORTED_CREDENTIAL, "TN-Validation-Failed"),
  // CRL_MODE=hard: no current, believed CRL covers the signing certificate (RFC 5280 §6.3.3 (k)).
  REVOCATION_UNKNOWN: row("certificate.revocation", 437, UNSUPPORTED_CREDENTIAL, "TN-Validation-Failed"),
  TNAUTHLIST_MISSING: row("certificate.tnauthlist", 437, UNSUPPORTED_CREDENTIAL, "TN-Validation-Failed"),
  // RFC 8226 §9, RFC 9060: a certificate scoped to telephone numbers vouches for those numbers only.
  ORIG_NOT_AUTHORISED: row("certificate.tnauthlist", 437, UNSUPPORTED_CREDENTIAL, "TN-Validation-Failed"),
  // RFC 8226 §8, RFC 9118 §3: the signing certificate bounds the claims its PASSporTs may carry. A
  // constraint extension that cannot be read refuses the credential (the verifier cannot tell what the
  // issuer forbade); a PASSporT outside the constraints is refused itself ("the PASSporT recipient will
  // reject the entire PASSporT", RFC 9118's abstract): 438, as for claims that are not this call's.
  // Failed, not No-TN-Validation: like ORIG_NOT_AUTHORISED, the signer's own certificate says it could
  // not vouch for what it signed.
  CLAIM_CONSTRAINTS_UNREADABLE: row("certificate.claim-constraints", 437, UNSUPPORTED_CREDENTIAL, "TN-Validation-Failed"),
  CLAIM_NOT_PERMITTED: row("certificate.claim-constraints", 438, INVALID_IDENTITY, "TN-Validation-Failed"),
  KEY_UNSUPPORTED: row("certificate.key", 437, UNSUPPORTED_CREDENTIAL, "TN-Validation-Failed"),
  CERTIFICATE_PROFILE: row("certificate.profile", 437, UNSUPPORTED_CREDENTIAL, "TN-Validation-Failed"),
  SIGNATURE_INVALID: row("passport.signature", 438, INVALID_IDENTITY, "TN-Validation-Failed"),
  // RFC 8224 §12.1: a verified PASSporT presented again on another call (src/abuse/replay.ts). The RFC
  // names no response for it. Not 403 Stale Date (§6.2.2): the PASSporT is fresh, and that code would
  // send the signer to check its clock. 438 (§6.2.2, §13.2) says this request's Identity header cannot
  // be validated, which is what a replay is: a good signature over another call. Failed, not
  // No-TN-Validation: like a bad signature, it is evidence against the caller ID.
  PASSPORT_REPLAYED: row("passport.replay", 438, INVALID_IDENTITY, "TN-Validation-Failed"),
  // Our own trust store is down and no trust set was kept (issue 22 item 4): the credential is not
  // judged, so the call is unverified, not failed; the verdict applies the `trust` dependency policy.
  TRUST_UNAVAILABLE: row("store.trust", 437, UNSUPPORTED_CREDENTIAL, "No-TN-Validation"),
} as const satisfies Record<string, Outcome>;

export type VerificationFailure = keyof typeof OUTCOMES;

/**
 * A failed verification step: which row of the table, and what exactly was wrong (`reasondesc`).
 * Thrown inside the verifier and caught once, at the edge of `verifyIdentity`. The description is made
 * printable whatever it quotes (a certificate's subject, a CRL issuer's name, a peer's header text): an
 * SBC copies the reasondesc into a SIP Reason text or a log line, where a raw CR LF would forge one.
 */
export class VerificationError extends Error {
  readonly failure: VerificationFailure;
  readonly evidence: Record<string, unknown> | undefined;
  constructor(failure: VerificationFailure, description: string, evidence?: Record<string, unknown>) {
    super(printable(description));
    this.failure = failure;
    this.evidence = evidence;
  }
  get outcome(): Outcome {
    return OUTCOMES[this.failure];
  }
}
