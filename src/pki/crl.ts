import "../lib/reflect-metadata";
import { AsnConvert } from "@peculiar/asn1-schema";
import * as asn1X509 from "@peculiar/asn1-x509";
import { AuthorityKeyIdentifierExtension, Extension, SubjectKeyIdentifierExtension, X509Crl, X509CrlGenerator, X509CrlReason } from "@peculiar/x509";
import type { SigningAuthority } from "./authority";
import { encodePem, PEM_TYPES } from "./pem";
import { SHAKEN_SIGNING_ALGORITHM } from "./profile";

export interface RevokedCertificate {
  /** Hex serial number, as `X509Certificate.serialNumber` gives it. */
  serialNumber: string;
  revocationDate: Date;
  reason?: X509CrlReason;
}

export interface CrlOptions {
  issuer: SigningAuthority;
  revoked: RevokedCertificate[];
  thisUpdate: Date;
  nextUpdate: Date;
  /** Monotonic CRL number (RFC 5280 §5.2.3), so relying parties can tell the newer CRL. */
  crlNumber: number;
}

/** A v2 CRL (RFC 5280 §5) with AKI and CRL number, signed ecdsa-with-SHA256 by the issuer. */
export async function createCrl(options: CrlOptions): Promise<X509Crl> {
  const issuerKeyIdentifier = options.issuer.certificate.getExtension(SubjectKeyIdentifierExtension);
  const extensions = [
    new Extension(asn1X509.id_ce_cRLNumber, false, AsnConvert.serialize(new asn1X509.CRLNumber(options.crlNumber))),
    ...(issuerKeyIdentifier ? [new AuthorityKeyIdentifierExtension(issuerKeyIdentifier.keyId)] : []),
  ];
  return X509CrlGenerator.create({
    issuer: options.issuer.certificate.subjectName,
    thisUpdate: options.thisUpdate,
    nextUpdate: options.nextUpdate,
    signingKey: options.issuer.privateKey,
    signingAlgorithm: SHAKEN_SIGNING_ALGORITHM,
    extensions,
    entries: options.revoked.map((entry) => ({ serialNumber: entry.serialNumber, revocationDate: entry.revocationDate, reason: entry.reason })),
  });
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
