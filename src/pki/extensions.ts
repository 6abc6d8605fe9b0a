import "../lib/reflect-metadata";
import { AsnConvert } from "@peculiar/asn1-schema";
import * as asn1X509 from "@peculiar/asn1-x509";
import {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  Extension,
  KeyUsageFlags,
  KeyUsagesExtension,
  Name,
  SubjectKeyIdentifierExtension,
  type X509Certificate,
} from "@peculiar/x509";

/**
 * The extensions every certificate of the SHAKEN PKI carries: BasicConstraints and KeyUsage, both
 * critical (ATIS-1000080 v005 §6.4.1 / §6.4.2), the SKI (160-bit SHA-1 of the key, RFC 5280 §4.2.1.2
 * method 1) and, below a root, the AKI naming the issuer's key.
 */
export async function keyIdentifierExtensions(subjectPublicKey: CryptoKey, issuer?: X509Certificate): Promise<Extension[]> {
  const subjectKeyIdentifier = await SubjectKeyIdentifierExtension.create(subjectPublicKey);
  if (!issuer) return [subjectKeyIdentifier];
  const issuerKeyIdentifier = issuer.getExtension(SubjectKeyIdentifierExtension);
  const authorityKeyIdentifier = issuerKeyIdentifier
    ? new AuthorityKeyIdentifierExtension(issuerKeyIdentifier.keyId)
    : await AuthorityKeyIdentifierExtension.create(issuer.publicKey);
  return [subjectKeyIdentifier, authorityKeyIdentifier];
}

/** Critical in every SHAKEN certificate; `pathLength` 0 on an issuing CA so it cannot sign sub-CAs. */
export function basicConstraints(ca: boolean, pathLength?: number): Extension {
  return new BasicConstraintsExtension(ca, pathLength, true);
}

export function keyUsage(usages: KeyUsageFlags, critical = true): Extension {
  return new KeyUsagesExtension(usages, critical);
}

export interface CrlDistributionPoint {
  /** HTTP(S) URL of the CRL (ATIS-1000080 v005 §6.4.1). */
  url: string;
  /**
   * Distinguished name of the CRL issuer (the STI-PA in production; indirect CRL, spec §7). `null`
   * leaves cRLIssuer out, as many live certificates do: then only the issuer's own CRL covers it.
   */
  crlIssuer: string | null;
}

/** ATIS-1000080 v005 §6.4.1: exactly one distribution point, a URL plus a cRLIssuer. */
export function crlDistributionPoints(point: CrlDistributionPoint): Extension {
  const distributionPoint = new asn1X509.DistributionPoint({
    distributionPoint: new asn1X509.DistributionPointName({
      fullName: [new asn1X509.GeneralName({ uniformResourceIdentifier: point.url })],
    }),
    cRLIssuer: point.crlIssuer === null ? undefined : [new asn1X509.GeneralName({ directoryName: AsnConvert.parse(new Name(point.crlIssuer).toArrayBuffer(), asn1X509.Name) })],
  });
  return new Extension(
    asn1X509.id_ce_cRLDistributionPoints,
    false,
    AsnConvert.serialize(new asn1X509.CRLDistributionPoints([distributionPoint])),
  );
}

/**
 * An extension no relying party processes, marked critical: RFC 5280 §4.2 has a verifier refuse the
 * certificate that carries it. For the path-validation fixtures; the value is an ASN.1 NULL.
 */
export function unprocessableCriticalExtension(oid: string): Extension {
  return new Extension(oid, true, new Uint8Array([0x05, 0x00]));
}
