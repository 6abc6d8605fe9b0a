import "../lib/reflect-metadata";
import { BasicConstraintsExtension, KeyUsageFlags, KeyUsagesExtension, type X509Certificate } from "@peculiar/x509";
import * as asn1X509 from "@peculiar/asn1-x509";
import { VerificationError } from "../verification/outcomes";
import { comparableNamesOf } from "./distinguished-name";
import { TN_AUTH_LIST_OID } from "./tnauthlist";

/** At most this many intermediates between the leaf and the anchor (SHAKEN paths have one or two). */
const MAX_INTERMEDIATES = 4;
/**
 * Issuer candidates (certificates whose subject matches the issuer name sought) the search checks a
 * signature of, in all. A repository may serve look-alike CAs that sign one another; without a bound
 * their paths multiply. Real chains need a handful: the leaf's issuer (twice when it was re-issued) and
 * its anchor.
 */
const MAX_ISSUER_CANDIDATES = 32;
/** Trusted paths kept per chain: enough for re-issued intermediates and anchors. */
const MAX_TRUSTED_PATHS = 8;
/** Rejections named in a reasondesc when no path is trusted; the rest are counted. */
const MAX_REASONS_SHOWN = 3;


/**
 * The extensions this verifier processes, which alone may be critical (RFC 5280 §4.2: a critical
 * extension that is not processed rejects the certificate). BasicConstraints and KeyUsage are enforced
 * below (a PASSporT signer's KeyUsage by requirePassportSigner); CertificatePolicies is processed as
 * RFC 5280 §6.1 does with user-initial-policy-set anyPolicy and no explicit-policy requirement, which
 * every policy set passes (real STI-CAs mark it critical: Martini Security SHAKEN G1, NetNumber); the
 * TNAuthList is checked against the signed orig, the signing certificate's and an issuing CA's
 * (RFC 8226 §9, RFC 9060 §4); key identifiers, the CRL distribution point and the subject's
 * alternative name (an identity; nothing here constrains names) restrict nothing. Name constraints,
 * policy constraints and mappings, extended key usage and the rest are not processed, so a certificate
 * that marks one critical is refused.
 */
const PROCESSED_EXTENSIONS = new Set([
  asn1X509.id_ce_basicConstraints,
  asn1X509.id_ce_keyUsage,
  asn1X509.id_ce_certificatePolicies,
  TN_AUTH_LIST_OID,
  asn1X509.id_ce_subjectKeyIdentifier,
  asn1X509.id_ce_authorityKeyIdentifier,
  asn1X509.id_ce_cRLDistributionPoints,
  asn1X509.id_ce_subjectAltName,
]);

export interface TrustedPath {
  /** Leaf first, then intermediates; the anchor last. */
  certificates: X509Certificate[];
  anchor: X509Certificate;
  /** The window in which every certificate of the path is valid: checked against each PASSporT's iat. */
  validFrom: number;
  validUntil: number;
}

/** What path validation reads of a certificate, derived once per certificate (anchors serve every chain). */
interface CertificateFacts {
  subjectName: string;
  issuerName: string;
  /** RFC 5280 §6.1.4(l): a self-issued certificate does not count against a pathLenConstraint. */
  selfIssued: boolean;
  /** Why the certificate may not issue certificates (RFC 5280 §4.2, §6.1.4(k), (n)); null when it may. */
  notAnIssuerBecause: string | null;
  /** Why it may not be the signing certificate (RFC 5280 §4.2); null when it may. */
  notASignerBecause: string | null;
  /** Why its key may not verify PASSporTs (RFC 5280 §4.2.1.3); null when it may. */
  notAPassportSignerBecause: string | null;
  pathLenConstraint: number | undefined;
}

const facts = new WeakMap<X509Certificate, CertificateFacts>();

function factsOf(certificate: X509Certificate): CertificateFacts {
  let known = facts.get(certificate);
  if (!known) {
    const { subject: subjectName, issuer: issuerName } = comparableNamesOf(certificate);
    known = { subjectName, issuerName, selfIssued: subjectName === issuerName, ...readConstraints(certificate) };
    facts.set(certificate, known);
  }
  return known;
}

function readConstraints(certificate: X509Certificate): Pick<CertificateFacts, "notAnIssuerBecause" | "notASignerBecause" | "notAPassportSignerBecause" | "pathLenConstraint"> {
  let constraints: BasicConstraintsExtension | null;
  let keyUsage: KeyUsagesExtension | null;
  try {
    // The library decodes every extension on first access, and throws on one it cannot decode.
    constraints = certificate.getExtension(BasicConstraintsExtension);
    keyUsage = certificate.getExtension(KeyUsagesExtension);
  } catch {
    const undecodable = "has an extension that cannot be decoded";
    return { notAnIssuerBecause: undecodable, notASignerBecause: undecodable, notAPassportSignerBecause: undecodable, pathLenConstraint: undefined };
  }
  const unprocessed = unprocessedCritical(certificate);
  return {
    notAnIssuerBecause: whyNotAnIssuer(constraints, keyUsage) ?? unprocessed,
    notASignerBecause: unprocessed,
    notAPassportSignerBecause: whyNotAPassportSigner(keyUsage),
    pathLenConstraint: constraints?.ca ? constraints.pathLength : undefined,
  };
}

function whyNotAnIssuer(constraints: BasicConstraintsExtension | null, keyUsage: KeyUsagesExtension | null): string | null {
  // §6.1.4(k): a CA is told by basicConstraints cA=TRUE; a certificate without it is not one.
  if (!constraints?.ca) return "is not a CA (basicConstraints cA is not TRUE, RFC 5280 §6.1.4(k))";
  // §6.1.4(n): keyCertSign is required when keyUsage is present. Absent keyUsage is accepted, as the
  // RFC says: the Telonium STI-CA roots the 2025 survey trusted carry none.
  if (keyUsage && (keyUsage.usages & KeyUsageFlags.keyCertSign) === 0) return "lacks keyCertSign in its keyUsage (RFC 5280 §6.1.4(n))";
  return null;
}

function whyNotAPassportSigner(keyUsage: KeyUsagesExtension | null): string | null {
  // §4.2.1.3: keyUsage restricts what the key may be used for, and a PASSporT signature is a digital
  // signature. Absent keyUsage is accepted, as for issuers: ATIS-1000080 asks for one, but its absence
  // is a profile finding (e_atis_ext_key_usage), not a limit on the key.
  if (keyUsage && (keyUsage.usages & KeyUsageFlags.digitalSignature) === 0) return "lacks digitalSignature in its keyUsage, so its key may not sign PASSporTs (RFC 5280 §4.2.1.3)";
  return null;
}

function unprocessedCritical(certificate: X509Certificate): string | null {
  const critical = certificate.extensions.filter((extension) => extension.critical && !PROCESSED_EXTENSIONS.has(extension.type)).map((extension) => extension.type);
  return critical.length > 0 ? `carries critical extension ${critical.join(", ")}, which this verifier does not process (RFC 5280 §4.2)` : null;
}

/** A name as a reasondesc quotes it: bounded, since a hostile repository writes it. */
const quoted = (name: string): string => `'${name.length > 160 ? `${name.slice(0, 160)}…` : name}'`;

interface IssuerCandidate {
  certificate: X509Certificate;
  isAnchor: boolean;
}

const roleOf = (candidate: IssuerCandidate) => (candidate.isAnchor ? "trust anchor" : "intermediate");

/**
 * RFC 5280 §6.1 path validation as SHAKEN needs it, from the leaf up to a configured trust anchor,
 * through the intermediates the repository served. On every link: the issuer's name matches (§7.1),
 * the signature verifies with the issuer's key, the issuer is a CA with keyCertSign and within its
 * pathLenConstraint (the anchor's included), and no certificate carries a critical extension we do not
 * process. Every candidate issuer and anchor is tried, within bounds, and every trusted path is kept:
 * STI-CAs re-issue intermediates under the same name and key with a new validity, and the path to use
 * is the one valid at the PASSporT's iat. Validity is therefore not judged here but returned per path.
 * Our checks over @peculiar/x509 rather than PKI.js's CertificateChainValidationEngine, by measurement
 * (README, "How a verdict is made"): it adds 117 KiB gzip, costs as much, and lacks half of these checks.
 */
export async function buildTrustedPaths(chain: X509Certificate[], anchors: X509Certificate[]): Promise<TrustedPath[]> {
  const [leaf, ...served] = chain;
  if (!leaf) throw new VerificationError("CHAIN_UNTRUSTED", "no certificate to validate");
  const { notASignerBecause } = factsOf(leaf);
  if (notASignerBecause) throw new VerificationError("CHAIN_UNTRUSTED", `signing certificate ${quoted(leaf.subject)} ${notASignerBecause}`);
  // A served copy of an anchor is the anchor; a certificate served twice is one candidate.
  const intermediates = served.filter(
    (certificate, index) => !certificate.equal(leaf) && !anchors.some((anchor) => anchor.equal(certificate)) && served.findIndex((other) => other.equal(certificate)) === index,
  );
  const search = new PathSearch(anchors, intermediates);
  await search.extend([leaf]);
  if (search.found.length > 0) return search.found;
  const { reasons } = search;
  const more = reasons.length > MAX_REASONS_SHOWN ? `; and ${reasons.length - MAX_REASONS_SHOWN} more` : "";
  throw new VerificationError("CHAIN_UNTRUSTED", `${reasons.slice(0, MAX_REASONS_SHOWN).join("; ")}${more}`);
}

/** A depth-first search over issuer candidates that records why each dead end was one. */
class PathSearch {
  readonly found: TrustedPath[] = [];
  readonly reasons: string[] = [];
  private candidatesChecked = 0;

  constructor(
    private readonly anchors: X509Certificate[],
    private readonly intermediates: X509Certificate[],
  ) {}

  /** Tries every issuer of the path's last certificate: an anchor ends a path, an intermediate extends it. */
  async extend(path: X509Certificate[]): Promise<void> {
    const current = path.at(-1)!;
    const issuerName = factsOf(current).issuerName;
    const candidates: IssuerCandidate[] = [
      ...this.anchors.map((certificate) => ({ certificate, isAnchor: true })),
      ...this.intermediates.filter((certificate) => !path.includes(certificate)).map((certificate) => ({ certificate, isAnchor: false })),
    ].filter((candidate) => factsOf(candidate.certificate).subjectName === issuerName);
    if (candidates.length === 0) this.reject(`no trusted issuer found for ${quoted(current.subject)} (issuer ${quoted(current.issuer)})`);

    for (const candidate of candidates) {
      if (this.found.length === MAX_TRUSTED_PATHS) return;
      if (!candidate.isAnchor && path.length > MAX_INTERMEDIATES) {
        this.reject(`no trusted path within ${MAX_INTERMEDIATES} intermediates above ${quoted(path[0]!.subject)}`);
        continue;
      }
      if (this.candidatesChecked === MAX_ISSUER_CANDIDATES) {
        this.reject(`path search stopped after ${MAX_ISSUER_CANDIDATES} issuer candidates (the repository serves too many look-alike CAs)`);
        return;
      }
      this.candidatesChecked++;
      const rejection = await whyNotIssuedBy(current, candidate, path);
      if (rejection) this.reject(rejection);
      else if (candidate.isAnchor) this.found.push(withValidity([...path, candidate.certificate], candidate.certificate));
      else await this.extend([...path, candidate.certificate]);
    }
  }

  private reject(reason: string): void {
    if (!this.reasons.includes(reason)) this.reasons.push(reason);
  }
}

/** RFC 5280 §6.1.3(a) and §6.1.4 for one link: why `candidate` cannot be the issuer of `issued` on this path, or null. */
async function whyNotIssuedBy(issued: X509Certificate, candidate: IssuerCandidate, path: X509Certificate[]): Promise<string | null> {
  const issuer = candidate.certificate;
  const named = `${roleOf(candidate)} ${quoted(issuer.subject)}`;
  if (!(await signatureVerifies(issued, issuer))) return `signature of ${quoted(issued.subject)} does not verify with the key of ${named}`;
  const { notAnIssuerBecause, pathLenConstraint } = factsOf(issuer);
  if (notAnIssuerBecause) return `${named} ${notAnIssuerBecause}`;
  // §6.1.4(l), (m): the constraint counts the intermediates below the issuer that are not self-issued (the leaf is not one).
  const below = path.slice(1).filter((certificate) => !factsOf(certificate).selfIssued).length;
  if (pathLenConstraint !== undefined && below > pathLenConstraint) {
    return `pathLenConstraint ${pathLenConstraint} of ${named} exceeded: ${below} intermediate(s) below it (RFC 5280 §6.1.4(l))`;
  }
  return null;
}

async function signatureVerifies(issued: X509Certificate, issuer: X509Certificate): Promise<boolean> {
  try {
    return await issued.verify({ publicKey: issuer.publicKey, signatureOnly: true });
  } catch {
    return false; // a signature value the library cannot read (it throws; a key it cannot use is its own false) verifies nothing
  }
}

function withValidity(certificates: X509Certificate[], anchor: X509Certificate): TrustedPath {
  return {
    certificates,
    anchor,
    validFrom: Math.max(...certificates.map((certificate) => certificate.notBefore.getTime())),
    validUntil: Math.min(...certificates.map((certificate) => certificate.notAfter.getTime())),
  };
}

/**
 * RFC 5280 §4.2.1.3 for the signing certificate of a PASSporT. Not part of buildTrustedPaths, which
 * validates CA certificates' paths too (the CLI's CRL issuers): what a trusted key may do depends on
 * what it is asked to verify, and a PASSporT asks for digitalSignature.
 */
export function requirePassportSigner(leaf: X509Certificate): void {
  const { notAPassportSignerBecause } = factsOf(leaf);
  if (notAPassportSignerBecause) throw new VerificationError("CHAIN_UNTRUSTED", `signing certificate ${quoted(leaf.subject)} ${notAPassportSignerBecause}`);
}

/**
 * ATIS-1000074 (spec digest §4 Decision): certificates are judged at the PASSporT's iat. The first
 * trusted path valid then is the one used; when none is, every certificate that is not is named.
 */
export function pathValidAt(paths: TrustedPath[], atMs: number): TrustedPath {
  const valid = paths.find((path) => atMs >= path.validFrom && atMs <= path.validUntil);
  if (valid) return valid;
  const outside = (certificate: X509Certificate) => atMs < certificate.notBefore.getTime() || atMs > certificate.notAfter.getTime();
  const offenders = [...new Set(paths.flatMap((path) => path.certificates.filter(outside)))];
  const when = new Date(atMs).toISOString();
  const [first] = offenders as [X509Certificate];
  throw new VerificationError(
    "CERTIFICATE_NOT_VALID_AT_IAT",
    offenders
      .map((offender) => `certificate ${quoted(offender.subject)} is not valid at iat ${when} (valid ${offender.notBefore.toISOString()} to ${offender.notAfter.toISOString()})`)
      .join("; "),
    { subject: first.subject, notBefore: first.notBefore.toISOString(), notAfter: first.notAfter.toISOString() },
  );
}
