import "../lib/reflect-metadata";
import { AsnConvert } from "@peculiar/asn1-schema";
import * as asn1X509 from "@peculiar/asn1-x509";
import type { Name, X509Certificate } from "@peculiar/x509";

/**
 * A distinguished name in the form RFC 5280 §7.1 compares names in: the RDNs in order, the attributes
 * of each RDN as a set, and each string value prepared as RFC 4518 §2 asks for the caseIgnoreMatch of
 * PrintableString and UTF8String values (Unicode NFKC, case folded, insignificant space removed).
 * Two names match when their forms are equal. A value that is not a string is compared by its bytes.
 * @peculiar/x509 compares names only as rendered text, which tells `O=Acme` from `O=ACME` and a
 * doubled space from a single one, where RFC 5280 sees one name.
 */
export function comparableName(name: Name): string {
  return comparableAsnName(AsnConvert.parse(name.toArrayBuffer(), asn1X509.Name));
}

/** `comparableName` of a name already decoded (a CRL's certificateIssuer, a distribution point's directoryName). */
export function comparableAsnName(rdns: asn1X509.Name): string {
  return JSON.stringify(rdns.map((rdn) => rdn.map((attribute) => `${attribute.type}=${preparedValue(attribute.value)}`).sort()));
}

const certificateNames = new WeakMap<X509Certificate, { subject: string; issuer: string }>();

/** A certificate's subject and issuer as `comparableName` gives them; computed once per certificate. */
export function comparableNamesOf(certificate: X509Certificate): { subject: string; issuer: string } {
  let names = certificateNames.get(certificate);
  if (!names) {
    names = { subject: comparableName(certificate.subjectName), issuer: comparableName(certificate.issuerName) };
    certificateNames.set(certificate, names);
  }
  return names;
}

function preparedValue(value: asn1X509.AttributeValue): string {
  if (value.anyValue) return `#${new Uint8Array(value.anyValue).join(",")}`;
  return value.toString().normalize("NFKC").toLowerCase().replace(/\s+/gu, " ").trim();
}
