import "../lib/reflect-metadata";
import { CertificatePolicyExtension, Extension, type JsonName, KeyUsageFlags, type X509Certificate, X509CertificateGenerator, type Pkcs10CertificateRequest } from "@peculiar/x509";
import { encodeBareServiceProviderCode, TN_AUTH_LIST_OID, type TnAuthListEntry } from "../certificate/tnauthlist";
import type { SigningAuthority } from "./authority";
import { readShakenCsr, shakenSubjectName, tnAuthListExtension, type ShakenSubject } from "./csr";
import { applySigningDeviations, deviateExtensions, serialNumberFor, signingAlgorithmFor, type CertificateDeviations } from "./deviations";
import { basicConstraints, crlDistributionPoints, keyIdentifierExtensions, keyUsage, unprocessableCriticalExtension, type CrlDistributionPoint } from "./extensions";
import { assertServiceProviderCode, DEFAULT_SHAKEN_POLICY_OID, type ShakenPolicyOid } from "./profile";

/**
 * Departures from the v005 profile, each named. They exist so that lint and verification tests can
 * build the broken certificates seen in the wild with the same code path as the good ones.
 */
export interface ProfileDeviations extends CertificateDeviations {
  /** BasicConstraints CA=TRUE on an end-entity certificate. */
  basicConstraintsCa?: boolean;
  /** KeyUsage not marked critical. */
  keyUsageNotCritical?: boolean;
  /** Replace the TNAuthList (ranges, TNs, several or malformed SPCs), or `null` to leave it out. */
  tnAuthList?: TnAuthListEntry[] | null;
  /** The TNAuthList as one SPC in a bare IA5String (libstirshaken's form) or PrintableString, not RFC 8226's SEQUENCE. */
  bareTnAuthList?: { spc: string; type: "ia5" | "printable" };
  omitCrlDistributionPoint?: boolean;
  omitCertificatePolicies?: boolean;
  /** This subject DN instead of C, O and CN "SHAKEN <SPC>" (other attributes, several or none of one, another CN). */
  subject?: JsonName;
  /** An extension with this OID that no verifier processes, marked critical (RFC 5280 §4.2). */
  unprocessableCriticalExtension?: string;
}

export interface EndEntityOptions {
  issuer: SigningAuthority;
  notBefore: Date;
  notAfter: Date;
  crlDistributionPoint: CrlDistributionPoint;
  policy?: ShakenPolicyOid;
}

export interface IssueShakenCertificateOptions extends EndEntityOptions, ShakenSubject {
  subjectPublicKey: CryptoKey;
  deviations?: ProfileDeviations;
}

/**
 * An end-entity SHAKEN certificate per ATIS-1000080 v005 §6.4.1: CN "SHAKEN <SPC>", O, C; critical
 * BasicConstraints CA=FALSE and KeyUsage digitalSignature; SKI/AKI; one SHAKEN policy; one CRL DP
 * with cRLIssuer; a TNAuthList with the one SPC; a random 127-bit serial; ecdsa-with-SHA256.
 */
export async function issueShakenCertificate(options: IssueShakenCertificateOptions): Promise<X509Certificate> {
  const deviations = options.deviations ?? {};
  if (deviations.tnAuthList === undefined && deviations.bareTnAuthList === undefined) assertServiceProviderCode(options.spc);
  const extensions = deviateExtensions([
    basicConstraints(deviations.basicConstraintsCa ?? false),
    keyUsage(KeyUsageFlags.digitalSignature, !deviations.keyUsageNotCritical),
    ...(await keyIdentifierExtensions(options.subjectPublicKey, options.issuer.certificate)),
    ...(deviations.omitCertificatePolicies ? [] : [new CertificatePolicyExtension([options.policy ?? DEFAULT_SHAKEN_POLICY_OID])]),
    ...(deviations.omitCrlDistributionPoint ? [] : [crlDistributionPoints(options.crlDistributionPoint)]),
    ...leafTnAuthList(options.spc, deviations),
    ...(deviations.unprocessableCriticalExtension ? [unprocessableCriticalExtension(deviations.unprocessableCriticalExtension)] : []),
  ], deviations);
  const certificate = await X509CertificateGenerator.create({
    serialNumber: serialNumberFor(deviations),
    subject: deviations.subject ?? shakenSubjectName(options),
    issuer: options.issuer.certificate.subjectName,
    notBefore: options.notBefore,
    notAfter: options.notAfter,
    publicKey: options.subjectPublicKey,
    signingKey: options.issuer.privateKey,
    signingAlgorithm: signingAlgorithmFor(deviations),
    extensions,
  });
  return applySigningDeviations(certificate, options.issuer.privateKey, deviations);
}

/** The leaf's TNAuthList extension: its one SPC, or what a deviation puts in its place. */
function leafTnAuthList(spc: string, deviations: ProfileDeviations): Extension[] {
  const bare = deviations.bareTnAuthList;
  if (bare) return [new Extension(TN_AUTH_LIST_OID, false, encodeBareServiceProviderCode(bare.spc, bare.type))];
  if (deviations.tnAuthList === null) return [];
  return [tnAuthListExtension(deviations.tnAuthList ?? [{ spc }])];
}

/** Issues from a verified PKCS#10 request: the SPC, O and C come from the request. */
export async function issueShakenCertificateFromCsr(csr: Pkcs10CertificateRequest, options: EndEntityOptions): Promise<X509Certificate> {
  const request = await readShakenCsr(csr);
  return issueShakenCertificate({ ...options, ...request, subjectPublicKey: request.publicKey });
}
