import "../lib/reflect-metadata";
import { AsnConvert } from "@peculiar/asn1-schema";
import * as asn1X509 from "@peculiar/asn1-x509";
import type { Name } from "@peculiar/x509";

/**
 * A distinguished name in the form RFC 5280 §7.1 compares names in: the RDNs in order, the attributes
 * of each RDN as a set, and each string value prepared as RFC 4518 §2 asks for the caseIgnoreMatch of
 * PrintableString and UTF8String values (Unicode NFKC, case folded, insignificant space removed).
 * Two names match when their forms are equal. A value that is not a string is compared by its bytes.
 * @peculiar/x509 compares names only as rendered text, which tells `O=Acme` from `O=ACME` and a
 * doubled space from a single one, where RFC 5280 sees one name.
 */
export function comparableName(name: Name): string {
  const rdns = AsnConvert.parse(name.toArrayBuffer(), asn1X509.Name);
  return JSON.stringify(rdns.map((rdn) => rdn.map((attribute) => `${attribute.type}=${preparedValue(attribute.value)}`).sort()));
}

function preparedValue(value: asn1X509.AttributeValue): string {
  if (value.anyValue) return `#${new Uint8Array(value.anyValue).join(",")}`;
  return value.toString().normalize("NFKC").toLowerCase().replace(/\s+/gu, " ").trim();
}
