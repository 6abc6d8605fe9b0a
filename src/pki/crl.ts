import "../lib/reflect-metadata";
import { AsnConvert } from "@peculiar/asn1-schema";
import * as asn1X509 from "@peculiar/asn1-x509";
import {
  AuthorityKeyIdentifierExtension,
  Extension,
  KeyUsageFlags,
  Name,
  SubjectKeyIdentifierExtension,
  X509CertificateGenerator,
  X509Crl,
  X509CrlGenerator,
  X509CrlReason,
} from "@peculiar/x509";
import type { SigningAuthority } from "./authority";
import { basicConstraints, keyIdentifierExtensions, keyUsage } from "./extensions";
import { generateKeyPair } from "./keys";
import { encodePem, PEM_TYPES } from "./pem";
import { SHAKEN_SIGNING_ALGORITHM } from "./profile";
import { randomSerialNumber } from "./serial";

export interface RevokedCertificate {
  /** Hex serial number, as `X509Certificate.serialNumber` gives it. */
  serialNumber: string;
  revocationDate: Date;
  reason?: X509CrlReason;
  /**
   * Indirect CRLs only: the distinguished name of the CA that issued the certificate, written as the
   * certificateIssuer entry extension (RFC 5280 §5.3.3); it applies to the entries after it too.
   */
  certificateIssuer?: string;
}

export interface CrlOptions {
  issuer: SigningAuthority;
  revoked: RevokedCertificate[];
  thisUpdate: Date;
  nextUpdate: Date;
  /** Monotonic CRL number (RFC 5280 §5.2.3), so relying parties can tell the newer CRL. */
  crlNumber: number;
  /**
   * An Issuing Distribution Point (RFC 5280 §5.2.5, critical), e.g. `{ indirectCRL: true }` for an
   * indirect CRL as the STI-PA publishes for the certificates of every STI-CA (spec digest §7), or a
   * scope (`onlyContainsCACerts`, `onlySomeReasons`, `distributionPoint`).
   */
  issuingDistributionPoint?: Partial<asn1X509.IssuingDistributionPoint>;
  /** Further CRL extensions, e.g. a deltaCRLIndicator (RFC 5280 §5.2.4) a verifier must not take for a complete CRL. */
  extensions?: Extension[];
}

const directoryName = (name: string) => new asn1X509.GeneralName({ directoryName: AsnConvert.parse(new Name(name).toArrayBuffer(), asn1X509.Name) });

const issuingDistributionPointExtension = (point: Partial<asn1X509.IssuingDistributionPoint>) =>
  new Extension(asn1X509.id_ce_issuingDistributionPoint, true, AsnConvert.serialize(new asn1X509.IssuingDistributionPoint(point)));

/** RFC 5280 §5.3.3: certificateIssuer is always critical. */
const certificateIssuerExtension = (issuer: string) =>
  new Extension(asn1X509.id_ce_certificateIssuer, true, AsnConvert.serialize(new asn1X509.CertificateIssuer([directoryName(issuer)])));

/** A v2 CRL (RFC 5280 §5) with AKI and CRL number, signed ecdsa-with-SHA256 by the issuer. */
export async function createCrl(options: CrlOptions): Promise<X509Crl> {
  const issuerKeyIdentifier = options.issuer.certificate.getExtension(SubjectKeyIdentifierExtension);
  const extensions = [
    new Extension(asn1X509.id_ce_cRLNumber, false, AsnConvert.serialize(new asn1X509.CRLNumber(options.crlNumber))),
    ...(issuerKeyIdentifier ? [new AuthorityKeyIdentifierExtension(issuerKeyIdentifier.keyId)] : []),
    ...(options.issuingDistributionPoint ? [issuingDistributionPointExtension(options.issuingDistributionPoint)] : []),
    ...(options.extensions ?? []),
  ];
  return X509CrlGenerator.create({
    issuer: options.issuer.certificate.subjectName,
    thisUpdate: options.thisUpdate,
    nextUpdate: options.nextUpdate,
    signingKey: options.issuer.privateKey,
    signingAlgorithm: SHAKEN_SIGNING_ALGORITHM,
    extensions,
    // The generator's own `issuer` entry option writes the CRL's issuer, not the entry's: built here instead.
    entries: options.revoked.map((entry) => ({
      serialNumber: entry.serialNumber,
      revocationDate: entry.revocationDate,
      reason: entry.reason,
      extensions: entry.certificateIssuer === undefined ? undefined : [certificateIssuerExtension(entry.certificateIssuer)],
    })),
  });
}

export interface CrlSignerOptions {
  /** Distinguished name, e.g. `C=US, O=STI-PA, CN=STI-PA CRL` (the cRLIssuer SHAKEN leaves name). */
  subject: string;
  notBefore: Date;
  notAfter: Date;
}

/**
 * A self-signed certificate whose key signs CRLs only (KeyUsage cRLSign, critical; not a CA), standing
 * for the STI-PA's CRL signer: relying parties trust it explicitly (`trust add --crl-signer`).
 */
export async function createCrlSigner(options: CrlSignerOptions): Promise<SigningAuthority> {
  const keys = await generateKeyPair();
  const certificate = await X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: options.subject,
    issuer: options.subject,
    notBefore: options.notBefore,
    notAfter: options.notAfter,
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    signingAlgorithm: SHAKEN_SIGNING_ALGORITHM,
    extensions: [basicConstraints(false), keyUsage(KeyUsageFlags.cRLSign), ...(await keyIdentifierExtensions(keys.publicKey))],
  });
  return { certificate, privateKey: keys.privateKey };
}

/** The CRL number of an existing CRL, to issue the next one; 0 when absent. */
export function readCrlNumber(crl: X509Crl): number {
  const extension = crl.getExtension(asn1X509.id_ce_cRLNumber);
  return extension ? AsnConvert.parse(extension.value, asn1X509.CRLNumber).value : 0;
}

/** The revoked entries of a CRL, so a new CRL can carry them forward. */
export const revokedEntries = (crl: X509Crl): RevokedCertificate[] =>
  crl.entries.map((entry) => ({ serialNumber: entry.serialNumber, revocationDate: entry.revocationDate, reason: entry.reason }));

/** PEM with the RFC 7468 label `X509 CRL` (the library's own toString writes `CRL`, which OpenSSL refuses). */
export const encodeCrlPem = (crl: X509Crl): string => encodePem(crl.rawData, PEM_TYPES.crl);
