import "../lib/reflect-metadata";
import { AsnConvert } from "@peculiar/asn1-schema";
import * as asn1X509 from "@peculiar/asn1-x509";
import { BasicConstraintsExtension, KeyUsageFlags, KeyUsagesExtension, SubjectKeyIdentifierExtension, type X509Certificate } from "@peculiar/x509";
import { isValidServiceProviderCode, SHAKEN_POLICY_OIDS } from "../pki/profile";
import { readTnAuthList, TN_AUTH_LIST_OID, type TnAuthListReading } from "./tnauthlist";

/**
 * Profile lint of SHAKEN certificates against ATIS-1000080 v005 and the SHAKEN CP (spec §6). Rule ids
 * follow martinisecurity/zlint's SHAKEN lints: `e_` for errors, `w_` for warnings. Findings are
 * reported with verdicts; only chain, validity, revocation, key type and TNAuthList presence fail a call.
 */
export interface LintFinding {
  rule: string;
  severity: "error" | "warning";
  source: string;
  message: string;
}

export type CertificateRole = "leaf" | "intermediate" | "root";

export interface LintOptions {
  role: CertificateRole;
}

const PROFILE = "ATIS-1000080 v005 §6.4.1";
const CA_PROFILE = "ATIS-1000080 v005 §6.4.1, STI-CA certificates";
const TNAUTHLIST_ASN1 = "RFC 8226 §9";
const SERIAL_NUMBER = "RFC 5280 §4.1.2.2";

const SHAKEN_POLICIES = new Set<string>(Object.values(SHAKEN_POLICY_OIDS));
/** v005: serial numbers carry at least 64 random bits. */
const RANDOM_SERIAL_NUMBER_BITS = 64;
/**
 * 64 random bits leave k leading zero bits one time in 2^k: a serial of 61–63 significant bits may
 * well conform, and one certificate cannot tell. Below 48 bits (one chance in 65 536), it cannot.
 */
const MINIMUM_SERIAL_NUMBER_BITS = 48;
const VALIDITY = "RFC 5280 §4.1.2.5";
const KEY_IDENTIFIER_BYTES = 20;

const OID = {
  basicConstraints: asn1X509.id_ce_basicConstraints,
  keyUsage: asn1X509.id_ce_keyUsage,
  subjectKeyIdentifier: asn1X509.id_ce_subjectKeyIdentifier,
  authorityKeyIdentifier: asn1X509.id_ce_authorityKeyIdentifier,
  certificatePolicies: asn1X509.id_ce_certificatePolicies,
  crlDistributionPoints: asn1X509.id_ce_cRLDistributionPoints,
  tnAuthList: TN_AUTH_LIST_OID,
};
/** v005 §6.4.1: an end-entity certificate carries these extensions and no others. */
const LEAF_EXTENSIONS = new Set(Object.values(OID));
/** v005 §6.4.1: only BasicConstraints and KeyUsage may be critical. */
const CRITICAL_EXTENSIONS = new Set([OID.basicConstraints, OID.keyUsage]);

/** What the rules look at, parsed once; every getter may throw on a malformed certificate. */
class LintSubject {
  #tbs?: asn1X509.TBSCertificate;
  #tnAuthList?: TnAuthListReading;

  constructor(readonly certificate: X509Certificate) {}

  get tbs(): asn1X509.TBSCertificate {
    this.#tbs ??= AsnConvert.parse(this.certificate.rawData, asn1X509.Certificate).tbsCertificate;
    return this.#tbs;
  }

  get extensions(): asn1X509.Extension[] {
    return this.tbs.extensions ?? [];
  }

  extension(oid: string): asn1X509.Extension | undefined {
    return this.extensions.find((extension) => extension.extnID === oid);
  }

  /** Significant bits of the serial number. */
  get serialBits(): number {
    return serialNumberBits(new Uint8Array(this.tbs.serialNumber));
  }

  get tnAuthList(): TnAuthListReading {
    this.#tnAuthList ??= readTnAuthList(this.certificate);
    return this.#tnAuthList;
  }

  subjectField(type: string): string[] {
    return this.certificate.subjectName.getField(type);
  }
}

interface LintRule {
  rule: string;
  severity: LintFinding["severity"];
  source: string;
  roles: readonly CertificateRole[];
  /** The violation, in one sentence saying what is there and what should be; undefined when the rule holds. */
  check(subject: LintSubject): string | undefined;
}

const ALL_ROLES = ["leaf", "intermediate", "root"] as const;
const CA_ROLES = ["intermediate", "root"] as const;

const serialNumberBits = (serial: Uint8Array): number => {
  const significant = serial.findIndex((byte) => byte !== 0);
  if (significant < 0) return 0;
  return (serial.length - significant - 1) * 8 + (32 - Math.clz32(serial[significant] ?? 0));
};

const keyUsageText = (usages: number): string =>
  Object.entries(KeyUsageFlags)
    .filter(([name, flag]) => typeof flag === "number" && (usages & flag) !== 0 && Number.isNaN(Number(name)))
    .map(([name]) => name)
    .join(", ") || "none";

const keyIdentifierLength = (value: ArrayBuffer): number => AsnConvert.parse(value, asn1X509.SubjectKeyIdentifier).byteLength;

const RULES: LintRule[] = [
  {
    rule: "e_atis_cert_version_not_v3",
    severity: "error",
    source: PROFILE,
    roles: ALL_ROLES,
    check: (subject) => (subject.tbs.version === asn1X509.Version.v3 ? undefined : `certificate is X.509 v${subject.tbs.version + 1}, must be v3`),
  },
  {
    rule: "e_atis_serial_number_not_positive",
    severity: "error",
    source: SERIAL_NUMBER,
    roles: ALL_ROLES,
    check: (subject) => {
      const serial = new Uint8Array(subject.tbs.serialNumber);
      if (((serial[0] ?? 0) & 0x80) !== 0) return "serial number is negative, must be a positive integer";
      return serialNumberBits(serial) === 0 ? "serial number is zero, must be a positive integer" : undefined;
    },
  },
  {
    rule: "e_atis_serial_number_too_short",
    severity: "error",
    source: PROFILE,
    roles: ALL_ROLES,
    check: ({ serialBits }) =>
      serialBits >= MINIMUM_SERIAL_NUMBER_BITS ? undefined : `serial number has ${serialBits} bits, too few to carry the ${RANDOM_SERIAL_NUMBER_BITS} random bits the profile requires`,
  },
  {
    rule: "w_atis_serial_number_may_be_short",
    severity: "warning",
    source: PROFILE,
    roles: ALL_ROLES,
    check: ({ serialBits }) =>
      serialBits < MINIMUM_SERIAL_NUMBER_BITS || serialBits >= RANDOM_SERIAL_NUMBER_BITS
        ? undefined
        : `serial number has ${serialBits} bits: ${RANDOM_SERIAL_NUMBER_BITS} random bits come out this short one time in ${2 ** (RANDOM_SERIAL_NUMBER_BITS - serialBits)}, so it may conform; a CA that prefixes a non-zero byte leaves no doubt`,
  },
  {
    rule: "e_atis_validity_inverted",
    severity: "error",
    source: VALIDITY,
    roles: ALL_ROLES,
    check: ({ certificate }) =>
      certificate.notBefore.getTime() > certificate.notAfter.getTime()
        ? `notBefore (${certificate.notBefore.toISOString()}) is after notAfter (${certificate.notAfter.toISOString()}): the certificate is valid at no time`
        : undefined,
  },
  {
    rule: "e_atis_leaf_self_issued",
    severity: "error",
    source: PROFILE,
    roles: ["leaf"],
    check: ({ certificate }) =>
      certificate.subject === certificate.issuer ? `end-entity certificate is self-issued (issuer is its own subject, ${certificate.subject}): an STI-CA must issue it` : undefined,
  },
  {
    rule: "e_atis_signature_algorithm_not_ecdsa_sha256",
    severity: "error",
    source: PROFILE,
    roles: ALL_ROLES,
    check: (subject) => {
      const algorithm = subject.certificate.signatureAlgorithm as { name: string; hash?: { name: string } };
      return algorithm.name === "ECDSA" && algorithm.hash?.name === "SHA-256"
        ? undefined
        : `signed with ${algorithm.name}/${algorithm.hash?.name ?? "?"}, must be ecdsa-with-SHA256`;
    },
  },
  {
    rule: "e_atis_public_key_not_p256",
    severity: "error",
    source: PROFILE,
    roles: ALL_ROLES,
    check: (subject) => {
      const algorithm = subject.certificate.publicKey.algorithm as { name: string; namedCurve?: string };
      return algorithm.name === "ECDSA" && algorithm.namedCurve === "P-256"
        ? undefined
        : `public key is ${algorithm.name}${algorithm.namedCurve ? ` ${algorithm.namedCurve}` : ""}, must be ECDSA P-256`;
    },
  },
  {
    rule: "e_atis_subject_organization_missing",
    severity: "error",
    source: PROFILE,
    roles: ALL_ROLES,
    check: (subject) => (subject.subjectField("O").length > 0 ? undefined : "subject has no organization (O)"),
  },
  {
    rule: "e_atis_subject_country_missing",
    severity: "error",
    source: PROFILE,
    roles: ALL_ROLES,
    check: (subject) => (subject.subjectField("C").length > 0 ? undefined : "subject has no country (C)"),
  },
  {
    rule: "e_atis_subject_cn_not_shaken_spc",
    severity: "error",
    source: PROFILE,
    roles: ["leaf"],
    check: (subject) => {
      const commonNames = subject.subjectField("CN");
      const reading = subject.tnAuthList;
      const spc = "spcs" in reading && reading.spcs.length === 1 ? reading.spcs[0] : undefined;
      const expected = spc === undefined ? /^SHAKEN \S+$/ : new RegExp(`^SHAKEN ${spc.replace(/[^A-Za-z0-9]/g, "\\$&")}$`);
      return commonNames.length === 1 && expected.test(commonNames[0] ?? "")
        ? undefined
        : `subject CN is ${JSON.stringify(commonNames.join(", "))}, must be "SHAKEN ${spc ?? "<SPC>"}"`;
    },
  },
  {
    rule: "e_atis_root_cn_missing_root",
    severity: "error",
    source: CA_PROFILE,
    roles: ["root"],
    // The profile's "ROOT" is matched case-insensitively, as zlint's SHAKEN lint does.
    check: (subject) => (subject.subjectField("CN").some((name) => /root/i.test(name)) ? undefined : 'root subject CN must contain "ROOT"'),
  },
  {
    rule: "e_atis_basic_constraints_missing",
    severity: "error",
    source: PROFILE,
    roles: ALL_ROLES,
    check: (subject) => (subject.extension(OID.basicConstraints) ? undefined : "BasicConstraints extension is missing"),
  },
  {
    rule: "e_atis_basic_constraints_not_critical",
    severity: "error",
    source: PROFILE,
    roles: ALL_ROLES,
    check: (subject) => (subject.extension(OID.basicConstraints)?.critical === false ? "BasicConstraints is not marked critical" : undefined),
  },
  {
    rule: "e_atis_leaf_basic_constraints_ca_true",
    severity: "error",
    source: PROFILE,
    roles: ["leaf"],
    check: (subject) => (subject.certificate.getExtension(BasicConstraintsExtension)?.ca ? "end-entity certificate has BasicConstraints CA=TRUE, must be CA=FALSE" : undefined),
  },
  {
    rule: "e_atis_ca_basic_constraints_not_ca",
    severity: "error",
    source: CA_PROFILE,
    roles: CA_ROLES,
    check: (subject) => {
      const constraints = subject.certificate.getExtension(BasicConstraintsExtension);
      return constraints && !constraints.ca ? "CA certificate has BasicConstraints CA=FALSE, must be CA=TRUE" : undefined;
    },
  },
  {
    rule: "e_atis_key_usage_missing",
    severity: "error",
    source: PROFILE,
    roles: ALL_ROLES,
    check: (subject) => (subject.extension(OID.keyUsage) ? undefined : "KeyUsage extension is missing"),
  },
  {
    rule: "e_atis_key_usage_not_critical",
    severity: "error",
    source: PROFILE,
    roles: ALL_ROLES,
    check: (subject) => (subject.extension(OID.keyUsage)?.critical === false ? "KeyUsage is not marked critical" : undefined),
  },
  {
    rule: "e_atis_leaf_key_usage_not_digital_signature_only",
    severity: "error",
    source: PROFILE,
    roles: ["leaf"],
    check: (subject) => {
      const keyUsage = subject.certificate.getExtension(KeyUsagesExtension);
      return keyUsage && keyUsage.usages !== KeyUsageFlags.digitalSignature
        ? `KeyUsage is ${keyUsageText(keyUsage.usages)}, must be digitalSignature only`
        : undefined;
    },
  },
  {
    rule: "e_atis_ca_key_usage_missing_key_cert_sign",
    severity: "error",
    source: CA_PROFILE,
    roles: CA_ROLES,
    check: (subject) => {
      const keyUsage = subject.certificate.getExtension(KeyUsagesExtension);
      return keyUsage && (keyUsage.usages & KeyUsageFlags.keyCertSign) === 0 ? `KeyUsage is ${keyUsageText(keyUsage.usages)}, must include keyCertSign` : undefined;
    },
  },
  {
    rule: "e_atis_subject_key_identifier_missing",
    severity: "error",
    source: PROFILE,
    roles: ALL_ROLES,
    check: (subject) => (subject.extension(OID.subjectKeyIdentifier) ? undefined : "SubjectKeyIdentifier extension is missing"),
  },
  {
    rule: "e_atis_subject_key_identifier_not_160_bits",
    severity: "error",
    source: PROFILE,
    roles: ALL_ROLES,
    check: (subject) => {
      if (!subject.certificate.getExtension(SubjectKeyIdentifierExtension)) return undefined;
      const extension = subject.extension(OID.subjectKeyIdentifier);
      const length = extension ? keyIdentifierLength(extension.extnValue.buffer) : KEY_IDENTIFIER_BYTES;
      return length === KEY_IDENTIFIER_BYTES ? undefined : `SubjectKeyIdentifier is ${length * 8} bits, must be the 160-bit SHA-1 of the key`;
    },
  },
  {
    rule: "e_atis_authority_key_identifier_missing",
    severity: "error",
    source: PROFILE,
    roles: ["leaf", "intermediate"],
    check: (subject) => (subject.extension(OID.authorityKeyIdentifier) ? undefined : "AuthorityKeyIdentifier extension is missing"),
  },
  {
    rule: "e_atis_certificate_policies_missing",
    severity: "error",
    source: PROFILE,
    roles: ["leaf"],
    check: (subject) => (subject.extension(OID.certificatePolicies) ? undefined : "CertificatePolicies extension is missing, must hold one SHAKEN policy OID"),
  },
  {
    rule: "e_atis_certificate_policies_not_one_shaken_policy",
    severity: "error",
    source: PROFILE,
    roles: ["leaf"],
    check: (subject) => {
      const extension = subject.extension(OID.certificatePolicies);
      if (!extension) return undefined;
      const policies = AsnConvert.parse(extension.extnValue.buffer, asn1X509.CertificatePolicies).map((policy) => policy.policyIdentifier);
      return policies.length === 1 && SHAKEN_POLICIES.has(policies[0] ?? "")
        ? undefined
        : `CertificatePolicies is [${policies.join(", ")}], must be exactly one of ${[...SHAKEN_POLICIES].join(" or ")}`;
    },
  },
  {
    rule: "e_atis_root_certificate_policies_present",
    severity: "error",
    source: CA_PROFILE,
    roles: ["root"],
    check: (subject) => (subject.extension(OID.certificatePolicies) ? "root certificate carries CertificatePolicies, must not" : undefined),
  },
  {
    rule: "e_atis_crl_distribution_point_missing",
    severity: "error",
    source: PROFILE,
    roles: ["leaf"],
    check: (subject) => (subject.extension(OID.crlDistributionPoints) ? undefined : "CRLDistributionPoints extension is missing"),
  },
  {
    rule: "e_atis_crl_distribution_point_invalid",
    severity: "error",
    source: PROFILE,
    roles: ["leaf"],
    check: (subject) => {
      const extension = subject.extension(OID.crlDistributionPoints);
      if (!extension) return undefined;
      const points = AsnConvert.parse(extension.extnValue.buffer, asn1X509.CRLDistributionPoints);
      const [point] = points;
      const urls = point?.distributionPoint?.fullName?.flatMap((name) => (name.uniformResourceIdentifier ? [name.uniformResourceIdentifier] : [])) ?? [];
      if (points.length !== 1) return `${points.length} CRL distribution points, must be exactly one`;
      // The STI-PA publishes its CRL over https (iconectiv), so "HTTP URL" includes https.
      if (urls.length !== 1 || !/^https?:\/\//i.test(urls[0] ?? "")) return `CRL distribution point names [${urls.join(", ")}], must be one HTTP(S) URL`;
      return point?.cRLIssuer?.length ? undefined : "CRL distribution point has no cRLIssuer";
    },
  },
  {
    rule: "e_atis_root_crl_distribution_point_present",
    severity: "error",
    source: CA_PROFILE,
    roles: ["root"],
    check: (subject) => (subject.extension(OID.crlDistributionPoints) ? "root certificate carries CRLDistributionPoints, must not" : undefined),
  },
  {
    rule: "e_atis_tnauthlist_missing",
    severity: "error",
    source: PROFILE,
    roles: ["leaf"],
    check: (subject) => (subject.tnAuthList.form === "absent" ? "TNAuthList extension (1.3.6.1.5.5.7.1.26) is missing" : undefined),
  },
  {
    rule: "e_atis_tnauthlist_unparseable",
    severity: "error",
    source: TNAUTHLIST_ASN1,
    roles: ALL_ROLES,
    check: (subject) => {
      const reading = subject.tnAuthList;
      return reading.form === "unparseable" ? `TNAuthList cannot be decoded: ${reading.error}` : undefined;
    },
  },
  {
    rule: "e_atis_tnauthlist_not_rfc8226_encoding",
    severity: "error",
    source: TNAUTHLIST_ASN1,
    roles: ALL_ROLES,
    check: (subject) => {
      const reading = subject.tnAuthList;
      return "note" in reading ? `${reading.note}; found SPC ${reading.spcs.map((spc) => JSON.stringify(spc)).join(", ")}` : undefined;
    },
  },
  {
    rule: "e_atis_tnauthlist_not_one_spc",
    severity: "error",
    source: PROFILE,
    roles: ["leaf"],
    check: (subject) => {
      const reading = subject.tnAuthList;
      return "spcs" in reading && reading.spcs.length !== 1 ? `TNAuthList holds ${reading.spcs.length} SPCs, must hold exactly one` : undefined;
    },
  },
  {
    rule: "e_atis_tnauthlist_has_tns_or_ranges",
    severity: "error",
    source: PROFILE,
    roles: ["leaf"],
    check: (subject) => {
      const reading = subject.tnAuthList;
      return reading.form === "rfc8226" && (reading.ranges.length > 0 || reading.tns.length > 0)
        ? `TNAuthList holds ${reading.tns.length} TN(s) and ${reading.ranges.length} range(s), must hold only an SPC`
        : undefined;
    },
  },
  {
    rule: "e_atis_tnauthlist_spc_invalid",
    severity: "error",
    source: PROFILE,
    roles: ["leaf"],
    check: (subject) => {
      const reading = subject.tnAuthList;
      const invalid = "spcs" in reading ? reading.spcs.filter((spc) => !isValidServiceProviderCode(spc)) : [];
      return invalid.length > 0 ? `SPC ${invalid.map((spc) => JSON.stringify(spc)).join(", ")} has characters outside [A-Z0-9]` : undefined;
    },
  },
  {
    rule: "e_atis_root_tnauthlist_present",
    severity: "error",
    source: CA_PROFILE,
    roles: ["root"],
    check: (subject) => (subject.extension(OID.tnAuthList) ? "root certificate carries a TNAuthList, must not" : undefined),
  },
  {
    rule: "e_atis_critical_extension_not_allowed",
    severity: "error",
    source: PROFILE,
    roles: ["leaf"],
    check: (subject) => {
      const critical = subject.extensions.filter((extension) => extension.critical && !CRITICAL_EXTENSIONS.has(extension.extnID));
      return critical.length > 0 ? `extension(s) ${critical.map((extension) => extension.extnID).join(", ")} marked critical; only BasicConstraints and KeyUsage may be` : undefined;
    },
  },
  {
    rule: "e_atis_extension_not_allowed",
    severity: "error",
    source: PROFILE,
    roles: ["leaf"],
    check: (subject) => {
      const extra = subject.extensions.filter((extension) => !LEAF_EXTENSIONS.has(extension.extnID));
      return extra.length > 0 ? `extension(s) ${extra.map((extension) => extension.extnID).join(", ")} are not in the end-entity profile` : undefined;
    },
  },
];

/** Lints one certificate in the given role. Never throws: a rule that cannot evaluate reports that as its finding. */
export function lintCertificate(cert: X509Certificate, opts: LintOptions): LintFinding[] {
  const subject = new LintSubject(cert);
  return RULES.filter((rule) => rule.roles.includes(opts.role)).flatMap((rule): LintFinding[] => {
    let message: string | undefined;
    try {
      message = rule.check(subject);
    } catch (error) {
      message = `could not be evaluated, the certificate is malformed here: ${error instanceof Error ? error.message : String(error)}`;
    }
    return message === undefined ? [] : [{ rule: rule.rule, severity: rule.severity, source: rule.source, message }];
  });
}

/** The role a certificate presents itself in: a CA that issued itself is a root. */
export function inferCertificateRole(cert: X509Certificate): CertificateRole {
  let isCa = false;
  try {
    isCa = cert.getExtension(BasicConstraintsExtension)?.ca ?? false;
  } catch {
    // malformed BasicConstraints: lint as a leaf, which reports it
  }
  if (!isCa) return "leaf";
  return cert.subject === cert.issuer ? "root" : "intermediate";
}
