import "../lib/reflect-metadata";
import { AsnConvert } from "@peculiar/asn1-schema";
import * as asn1X509 from "@peculiar/asn1-x509";
import {
  AsnEcSignatureFormatter,
  CertificatePolicyExtension,
  Extension,
  KeyUsageFlags,
  X509Certificate,
  X509CertificateGenerator,
  type Pkcs10CertificateRequest,
} from "@peculiar/x509";
import { encodeBareServiceProviderCode, TN_AUTH_LIST_OID, type TnAuthListEntry } from "../certificate/tnauthlist";
import type { SigningAuthority } from "./authority";
import { readShakenCsr, shakenSubjectName, tnAuthListExtension, type ShakenSubject } from "./csr";
import { basicConstraints, crlDistributionPoints, keyIdentifierExtensions, keyUsage, unprocessableCriticalExtension, type CrlDistributionPoint } from "./extensions";
import { assertServiceProviderCode, DEFAULT_SHAKEN_POLICY_OID, SHAKEN_SIGNING_ALGORITHM, type ShakenPolicyOid } from "./profile";
import { randomSerialNumber } from "./serial";

/**
 * Departures from the v005 profile, each named. They exist so that lint and verification tests can
 * build the broken certificates seen in the wild with the same code path as the good ones.
 */
export interface ProfileDeviations {
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
  /** `short`: a 32-bit serial; `negative`: an INTEGER with its sign bit set. */
  serialNumber?: "short" | "negative";
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

const SHORT_SERIAL_NUMBER = "7a5e1f03";

/**
 * An end-entity SHAKEN certificate per ATIS-1000080 v005 §6.4.1: CN "SHAKEN <SPC>", O, C; critical
 * BasicConstraints CA=FALSE and KeyUsage digitalSignature; SKI/AKI; one SHAKEN policy; one CRL DP
 * with cRLIssuer; a TNAuthList with the one SPC; a random 127-bit serial; ecdsa-with-SHA256.
 */
export async function issueShakenCertificate(options: IssueShakenCertificateOptions): Promise<X509Certificate> {
  const deviations = options.deviations ?? {};
  if (deviations.tnAuthList === undefined && deviations.bareTnAuthList === undefined) assertServiceProviderCode(options.spc);
  const extensions = [
    basicConstraints(deviations.basicConstraintsCa ?? false),
    keyUsage(KeyUsageFlags.digitalSignature, !deviations.keyUsageNotCritical),
    ...(await keyIdentifierExtensions(options.subjectPublicKey, options.issuer.certificate)),
    ...(deviations.omitCertificatePolicies ? [] : [new CertificatePolicyExtension([options.policy ?? DEFAULT_SHAKEN_POLICY_OID])]),
    ...(deviations.omitCrlDistributionPoint ? [] : [crlDistributionPoints(options.crlDistributionPoint)]),
    ...leafTnAuthList(options.spc, deviations),
    ...(deviations.unprocessableCriticalExtension ? [unprocessableCriticalExtension(deviations.unprocessableCriticalExtension)] : []),
  ];
  const certificate = await X509CertificateGenerator.create({
    serialNumber: deviations.serialNumber === "short" ? SHORT_SERIAL_NUMBER : randomSerialNumber(),
    subject: shakenSubjectName(options),
    issuer: options.issuer.certificate.subjectName,
    notBefore: options.notBefore,
    notAfter: options.notAfter,
    publicKey: options.subjectPublicKey,
    signingKey: options.issuer.privateKey,
    signingAlgorithm: SHAKEN_SIGNING_ALGORITHM,
    extensions,
  });
  return deviations.serialNumber === "negative" ? resignWithNegativeSerialNumber(certificate, options.issuer.privateKey) : certificate;
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

/**
 * The certificate generator always encodes a positive INTEGER (RFC 5280 §4.1.2.2), which is the
 * point: a negative serial can only be produced by editing the TBSCertificate and signing it again.
 */
async function resignWithNegativeSerialNumber(certificate: X509Certificate, signingKey: CryptoKey): Promise<X509Certificate> {
  const asn = AsnConvert.parse(certificate.rawData, asn1X509.Certificate);
  const serial = new Uint8Array(asn.tbsCertificate.serialNumber);
  serial[0] = (serial[0] ?? 0) | 0x80;
  asn.tbsCertificate.serialNumber = serial.buffer;
  const signature = await crypto.subtle.sign(SHAKEN_SIGNING_ALGORITHM, signingKey, AsnConvert.serialize(asn.tbsCertificate));
  const asnSignature = new AsnEcSignatureFormatter().toAsnSignature({ ...SHAKEN_SIGNING_ALGORITHM, namedCurve: "P-256" } as { name: string }, signature);
  if (!asnSignature) throw new Error("ECDSA signature could not be DER-encoded");
  asn.signatureValue = asnSignature;
  return new X509Certificate(AsnConvert.serialize(asn));
}
