import "../lib/reflect-metadata";
import { AsnConvert } from "@peculiar/asn1-schema";
import * as asn1X509 from "@peculiar/asn1-x509";
import { AsnEcSignatureFormatter, Extension, X509Certificate } from "@peculiar/x509";
import { SHAKEN_SIGNING_ALGORITHM } from "./profile";
import { randomSerialNumber } from "./serial";

/**
 * Departures any certificate can be built with, end-entity or CA, beside the named ones of each
 * profile: they exist so that the lint tests can build every violation of the profile with the same
 * code path as the conforming certificate. Extensions are named by OID.
 */
export interface CertificateDeviations {
  /** Leave out the extensions with these OIDs, the profile's or `extensions`'. */
  omitExtensions?: string[];
  /** These extensions in place of the profile's with the same OID, or after them (a TNAuthList on a CA, an EKU). */
  extensions?: Extension[];
  /** Mark the extensions with these OIDs critical (true) or not (false). */
  critical?: Record<string, boolean>;
  /** `short`: a 32-bit serial; `negative`: an INTEGER with its sign bit set; `zero`: 0; or this one, in hex. */
  serialNumber?: "short" | "negative" | "zero" | `0x${string}`;
  /** Signed ecdsa-with-SHA384, as CAs with P-384 keys under US SHAKEN CP 1.4 §6.1.5 sign. */
  signatureHash?: "SHA-384";
  /** The version field left out, X.509 v1, whatever extensions the certificate carries (RFC 5280 §4.1.2.1 allows none). */
  version1?: boolean;
}

const SHORT_SERIAL_NUMBER = "7a5e1f03";

/** The profile's extensions with the deviations applied. */
export function deviateExtensions(profile: Extension[], deviations: CertificateDeviations): Extension[] {
  const replacements = deviations.extensions ?? [];
  const omitted = new Set(deviations.omitExtensions);
  const kept = profile
    .filter((extension) => !omitted.has(extension.type))
    .map((extension) => replacements.find((replacement) => replacement.type === extension.type) ?? extension);
  const added = replacements.filter((replacement) => !kept.includes(replacement) && !omitted.has(replacement.type));
  return [...kept, ...added].map((extension) => {
    const critical = deviations.critical?.[extension.type];
    return critical === undefined || critical === extension.critical ? extension : new Extension(extension.type, critical, extension.value);
  });
}

export function serialNumberFor({ serialNumber }: CertificateDeviations): string {
  if (serialNumber === "short") return SHORT_SERIAL_NUMBER;
  return serialNumber?.startsWith("0x") ? serialNumber.slice(2) : randomSerialNumber();
}

export const signingAlgorithmFor = (deviations: CertificateDeviations) =>
  deviations.signatureHash ? { ...SHAKEN_SIGNING_ALGORITHM, hash: deviations.signatureHash } : SHAKEN_SIGNING_ALGORITHM;

/**
 * The certificate generator always encodes a positive INTEGER serial (RFC 5280 §4.1.2.2) and a v3
 * certificate, which is the point: a negative or zero serial and a v1 certificate can only be produced
 * by editing the TBSCertificate and signing it again.
 */
export async function applySigningDeviations(certificate: X509Certificate, signingKey: CryptoKey, deviations: CertificateDeviations): Promise<X509Certificate> {
  const { serialNumber, version1 } = deviations;
  if (serialNumber !== "negative" && serialNumber !== "zero" && !version1) return certificate;
  const asn = AsnConvert.parse(certificate.rawData, asn1X509.Certificate);
  const tbs = asn.tbsCertificate;
  if (serialNumber === "zero") tbs.serialNumber = new Uint8Array([0]).buffer;
  if (serialNumber === "negative") {
    const serial = new Uint8Array(tbs.serialNumber);
    serial[0] = (serial[0] ?? 0) | 0x80;
    tbs.serialNumber = serial.buffer;
  }
  if (version1) tbs.version = asn1X509.Version.v1;
  const algorithm = signingAlgorithmFor(deviations);
  const signature = await crypto.subtle.sign(algorithm, signingKey, AsnConvert.serialize(tbs));
  const namedCurve = (signingKey.algorithm as { namedCurve?: string }).namedCurve ?? "P-256";
  const signingParameters = { ...algorithm, namedCurve };
  const asnSignature = new AsnEcSignatureFormatter().toAsnSignature(signingParameters, signature);
  if (!asnSignature) throw new Error("ECDSA signature could not be DER-encoded");
  asn.signatureValue = asnSignature;
  return new X509Certificate(AsnConvert.serialize(asn));
}
