import "../lib/reflect-metadata";
import { AsnConvert } from "@peculiar/asn1-schema";
import * as asn1X509 from "@peculiar/asn1-x509";
import { BasicConstraintsExtension, CRLDistributionPointsExtension, KeyUsageFlags, KeyUsagesExtension, Name, X509CrlReason, type X509Certificate, type X509Crl } from "@peculiar/x509";
import type { TrustedPath } from "./chain";
import { comparableAsnName, comparableName, comparableNamesOf } from "./distinguished-name";

/**
 * Revocation per RFC 5280 §5 and §6.3, as SHAKEN needs it. The SHAKEN CRL is published by the STI-PA,
 * not by the certificate's issuer: an *indirect* CRL (spec digest §7; Asterisk #809 broke on exactly
 * this), which a certificate points at with the cRLIssuer of its CRL distribution point. So a CRL
 * speaks for a certificate when it is its issuer's own CRL, or when it is indirect and the certificate
 * names its issuer; it is believed only when its signature verifies with a key trusted to sign it;
 * and its entries name a certificate by issuer *and* serial number. Names are matched as RFC 5280 §7.1
 * compares them (src/certificate/distinguished-name.ts), as path validation matches them: a CRL whose
 * issuer is spelt with another case or spacing than the certificate's issuer field is still its
 * issuer's CRL, and its entries still revoke.
 */

/** How a CRL appears in a verdict's evidence. */
export interface CrlEvidence {
  issuer: string;
  /** RFC 5280 §5.2.3, in decimal (a CRL number may be 20 octets long); null when the CRL has none. */
  crlNumber: string | null;
  thisUpdate: string;
  nextUpdate: string | null;
}

/** What one CRL says, read once per CRL. */
export interface CrlReading {
  crl: X509Crl;
  /** The CRL's issuer as rendered, for evidence. */
  issuer: string;
  /** The CRL's issuer as names are compared (`comparableName`). */
  issuerName: string;
  crlNumber: bigint | null;
  thisUpdate: number;
  nextUpdate: number | null;
  /** RFC 5280 §5.2.5: the Issuing Distribution Point says indirectCRL. */
  indirect: boolean;
  /**
   * Which certificates the IDP limits the CRL to (RFC 5280 §5.2.5, §6.3.3 (b)(2)). `distributionPoint`:
   * the names of the one distribution point the CRL is for, as `pointNames` writes them, or null when
   * the IDP names none.
   */
  scope: { userCertificatesOnly: boolean; caCertificatesOnly: boolean; attributeCertificatesOnly: boolean; someReasonsOnly: boolean; distributionPoint: string[] | null };
  /** Why the CRL cannot be used at all (RFC 5280 §5.2: a critical extension this verifier does not process), or null. */
  unusable: string | null;
  /** Revoked serial numbers, each with the issuers whose certificate of that serial is revoked, and when. */
  revoked: Map<string, { issuer: string; revokedAt: Date }[]>;
  evidence: CrlEvidence;
}

const OID = {
  issuingDistributionPoint: asn1X509.id_ce_issuingDistributionPoint,
  certificateIssuer: asn1X509.id_ce_certificateIssuer,
  deltaCrlIndicator: asn1X509.id_ce_deltaCRLIndicator,
  crlNumber: asn1X509.id_ce_cRLNumber,
} as const;

/** Directory names as rendered, for messages and evidence. */
const renderedDirectoryNames = (names: asn1X509.GeneralName[] | undefined): string[] =>
  (names ?? []).flatMap((name) => (name.directoryName ? [new Name(AsnConvert.serialize(name.directoryName)).toString()] : []));
/** Directory names in the form they are compared in (`comparableName`). */
const directoryNames = (names: asn1X509.GeneralName[] | undefined): string[] => (names ?? []).flatMap((name) => (name.directoryName ? [comparableAsnName(name.directoryName)] : []));
/**
 * The names of a distribution point as RFC 5280 §6.3.3 (b)(2)(i) compares them: its URIs and its
 * directory names, each tagged with its form. Names of other forms are compared with nothing.
 */
const pointNames = (names: asn1X509.GeneralName[] | undefined): string[] =>
  (names ?? []).flatMap((name) => {
    if (name.uniformResourceIdentifier) return [`URI:${name.uniformResourceIdentifier}`];
    return name.directoryName ? [asPointName(comparableAsnName(name.directoryName))] : [];
  });
/** A directory name as `pointNames` writes it. */
const asPointName = (directoryName: string): string => `DirName:${directoryName}`;

const readings = new WeakMap<X509Crl, CrlReading>();

/** Reads a CRL's issuer, number, dates, scope and entries; once per CRL object. */
export function readCrl(crl: X509Crl): CrlReading {
  let reading = readings.get(crl);
  if (!reading) {
    reading = computeReading(crl);
    readings.set(crl, reading);
  }
  return reading;
}

function computeReading(crl: X509Crl): CrlReading {
  const issuer = crl.issuer;
  const issuerName = comparableName(crl.issuerName);
  const numberExtension = crl.getExtension(OID.crlNumber);
  const crlNumber = numberExtension ? BigInt(String(AsnConvert.parse(numberExtension.value, asn1X509.CRLNumber).value)) : null;
  const idpExtension = crl.getExtension(OID.issuingDistributionPoint);
  const idp = idpExtension ? AsnConvert.parse(idpExtension.value, asn1X509.IssuingDistributionPoint) : null;
  const indirect = idp?.indirectCRL === true;
  let unusable = unprocessedCriticalExtension(crl.extensions, [OID.issuingDistributionPoint]);
  if (crl.getExtension(OID.deltaCrlIndicator)) unusable = "it is a delta CRL, which lists changes only";
  if (idp?.distributionPoint?.nameRelativeToCRLIssuer) unusable ??= "its Issuing Distribution Point names a distribution point relative to the issuer, which this verifier does not match";

  const revoked = new Map<string, { issuer: string; revokedAt: Date }[]>();
  // Each entry's issuer, as names are compared. RFC 5280 §5.3.3: in an indirect CRL an entry's
  // certificateIssuer names the issuer of that entry and of every entry after it, until the next one;
  // entries before the first are the CRL issuer's. A direct CRL speaks only for its own issuer's certificates.
  let entryIssuer = issuerName;
  for (const entry of crl.entries) {
    unusable ??= unprocessedCriticalExtension(entry.extensions, [OID.certificateIssuer]);
    const named = indirect ? entry.extensions.find((extension) => extension.type === OID.certificateIssuer) : undefined;
    if (named) entryIssuer = directoryNames(AsnConvert.parse(named.value, asn1X509.CertificateIssuer))[0] ?? entryIssuer;
    // removeFromCRL (RFC 5280 §5.3.1) appears in delta CRLs only: it says the serial is no longer revoked.
    if (entry.reason === X509CrlReason.removeFromCRL) continue;
    const listed = revoked.get(entry.serialNumber) ?? [];
    listed.push({ issuer: entryIssuer, revokedAt: entry.revocationDate });
    revoked.set(entry.serialNumber, listed);
  }
  const thisUpdate = crl.thisUpdate.getTime();
  const nextUpdate = crl.nextUpdate?.getTime() ?? null;
  return {
    crl,
    issuer,
    issuerName,
    crlNumber,
    thisUpdate,
    nextUpdate,
    indirect,
    scope: {
      userCertificatesOnly: idp?.onlyContainsUserCerts === true,
      caCertificatesOnly: idp?.onlyContainsCACerts === true,
      attributeCertificatesOnly: idp?.onlyContainsAttributeCerts === true,
      someReasonsOnly: idp?.onlySomeReasons !== undefined,
      distributionPoint: idp?.distributionPoint ? pointNames(idp.distributionPoint.fullName) : null,
    },
    unusable,
    revoked,
    evidence: {
      issuer,
      crlNumber: crlNumber === null ? null : String(crlNumber),
      thisUpdate: new Date(thisUpdate).toISOString(),
      nextUpdate: nextUpdate === null ? null : new Date(nextUpdate).toISOString(),
    },
  };
}

function unprocessedCriticalExtension(extensions: readonly { type: string; critical: boolean }[], processed: string[]): string | null {
  const unknown = extensions.find((extension) => extension.critical && !processed.includes(extension.type));
  return unknown ? `it carries the critical extension ${unknown.type}, which this verifier does not process (RFC 5280 §5.2)` : null;
}

/**
 * One of a certificate's CRL distribution points: where its status is published (its names, as
 * `pointNames` writes them; null when the point gives none, §4.2.1.13), and by whom (cRLIssuer).
 */
interface DistributionPoint {
  names: string[] | null;
  crlIssuers: string[];
  /** The same, as rendered. */
  crlIssuersRendered: string[];
}

const distributionPoints = new WeakMap<X509Certificate, DistributionPoint[]>();

/**
 * Read from the library's decoding of the extension: a certificate whose extensions do not decode
 * never reaches revocation, since path validation refuses it first (chain.ts, readConstraints).
 */
function distributionPointsOf(certificate: X509Certificate): DistributionPoint[] {
  let points = distributionPoints.get(certificate);
  if (!points) {
    points = (certificate.getExtension(CRLDistributionPointsExtension)?.distributionPoints ?? []).map((point) => ({
      names: point.distributionPoint ? pointNames(point.distributionPoint.fullName) : null,
      crlIssuers: directoryNames(point.cRLIssuer),
      crlIssuersRendered: renderedDirectoryNames(point.cRLIssuer),
    }));
    distributionPoints.set(certificate, points);
  }
  return points;
}

const isCertificateAuthority = (certificate: X509Certificate): boolean => certificate.getExtension(BasicConstraintsExtension)?.ca === true;

/**
 * Does the CRL speak for this certificate? RFC 5280 §6.3.3 (b): its issuer's own CRL, or an indirect
 * CRL whose issuer the certificate names in the cRLIssuer of a distribution point; then within the
 * scope its IDP draws: user or CA certificates, and, when the IDP names a distribution point, one of
 * the certificate's that shares a name with it; a certificate's point that gives no name of its own
 * is named by its cRLIssuer (§6.3.3 (b)(2)(i)). A partitioned CRL does not speak for the certificates
 * of another partition, so it can never vouch that one of them is not revoked.
 */
export function crlSpeaksFor(reading: CrlReading, certificate: X509Certificate): boolean {
  const points = distributionPointsOf(certificate);
  const issuedBy = reading.issuerName === comparableNamesOf(certificate).issuer || (reading.indirect && points.some((point) => point.crlIssuers.includes(reading.issuerName)));
  if (!issuedBy) return false;
  const { scope } = reading;
  const authority = isCertificateAuthority(certificate);
  if (scope.attributeCertificatesOnly || (scope.userCertificatesOnly && authority) || (scope.caCertificatesOnly && !authority)) return false;
  const wanted = scope.distributionPoint;
  if (wanted === null) return true;
  return points.some((point) => (point.names ?? point.crlIssuers.map(asPointName)).some((name) => wanted.includes(name)));
}

/** The CRL's entry for this certificate, matched by issuer and serial number; null when it is not listed. */
export function revocationEntry(reading: CrlReading, certificate: X509Certificate): { revokedAt: Date } | null {
  const issuer = comparableNamesOf(certificate).issuer;
  return reading.revoked.get(certificate.serialNumber)?.find((entry) => entry.issuer === issuer) ?? null;
}

// Keyed by CRL, then by signer: a CRL shared by many paths (the STI-PA's) is verified once per signer.
const signatures = new WeakMap<X509Crl, WeakMap<X509Certificate, Promise<boolean>>>();

/** RFC 5280 §6.3.3 (f), (j): the CRL verifies with the signer's key, and the signer may sign CRLs (keyUsage cRLSign when present, §4.2.1.3). */
export function crlSignedBy(crl: X509Crl, signer: X509Certificate): Promise<boolean> {
  let bySigner = signatures.get(crl);
  if (!bySigner) signatures.set(crl, (bySigner = new WeakMap()));
  let verified = bySigner.get(signer);
  if (!verified) {
    verified = verifyCrlSignature(crl, signer);
    bySigner.set(signer, verified);
  }
  return verified;
}

/** RFC 5280 §4.2.1.3: a key whose keyUsage is given signs CRLs only with cRLSign. */
export function maySignCrls(certificate: X509Certificate): boolean {
  const keyUsage = certificate.getExtension(KeyUsagesExtension);
  return !keyUsage || (keyUsage.usages & KeyUsageFlags.cRLSign) !== 0;
}

async function verifyCrlSignature(crl: X509Crl, signer: X509Certificate): Promise<boolean> {
  if (!maySignCrls(signer)) return false;
  try {
    return await crl.verify({ publicKey: signer.publicKey });
  } catch {
    return false; // a key or algorithm the runtime cannot use signs nothing
  }
}

/** The first of `candidates` named as the CRL's issuer that signed it, or null. */
export async function findCrlSigner(crl: X509Crl, candidates: readonly X509Certificate[]): Promise<X509Certificate | null> {
  const { issuerName } = readCrl(crl);
  for (const candidate of candidates) {
    if (comparableNamesOf(candidate).subject === issuerName && (await crlSignedBy(crl, candidate))) return candidate;
  }
  return null;
}

/** What the loaded CRLs say about one validated path. */
export interface RevocationStatus {
  /** A certificate of the path listed on a verified CRL that speaks for it. */
  revoked: { certificate: X509Certificate; revokedAt: Date; crl: CrlReading } | null;
  /** The verified CRLs that speak for the signing certificate: a current one among them is the evidence. */
  leafCrls: CrlReading[];
  /** CRLs that speak for a certificate of the path but cannot be believed, and why. */
  ignored: { crl: CrlEvidence; reason: string }[];
}

/** The trust set's part in revocation: who may sign CRLs, and the CRLs. */
export interface RevocationTrust {
  anchors: X509Certificate[];
  crlSigners: X509Certificate[];
  crls: X509Crl[];
}

// The status depends only on the path and the trust set, which the trust store replaces (new arrays)
// when it changes: computed once per pair, so a warm call pays a map lookup (issue 6).
const statuses = new WeakMap<TrustedPath, { crls: X509Crl[]; status: Promise<RevocationStatus> }>();

export function revocationStatus(path: TrustedPath, trust: RevocationTrust): Promise<RevocationStatus> {
  const known = statuses.get(path);
  if (known?.crls === trust.crls) return known.status;
  const status = computeStatus(path, trust);
  statuses.set(path, { crls: trust.crls, status });
  return status;
}

/**
 * Every certificate of the path below the anchor (a trust anchor is trusted by configuration, RFC 5280
 * §6.1) is looked up on every CRL that speaks for it. A CRL is believed when it verifies with a key
 * trusted to sign it: the certificate's issuer in the validated path, for the issuer's own CRL; or a
 * certificate of the trust set bearing the CRL issuer's name (a CRL signer the operator added, as the
 * STI-PA's is, or an anchor).
 */
async function computeStatus(path: TrustedPath, trust: RevocationTrust): Promise<RevocationStatus> {
  const status: RevocationStatus = { revoked: null, leafCrls: [], ignored: [] };
  const trustedSigners = [...trust.anchors, ...trust.crlSigners];
  const covered = path.certificates.slice(0, -1);
  for (const [index, certificate] of covered.entries()) {
    const issuerInPath = path.certificates[index + 1]!;
    for (const crl of trust.crls) {
      const reading = readCrl(crl);
      if (!crlSpeaksFor(reading, certificate)) continue;
      if (reading.unusable) {
        status.ignored.push({ crl: reading.evidence, reason: reading.unusable });
        continue;
      }
      const candidates = reading.issuerName === comparableNamesOf(certificate).issuer ? [issuerInPath, ...trustedSigners] : trustedSigners;
      if (!(await findCrlSigner(crl, candidates))) {
        status.ignored.push({ crl: reading.evidence, reason: "its signature does not verify with a key trusted to sign it" });
        continue;
      }
      const entry = revocationEntry(reading, certificate);
      if (entry && !status.revoked) status.revoked = { certificate, revokedAt: entry.revokedAt, crl: reading };
      // A CRL limited to some reasons still revokes, but cannot say that a certificate is not revoked.
      if (index === 0 && !reading.scope.someReasonsOnly) status.leafCrls.push(reading);
    }
  }
  return status;
}

export type RevocationJudgement =
  | { result: "revoked"; certificate: X509Certificate; revokedAt: Date; crl: CrlEvidence }
  | { result: "not-revoked"; crl: CrlEvidence }
  | { result: "unknown"; reason: string; evidence: Record<string, unknown> };

/** Why a CRL is not current at `nowMs` (RFC 5280 §5.1.2.4, §5.1.2.5), or null when it is. */
function notCurrentBecause(reading: CrlReading, nowMs: number): string | null {
  if (reading.thisUpdate > nowMs) return `its thisUpdate ${reading.evidence.thisUpdate} is in the future`;
  if (reading.nextUpdate === null) return "it names no nextUpdate (RFC 5280 §5.1.2.5)";
  if (reading.nextUpdate < nowMs) return `it is past its nextUpdate ${reading.evidence.nextUpdate}`;
  return null;
}

const describeCrl = (crl: CrlEvidence) => `the CRL of '${crl.issuer}'${crl.crlNumber === null ? "" : ` (#${crl.crlNumber})`}`;

/**
 * The answer at `nowMs`: revoked whatever the CRL's age (a revocation is not undone by time); not
 * revoked on the word of a current CRL that speaks for the signing certificate; otherwise unknown,
 * saying why (no CRL speaks for it, or the ones that do are stale or not believed).
 */
export function judgeRevocation(status: RevocationStatus, leaf: X509Certificate, nowMs: number): RevocationJudgement {
  if (status.revoked) return { result: "revoked", certificate: status.revoked.certificate, revokedAt: status.revoked.revokedAt, crl: status.revoked.crl.evidence };
  const current = status.leafCrls.find((reading) => notCurrentBecause(reading, nowMs) === null);
  if (current) return { result: "not-revoked", crl: current.evidence };
  const stale = status.leafCrls.map((reading) => `${describeCrl(reading.evidence)} is not current: ${notCurrentBecause(reading, nowMs)}`);
  const ignored = status.ignored.map((entry) => `${describeCrl(entry.crl)} was ignored: ${entry.reason}`);
  const crlIssuers = distributionPointsOf(leaf).flatMap((point) => point.crlIssuersRendered);
  const reasons = stale.length > 0 ? stale : [`no loaded CRL covers the signing certificate (issuer '${leaf.issuer}'${crlIssuers.length > 0 ? `, cRLIssuer '${crlIssuers.join("', '")}'` : ""})`];
  return {
    result: "unknown",
    reason: [...reasons, ...ignored].join("; "),
    evidence: { issuer: leaf.issuer, crlIssuers, stale: status.leafCrls.map((reading) => reading.evidence), ignored: status.ignored },
  };
}
