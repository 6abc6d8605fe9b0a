import { compactVerify } from "jose";
import type { X509Certificate } from "@peculiar/x509";
import type { CallRepositories, CertificateSource } from "../certificate/certificate-source";
import { trustedPathsFor } from "../certificate/certificate-source";
import { pathValidAt, requirePassportSigner, type TrustedPath } from "../certificate/chain";
import { lintCertificate, type LintFinding } from "../certificate/lint";
import { brokenClaimConstraint, readClaimConstraints, type ClaimConstraintsReading } from "../certificate/claim-constraints";
import { authorisationOf, entryNaming, readTnAuthList, type TnAuthListReading, type TnAuthorisation } from "../certificate/tnauthlist";
import { isValidServiceProviderCode } from "../pki/profile";
import { judgeRevocation, revocationStatus } from "../certificate/revocation";
import type { TrustMaterial, TrustSource } from "../certificate/trust-store";
import { checkX5uUrl, type X5uPolicy } from "../certificate/x5u-policy";
import { parseIdentityHeader } from "../identity/identity-header";
import type { Clock } from "../lib/clock";
import { telephoneNumberDigits } from "../numbers/telephone-number";
import { decodePassportClaims, decodePassportHeader, isUuid, type DecodedPassport, type PassportHeader } from "../passport/passport";
import { fail, pass, skip, warn, type Check } from "../verdict/check";
import type { Attestation, Verstat } from "../verdict/verdict";
import { VerificationError, type Outcome } from "./outcomes";

export interface VerifierOptions {
  clock: Clock;
  certificates: CertificateSource;
  trust: TrustSource;
  x5u: X5uPolicy;
  /** Largest accepted |now − iat| (and |now − Date|) for iat in the past, in seconds (RFC 8224 §6.2.2). */
  freshnessSeconds: number;
  /** Largest accepted distance of an iat in the future, in seconds (clock skew between signer and us). */
  futureSkewSeconds: number;
  /** What to do when no current CRL covers the signing certificate: `soft` skips the check, saying why; `hard` fails the credential. */
  crlMode: "soft" | "hard";
  /** Strict mode: ATIS-1000080 profile errors in the leaf fail the call instead of being reported. */
  strictProfile: boolean;
  /** The repositories the call being verified may still have fetched for it (set by verifyCall); none: no per-call bound. */
  repositories?: CallRepositories;
}

/**
 * The call's side of the comparison: canonical numbers and the SIP Date. The caller reads the call's
 * numbers (national formats included) before verifying; the PASSporT's are E.164 digits as signed.
 */
export interface CallNumbers {
  /** Canonical calling number (PAI, else From); null when the call presents none. */
  orig: string | null;
  /** Canonical called numbers (To and Request-URI) the PASSporT's dest may name. */
  dest: string[];
  /** SIP Date / ATIS `time`, epoch seconds; `unreadable` when the call's Date header is no date. */
  date: number | "unreadable" | null;
}

export interface SignerDescription {
  spc: string | null;
  /**
   * The service provider that answers for the signed number: the signing certificate's valid service
   * provider code, or for a delegate certificate (RFC 9060, numbers only) that of the nearest issuing
   * CA carrying one; null when no certificate of the path names a provider. Set once the path is known.
   */
  provider: string | null;
  subject: string;
  issuer: string;
  serialNumber: string;
  notAfter: string;
  anchor: string | null;
}

export interface IdentityResult {
  /** `ppt` of the PASSporT (or of the header, when the PASSporT could not be read). */
  ppt: string | null;
  outcome: "verified" | "failed" | "unsupported";
  verstat: Verstat;
  failure: (Outcome & { reasondesc: string }) | null;
  attest: Attestation | null;
  origid: string | null;
  iat: number | null;
  orig: string | null;
  dest: string[];
  /** `div` PASSporTs: the number that diverted the call. */
  divertedFrom: string | null;
  x5u: string | null;
  signer: SignerDescription | null;
  checks: Check[];
  /** Decoded PASSporT, for chaining `div` to `shaken` (not serialized). */
  passport?: DecodedPassport;
}

/** The steps of RFC 8224 §6.2 in the order they run; the cheap local ones first, so that a stale
 *  or mismatched PASSporT never makes the verifier fetch anything. */
const STEPS = [
  "identity.syntax",
  "passport.header",
  "passport.claims",
  "passport.freshness",
  "passport.orig",
  "passport.dest",
  "x5u.policy",
  "x5u.fetch",
  "certificate.chain",
  "certificate.validity",
  "certificate.revocation",
  "certificate.tnauthlist",
  "certificate.claim-constraints",
  "certificate.key",
  "passport.signature",
] as const;
type Step = (typeof STEPS)[number];

class StepRecorder {
  readonly checks: Check[] = [];
  private index = 0;
  passed(step: Step, detail?: string, evidence?: Record<string, unknown>): void {
    this.index = STEPS.indexOf(step) + 1;
    this.checks.push(pass(step, detail, evidence));
  }
  /** Records the failure and marks every later step as not run. */
  failed(error: VerificationError): void {
    this.checks.push(fail(error.outcome.checkId, error.message, error.evidence));
    const failedAt = STEPS.indexOf(error.outcome.checkId as Step);
    const firstSkipped = Math.max(this.index, failedAt + 1);
    for (const step of STEPS.slice(firstSkipped)) this.checks.push(skip(step, "not run: an earlier check failed"));
  }
  /** The steps left could not be judged (the trust set is unavailable): each is skipped, saying why; none failed. */
  notJudged(error: VerificationError): void {
    for (const step of STEPS.slice(this.index)) this.checks.push(skip(step, `not run: ${error.message}`));
  }
}

const notVerified = () => ({
  attest: null,
  origid: null,
  iat: null,
  orig: null,
  dest: [] as string[],
  divertedFrom: null,
  x5u: null,
  signer: null,
});

/**
 * Verifies one Identity header value against the call (RFC 8224 §6.2, RFC 8225, RFC 8588, RFC 8946
 * for `div`, ATIS-1000074). Never throws for anything the caller sent: every failure becomes a result
 * naming the check that failed and the row of the outcome table it maps to.
 */
export async function verifyIdentity(headerValue: string, call: CallNumbers, options: VerifierOptions): Promise<IdentityResult> {
  const steps = new StepRecorder();
  let identityPpt: string | null = null;
  let header: PassportHeader | undefined;
  let passport: DecodedPassport | undefined;
  let signer: SignerDescription | null = null;
  try {
    const identity = parseIdentityHeader(headerValue);
    identityPpt = identity.ppt?.slice(0, 64) ?? null;
    steps.passed("identity.syntax");
    header = decodePassportHeader(identity.jws, identity);
    steps.passed("passport.header", undefined, { ppt: header.ppt, x5u: header.x5u.slice(0, 512) });
    passport = { header, ...decodePassportClaims(identity.jws, header), jws: identity.jws };
    steps.passed("passport.claims");
    if (passport.claims.origid !== undefined && !isUuid(passport.claims.origid)) {
      steps.checks.push(warn("passport.origid", "origid is not a UUID (RFC 8588 §4); kept as an opaque traceback id", { origid: passport.claims.origid.slice(0, 64) }));
    }
    checkFreshness(passport.claims.iat, call.date, options, steps);
    const signedOrig = matchNumbers(passport, call, steps);

    const x5u = checkX5uUrl(passport.header.x5u, options.x5u);
    steps.passed("x5u.policy");
    const credential = await options.certificates.credential(x5u, options.repositories);
    steps.passed("x5u.fetch", undefined, { certificates: credential.chain.length });
    signer = await checkCredential(credential, passport, vouchedNumber(passport, signedOrig), options, steps);

    if (credential.leafKey instanceof VerificationError) throw credential.leafKey;
    steps.passed("certificate.key");
    try {
      await compactVerify(passport.jws, credential.leafKey, { algorithms: ["ES256"] });
    } catch {
      throw new VerificationError("SIGNATURE_INVALID", "signature verification failed");
    }
    steps.passed("passport.signature");
    return verifiedResult(passport, signer, steps.checks);
  } catch (error) {
    if (!(error instanceof VerificationError)) throw error;
    if (error.failure === "TRUST_UNAVAILABLE") steps.notJudged(error);
    else steps.failed(error);
    const outcome = error.outcome;
    return {
      ...notVerified(),
      ...(passport ? describeClaims(passport) : {}),
      signer,
      // A PASSporT of a type we do not verify is named by the Identity header's ppt parameter.
      ppt: header?.ppt ?? identityPpt,
      outcome: error.failure === "PPT_UNSUPPORTED" ? "unsupported" : "failed",
      verstat: outcome.verstat,
      failure: { ...outcome, reasondesc: error.message },
      checks: steps.checks,
      passport,
    };
  }
}

function verifiedResult(passport: DecodedPassport, signer: SignerDescription, checks: Check[]): IdentityResult {
  return {
    ...describeClaims(passport),
    ppt: passport.header.ppt,
    outcome: "verified",
    verstat: "TN-Validation-Passed",
    failure: null,
    signer,
    checks,
    passport,
  };
}

function describeClaims(passport: DecodedPassport) {
  const { claims, header } = passport;
  return {
    attest: claims.attest ?? null,
    origid: claims.origid ?? null,
    iat: claims.iat,
    orig: claims.orig.tn ?? claims.orig.uri ?? null,
    dest: [...(claims.dest.tn ?? []), ...(claims.dest.uri ?? [])],
    divertedFrom: claims.div?.tn ?? claims.div?.uri ?? null,
    x5u: header.x5u,
  };
}

/** RFC 8224 §6.2.2 / §12.1: a symmetric window around now for iat, and for the SIP Date when given. */
function checkFreshness(iat: number, date: CallNumbers["date"], options: VerifierOptions, steps: StepRecorder): void {
  const now = Math.floor(options.clock.now() / 1000);
  const judge = (what: string, at: number) => {
    if (now - at > options.freshnessSeconds) {
      throw new VerificationError("STALE", `${what} is ${now - at} s old; at most ${options.freshnessSeconds} s is accepted`, { [what]: at, now });
    }
    if (at - now > options.futureSkewSeconds) {
      throw new VerificationError("STALE", `${what} is ${at - now} s in the future; at most ${options.futureSkewSeconds} s is accepted`, { [what]: at, now });
    }
  };
  judge("iat", iat);
  // RFC 8224 §6.2.2 judges freshness by the Date when the request has one: a Date that is no date cannot show it.
  if (date === "unreadable") throw new VerificationError("STALE", "the SIP Date header is not a date (RFC 3261 §20.17)", { Date: "unreadable", now });
  if (date !== null) judge("Date", date);
  steps.passed("passport.freshness", undefined, { iat, now });
}

/**
 * RFC 8224 §6.2.2: `orig` must be the calling number and `dest` must name the called number. A `tn`
 * claim is E.164 digits (RFC 8225 §5.2.1, RFC 8224 §8.3): separators are stripped, but it is never
 * read in the home plan's national format, so a foreign caller's `4930123456` stays +49 30 123456.
 * Returns the signed calling number, which the certificate's TNAuthList must authorise.
 */
function matchNumbers(passport: DecodedPassport, call: CallNumbers, steps: StepRecorder): string {
  const { orig, dest } = passport.claims;
  if (orig.tn === undefined) throw new VerificationError("ORIG_MISMATCH", "orig is a URI; SHAKEN calls are matched on telephone numbers");
  // The claims step has checked that every tn claim is a telephone number.
  const signedOrig = telephoneNumberDigits(orig.tn)!;
  if (call.orig !== signedOrig) {
    throw new VerificationError("ORIG_MISMATCH", `signed orig ${signedOrig} is not the calling number ${call.orig ?? "(none)"}`, {
      signed: signedOrig,
      call: call.orig,
    });
  }
  steps.passed("passport.orig", undefined, { orig: signedOrig });

  const signedDest = (dest.tn ?? []).map((tn) => telephoneNumberDigits(tn)!);
  if (!signedDest.some((tn) => call.dest.includes(tn))) {
    throw new VerificationError("DEST_MISMATCH", `signed dest ${JSON.stringify(signedDest)} does not name the called number ${call.dest.join(", ") || "(none)"}`, {
      signed: signedDest,
      call: call.dest,
    });
  }
  steps.passed("passport.dest", undefined, { dest: signedDest });
  return signedOrig;
}

/** The number a signer vouches for, as its TNAuthList must authorise it. */
interface VouchedNumber {
  claim: "orig" | "div";
  /** E.164 digits; null for a `div` that names a URI. */
  tn: string | null;
}

/**
 * What the signing certificate must be authorised for: a `shaken` PASSporT's signer vouches for the
 * calling number; a `div` PASSporT's for the number that diverted the call, its `div` claim (RFC 8946
 * §3: the retargeting party signs for the original callee, not the caller, whose number it does not hold).
 */
function vouchedNumber(passport: DecodedPassport, signedOrig: string): VouchedNumber {
  if (passport.header.ppt !== "div") return { claim: "orig", tn: signedOrig };
  const diverted = passport.claims.div?.tn;
  return { claim: "div", tn: diverted === undefined ? null : telephoneNumberDigits(diverted) };
}

// Reading the TNAuthList and the claim constraints and linting the profile depend only on the certificate: once per certificate.
const tnAuthLists = new WeakMap<X509Certificate, TnAuthListReading>();
const claimConstraints = new WeakMap<X509Certificate, ClaimConstraintsReading>();
const profiles = new WeakMap<X509Certificate, LintFinding[]>();
const memo = <T>(cache: WeakMap<X509Certificate, T>, certificate: X509Certificate, compute: (certificate: X509Certificate) => T): T => {
  let value = cache.get(certificate);
  if (value === undefined) {
    value = compute(certificate);
    cache.set(certificate, value);
  }
  return value;
};

/**
 * ATIS-1000074 §5.3.1 / ATIS-1000080: trusted path, validity at iat, revocation, TNAuthList (for the
 * number the signer vouches for), the claim constraints (for the PASSporT's claims), profile.
 */
async function checkCredential(
  credential: Awaited<ReturnType<CertificateSource["credential"]>>,
  passport: DecodedPassport,
  vouched: VouchedNumber,
  options: VerifierOptions,
  steps: StepRecorder,
): Promise<SignerDescription> {
  const leaf = credential.chain[0]!;
  const trust = await options.trust.current();
  if (!trust.available) throw new VerificationError("TRUST_UNAVAILABLE", `the trust set is unavailable (${trust.staleBecause ?? "not loaded"}); the credential cannot be judged`);
  const tnAuthList = memo(tnAuthLists, leaf, readTnAuthList);
  const signer: SignerDescription = {
    spc: "spcs" in tnAuthList ? (tnAuthList.spcs[0] ?? null) : null,
    provider: null,
    subject: leaf.subject,
    issuer: leaf.issuer,
    serialNumber: leaf.serialNumber,
    notAfter: leaf.notAfter.toISOString(),
    anchor: null,
  };
  const paths = await trustedPathsFor(credential, trust.version, trust.anchors);
  if (paths instanceof VerificationError) throw paths;
  requirePassportSigner(leaf);
  steps.passed("certificate.chain", undefined, { paths: paths.length });
  const path = pathValidAt(paths, passport.claims.iat * 1000);
  signer.anchor = path.anchor.subject;
  steps.passed("certificate.validity", undefined, { anchor: path.anchor.subject, length: path.certificates.length });

  await checkRevocation(path, trust, options, steps);

  checkTnAuthList(tnAuthList, path, vouched, steps);
  signer.provider = providerOf(path);
  checkClaimConstraints(memo(claimConstraints, leaf, readClaimConstraints), passport.claimSet, steps);
  reportProfile(leaf, options.strictProfile, steps);
  return signer;
}

/** RFC 5280 §6.3: what the loaded CRLs say about the path, judged now; CRL_MODE decides when they cannot say. */
async function checkRevocation(path: TrustedPath, trust: TrustMaterial, options: VerifierOptions, steps: StepRecorder): Promise<void> {
  const leaf = path.certificates[0]!;
  const judgement = judgeRevocation(await revocationStatus(path, trust), leaf, options.clock.now());
  switch (judgement.result) {
    case "revoked": {
      const { certificate, revokedAt, crl } = judgement;
      throw new VerificationError("CERTIFICATE_REVOKED", `certificate '${certificate.subject}' (serial ${certificate.serialNumber}) is revoked by the CRL of '${crl.issuer}'`, {
        subject: certificate.subject,
        serialNumber: certificate.serialNumber,
        revokedAt: revokedAt.toISOString(),
        crl,
      });
    }
    case "not-revoked":
      steps.passed("certificate.revocation", `not on the CRL of '${judgement.crl.issuer}'`, { crl: judgement.crl });
      return;
    default:
      if (options.crlMode === "hard") throw new VerificationError("REVOCATION_UNKNOWN", `revocation status unknown (CRL hard-fail mode): ${judgement.reason}`, judgement.evidence);
      steps.checks.push(skip("certificate.revocation", `revocation not checked: ${judgement.reason}`, judgement.evidence));
  }
}

/**
 * RFC 8226 §9, ATIS-1000080 §6.4.1: the signing certificate's TNAuthList must vouch for the number
 * the signer vouches for (the signed calling number; a `div`'s diverting number), through a valid service provider code or by naming it (a delegate certificate,
 * RFC 9060). An issuing CA that carries a TNAuthList bounds what it may delegate (RFC 9060 §4: a
 * delegate certificate's numbers are encompassed by its issuer's), so the number must be within its
 * list too; an issuer's SPC cannot be checked that way, as no verifier knows which numbers an SPC serves.
 * A service provider code is checked, though: under an issuer authorised as a service provider, a
 * certificate naming a code is encompassed only when the issuer names the same code (spcDelegatedBy).
 * Under an issuer authorised for numbers only, it is bounded by those numbers, as any signer is, and
 * answers for no provider (providerOf).
 */
function checkTnAuthList(reading: TnAuthListReading, path: TrustedPath, vouched: VouchedNumber, steps: StepRecorder): void {
  if (reading.form === "absent") throw new VerificationError("TNAUTHLIST_MISSING", "signing certificate has no TNAuthList extension (RFC 8226 §9)");
  if (reading.form === "unparseable") throw new VerificationError("TNAUTHLIST_MISSING", `signing certificate's TNAuthList cannot be read: ${reading.error}`);
  const authorisation = authorisationOf(reading);
  const evidence = vouchingFor(authorisation, vouched, "the signing certificate");
  // The service provider code the certificates below an issuer answer with, and which of them names it.
  let delegated = authorisation.scope === "service-provider" ? { spc: authorisation.spc, by: "the signing certificate" } : null;
  for (const issuer of path.certificates.slice(1)) {
    const issuerReading = memo(tnAuthLists, issuer, readTnAuthList);
    if (issuerReading.form === "absent") continue;
    const whose = `issuing CA '${issuer.subject}'`;
    if (issuerReading.form === "unparseable") throw new VerificationError("TNAUTHLIST_MISSING", `the TNAuthList of ${whose} cannot be read: ${issuerReading.error}`);
    const issuerAuthorisation = authorisationOf(issuerReading);
    if (delegated && issuerAuthorisation.scope === "service-provider") spcDelegatedBy(issuerReading.spcs, delegated, whose);
    vouchingFor(issuerAuthorisation, vouched, whose);
    delegated = issuerAuthorisation.scope === "service-provider" ? { spc: issuerAuthorisation.spc, by: whose } : null;
  }
  if (reading.form === "rfc8226") {
    steps.passed("certificate.tnauthlist", undefined, evidence);
  } else {
    // Seen in production certificates: a valid SPC, but not the RFC 8226 encoding. Reported, not failed.
    steps.checks.push(warn("certificate.tnauthlist", `TNAuthList is not RFC 8226-encoded (${reading.form}): ${reading.note}`, { spcs: reading.spcs }));
  }
}

/**
 * RFC 9060 §4: what a certificate is authorised for is encompassed by its issuer's TNAuthList, when the
 * issuer carries one. A service provider code is encompassed only by the same code: an issuing CA
 * authorised as one provider that names another provider's code in a certificate below it speaks for a
 * provider it is not. Unchecked, a provider's own CA (RFC 9060 delegation) could issue itself a
 * certificate naming a national carrier's code, and its `A` attestations would be taken for that
 * carrier's (SignerDescription.provider, the `attestation` section).
 */
function spcDelegatedBy(issuerSpcs: string[], delegated: { spc: string; by: string }, whose: string): void {
  if (issuerSpcs.includes(delegated.spc)) return;
  const named = issuerSpcs.filter(isValidServiceProviderCode).map((spc) => spc.slice(0, 64));
  throw new VerificationError("ORIG_NOT_AUTHORISED", `the TNAuthList of ${whose} names the service provider code(s) ${named.join(", ")}, which do not encompass the code ${delegated.spc} of ${delegated.by} (RFC 9060 §4)`, {
    spc: delegated.spc,
    issuerSpcs: named,
  });
}

/**
 * Who answers for the signed number (SignerDescription.provider): the service provider code named
 * lowest in the path, from the leaf up. A delegate certificate names numbers only; the provider that
 * delegated them is its issuer (RFC 9060 §4). Every provider's CA above a code encompasses it
 * (spcDelegatedBy), so a CA of several providers leaves the signer its own. A code below an issuer
 * authorised for numbers only was never a provider's to give: the provider is the one above that issuer,
 * if any.
 */
function providerOf(path: TrustedPath): string | null {
  let provider: string | null = null;
  for (const certificate of path.certificates) {
    const reading = memo(tnAuthLists, certificate, readTnAuthList);
    if (!("spcs" in reading)) continue;
    const authorisation = authorisationOf(reading);
    if (authorisation.scope === "numbers") provider = null;
    else if (authorisation.scope === "service-provider") provider ??= authorisation.spc;
  }
  return provider;
}

/**
 * RFC 8226 §8, RFC 9118 §3: the claims of a PASSporT are within the JWT Claim Constraints of its
 * signing certificate, the certificate whose key signed it.
 */
function checkClaimConstraints(reading: ClaimConstraintsReading, claimSet: DecodedPassport["claimSet"], steps: StepRecorder): void {
  if ("unreadable" in reading) throw new VerificationError("CLAIM_CONSTRAINTS_UNREADABLE", reading.unreadable);
  const broken = brokenClaimConstraint(reading.constraints, claimSet);
  if (broken) throw new VerificationError("CLAIM_NOT_PERMITTED", broken.description, broken.evidence);
  if (reading.constraints.length === 0) steps.passed("certificate.claim-constraints", "the signing certificate constrains no claims");
  else steps.passed("certificate.claim-constraints", undefined, { extensions: reading.constraints.map((constraints) => constraints.extension) });
}

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? "" : "s"}`;

/** What in `authorisation` vouches for the number, as evidence; a failed verification when nothing does. */
function vouchingFor(authorisation: TnAuthorisation, vouched: VouchedNumber, whose: string): Record<string, unknown> {
  switch (authorisation.scope) {
    case "service-provider":
      return { spc: authorisation.spc };
    case "numbers": {
      const { claim, tn } = vouched;
      if (tn === null) {
        throw new VerificationError("ORIG_NOT_AUTHORISED", `signed ${claim} is a URI, and the TNAuthList of ${whose} authorises telephone numbers only (RFC 8226 §9)`, { claim });
      }
      const entry = entryNaming(authorisation, tn);
      if (entry) return { [claim]: tn, entry };
      const named = `${plural(authorisation.tns.length, "number")} and ${plural(authorisation.ranges.length, "range")}`;
      throw new VerificationError("ORIG_NOT_AUTHORISED", `signed ${claim} ${tn} is not among the ${named} that the TNAuthList of ${whose} authorises (RFC 8226 §9)`, {
        [claim]: tn,
        tns: authorisation.tns.length,
        ranges: authorisation.ranges.length,
      });
    }
    case "nothing": {
      const invalid = authorisation.invalidSpcs.map((spc) => spc.slice(0, 64));
      const why = invalid.length > 0 ? `: ${invalid.map((spc) => JSON.stringify(spc)).join(", ")} ${invalid.length === 1 ? "is" : "are"} no service provider code ([A-Z0-9]+, ATIS-1000080 §6.4.1)` : "";
      throw new VerificationError("TNAUTHLIST_MISSING", `the TNAuthList of ${whose} names no valid service provider code and no telephone number${why}`, {
        spcs: invalid,
      });
    }
  }
}

/** Spec digest §6 Decision: profile deviations are findings unless the operator turns strict mode on. */
function reportProfile(leaf: X509Certificate, strict: boolean, steps: StepRecorder): void {
  const findings = memo(profiles, leaf, (certificate) => lintCertificate(certificate, { role: "leaf" }));
  const errors = findings.filter((finding) => finding.severity === "error");
  if (strict && errors.length > 0) {
    throw new VerificationError("CERTIFICATE_PROFILE", `signing certificate violates the ATIS-1000080 profile: ${errors.map((finding) => finding.rule).join(", ")}`, {
      findings: errors,
    });
  }
  if (findings.length > 0) {
    const rules = findings.map((finding) => finding.rule);
    steps.checks.push(warn("certificate.profile", `${findings.length} ATIS-1000080 profile finding(s): ${rules.join(", ")}`, { findings: rules }));
  }
}

