import "../../lib/reflect-metadata";
import { AsnConvert } from "@peculiar/asn1-schema";
import * as asn1X509 from "@peculiar/asn1-x509";
import type { X509Certificate } from "@peculiar/x509";
import { SHAKEN_POLICY_OIDS } from "../../pki/profile";
import { readTnAuthList, TN_AUTH_LIST_OID, type TnAuthListReading } from "../tnauthlist";

export const EXTENSION_OIDS = {
  basicConstraints: asn1X509.id_ce_basicConstraints,
  keyUsage: asn1X509.id_ce_keyUsage,
  subjectKeyIdentifier: asn1X509.id_ce_subjectKeyIdentifier,
  authorityKeyIdentifier: asn1X509.id_ce_authorityKeyIdentifier,
  certificatePolicies: asn1X509.id_ce_certificatePolicies,
  crlDistributionPoints: asn1X509.id_ce_cRLDistributionPoints,
  tnAuthList: TN_AUTH_LIST_OID,
} as const;

/** X.520 / PKCS #9 attribute types the SHAKEN rules name. */
export const ATTRIBUTE_OIDS = {
  commonName: "2.5.4.3",
  serialNumber: "2.5.4.5",
  country: "2.5.4.6",
  locality: "2.5.4.7",
  stateOrProvince: "2.5.4.8",
  organization: "2.5.4.10",
  organizationalUnit: "2.5.4.11",
  emailAddress: "1.2.840.113549.1.9.1",
} as const;

export interface NameAttribute {
  type: string;
  value: string;
}

/** The one SPC a rule can compare against, or why there is none. */
export type ServiceProviderCodeReading = { spc: string } | { missing: string };

const nameAttributes = (name: asn1X509.Name): NameAttribute[] =>
  name.flatMap((rdn) => rdn.map((attribute) => ({ type: attribute.type, value: attribute.value.toString() })));

/**
 * What the rules read from one certificate, each part parsed on first use and kept. A getter throws
 * on a malformed certificate; the rule that asked reports the certificate as malformed there.
 */
export class LintSubject {
  readonly #parsed = new Map<string, unknown>();

  constructor(readonly certificate: X509Certificate) {}

  #once<T>(key: string, compute: () => T): T {
    if (!this.#parsed.has(key)) this.#parsed.set(key, compute());
    return this.#parsed.get(key) as T;
  }

  get tbs(): asn1X509.TBSCertificate {
    return this.#once("tbs", () => AsnConvert.parse(this.certificate.rawData, asn1X509.Certificate).tbsCertificate);
  }

  get notBefore(): Date {
    return this.certificate.notBefore;
  }

  get extensions(): asn1X509.Extension[] {
    return this.tbs.extensions ?? [];
  }

  extension(oid: string): asn1X509.Extension | undefined {
    return this.extensions.find((extension) => extension.extnID === oid);
  }

  /** The DER of an extension's value (the inside of its extnValue OCTET STRING). */
  extensionValue(oid: string): ArrayBuffer | undefined {
    return this.extension(oid)?.extnValue.buffer;
  }

  #parseExtension<T>(oid: string, type: new () => T): T | undefined {
    return this.#once(`extension:${oid}`, () => {
      const value = this.extensionValue(oid);
      return value === undefined ? undefined : AsnConvert.parse(value, type);
    });
  }

  get basicConstraints(): asn1X509.BasicConstraints | undefined {
    return this.#parseExtension(EXTENSION_OIDS.basicConstraints, asn1X509.BasicConstraints);
  }

  get keyUsage(): asn1X509.KeyUsage | undefined {
    return this.#parseExtension(EXTENSION_OIDS.keyUsage, asn1X509.KeyUsage);
  }

  /** The named bits of the KeyUsage (asn1X509.KeyUsageFlags), or undefined without one. */
  get keyUsageFlags(): number | undefined {
    return this.keyUsage?.toNumber();
  }

  get subjectKeyIdentifier(): Uint8Array<ArrayBuffer> | undefined {
    const identifier = this.#parseExtension(EXTENSION_OIDS.subjectKeyIdentifier, asn1X509.SubjectKeyIdentifier);
    return identifier && new Uint8Array(identifier.buffer);
  }

  get authorityKeyIdentifier(): asn1X509.AuthorityKeyIdentifier | undefined {
    return this.#parseExtension(EXTENSION_OIDS.authorityKeyIdentifier, asn1X509.AuthorityKeyIdentifier);
  }

  /** The policy OIDs of the CertificatePolicies extension; empty without one. */
  get policies(): string[] {
    return this.#parseExtension(EXTENSION_OIDS.certificatePolicies, asn1X509.CertificatePolicies)?.map((policy) => policy.policyIdentifier) ?? [];
  }

  /** Issued under US SHAKEN CP 1.4 (its policy OID asserted). */
  get assertsCp14(): boolean {
    return this.policies.includes(SHAKEN_POLICY_OIDS.cp14);
  }

  get assertsCp13(): boolean {
    return this.policies.includes(SHAKEN_POLICY_OIDS.cp13);
  }

  get crlDistributionPoints(): asn1X509.DistributionPoint[] | undefined {
    const points = this.#parseExtension(EXTENSION_OIDS.crlDistributionPoints, asn1X509.CRLDistributionPoints);
    return points && [...points];
  }

  get tnAuthList(): TnAuthListReading {
    return this.#once("tnAuthList", () => readTnAuthList(this.certificate));
  }

  /**
   * The SPC of an RFC 8226 TNAuthList holding exactly one entry, an SPC (ATIS-1000080 v003 §6.4.1: "a
   * single SPC value"), as the CN and SPC-format rules need it. Non-RFC encodings have none.
   */
  get serviceProviderCode(): ServiceProviderCodeReading {
    const reading = this.tnAuthList;
    if (reading.form === "absent") return { missing: "the certificate has no TNAuthList" };
    if (reading.form !== "rfc8226") return { missing: `the TNAuthList is not RFC 8226-encoded (${reading.form})` };
    const [spc, ...more] = reading.spcs;
    if (spc === undefined || more.length > 0 || reading.tns.length > 0 || reading.ranges.length > 0) return { missing: "the TNAuthList does not hold exactly one entry, an SPC" };
    return spc === "" ? { missing: "the TNAuthList's SPC is empty" } : { spc };
  }

  get subjectAttributes(): NameAttribute[] {
    return this.#once("subject", () => nameAttributes(this.tbs.subject));
  }

  get issuerAttributes(): NameAttribute[] {
    return this.#once("issuer", () => nameAttributes(this.tbs.issuer));
  }

  subjectValues(type: string): string[] {
    return this.subjectAttributes.filter((attribute) => attribute.type === type).map((attribute) => attribute.value);
  }

  /** The subject's first CN, as the reference linter (and most software) reads "the" common name. */
  get commonName(): string {
    return this.subjectValues(ATTRIBUTE_OIDS.commonName)[0] ?? "";
  }

  /** Issuer and subject are the same name: a root, or an end-entity certificate that signed itself. */
  get selfIssued(): boolean {
    return this.certificate.subject === this.certificate.issuer;
  }

  /** Significant bits of the serial number (of its magnitude when the INTEGER is negative). */
  get serialBits(): number {
    return serialNumberBits(this.serialNumber);
  }

  get serialNumber(): Uint8Array<ArrayBuffer> {
    return new Uint8Array(this.tbs.serialNumber);
  }
}

const serialNumberBits = (serial: Uint8Array): number => {
  const significant = serial.findIndex((byte) => byte !== 0);
  if (significant < 0) return 0;
  return (serial.length - significant - 1) * 8 + (32 - Math.clz32(serial[significant] ?? 0));
};
