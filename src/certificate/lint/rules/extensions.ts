import { toHex } from "../../../pki/keys";
import { ATIS_V003, ATIS_V004, ATIS_V005, documentRule, leafAndCaRules, RFC_5280, US_CP_1_3, type LintRule } from "../rule";
import { EXTENSION_OIDS, type LintSubject } from "../subject";
import { SHAKEN_POLICY_OIDS } from "../../../pki/profile";

/** RFC 5280 §4.2.1.2 method 1, which ATIS-1000080 v005 makes mandatory: a 160-bit SHA-1. */
const KEY_IDENTIFIER_BYTES = 20;
const US_SHAKEN_POLICIES: readonly string[] = Object.values(SHAKEN_POLICY_OIDS);

/** ATIS-1000080 v005 §6.4.1.1: the extensions an STI certificate may carry (each role's own rules say which it must or must not). */
const SPECIFIED_EXTENSIONS = new Set<string>(Object.values(EXTENSION_OIDS));

/** Present, and not critical: RFC 5280 forbids marking the key identifiers critical, and the reference linter fails a critical CertificatePolicies or TNAuthList. */
const presentAndNotCritical = (subject: LintSubject, oid: string, name: string): string | undefined => {
  const extension = subject.extension(oid);
  if (!extension) return `${name} extension is missing`;
  return extension.critical ? `${name} is marked critical, must not be` : undefined;
};

/** ATIS-1000080 v005 §6.4.1: what a root certificate must not carry. */
const absentFromRoots = (id: string, oid: string, name: string): LintRule =>
  documentRule(id, ATIS_V005, "§6.4.1", ["root"], {
    description: `A root carries no ${name}.`,
    severity: "error",
    profile: "atis",
    check: (subject) => (subject.extension(oid) ? `root certificate carries ${name}, must not` : undefined),
  });

const uriNames = (point: { distributionPoint?: { fullName?: { uniformResourceIdentifier?: string }[] } }): string[] =>
  point.distributionPoint?.fullName?.flatMap((name) => (name.uniformResourceIdentifier === undefined ? [] : [name.uniformResourceIdentifier])) ?? [];

const CRL_DISTRIBUTION_POINT = {
  description: "CRLDistributionPoints is present and holds one distribution point naming one HTTP(S) URL.",
  severity: "error",
  profile: "atis",
  check: (subject: LintSubject): string | undefined => {
    const problem = presentAndNotCritical(subject, EXTENSION_OIDS.crlDistributionPoints, "CRLDistributionPoints");
    if (problem) return problem;
    const points = subject.crlDistributionPoints ?? [];
    if (points.length !== 1) return `${points.length} CRL distribution points, must be exactly one`;
    const urls = uriNames(points[0] ?? {});
    // The STI-PA publishes its CRL over https (iconectiv), so "HTTP URL" includes https.
    return urls.length === 1 && /^https?:\/\//i.test(urls[0] ?? "") ? undefined : `CRL distribution point names [${urls.join(", ")}], must be one HTTP(S) URL`;
  },
} as const;

export const EXTENSION_RULES: LintRule[] = [
  ...leafAndCaRules("e_atis_ext_not_specified", ATIS_V005, "§6.4.1.1", {
    description: "No extension beyond BasicConstraints, KeyUsage, SKI, AKI, CertificatePolicies, CRL DP and TNAuthList.",
    severity: "error",
    profile: "atis",
    check: (subject) => {
      const extra = subject.extensions.filter((extension) => !SPECIFIED_EXTENSIONS.has(extension.extnID)).map((extension) => `${extension.extnID}${extension.critical ? " (critical)" : ""}`);
      return extra.length > 0 ? `extension(s) ${extra.join(", ")} are not in the STI certificate profile` : undefined;
    },
  }),
  ...leafAndCaRules("e_atis_subject_key_identifier", ATIS_V003, "§6.4.1", {
    description: "SubjectKeyIdentifier is present and not critical.",
    severity: "error",
    profile: "atis",
    check: (subject) => presentAndNotCritical(subject, EXTENSION_OIDS.subjectKeyIdentifier, "SubjectKeyIdentifier"),
  }),
  ...leafAndCaRules("e_atis_subject_key_identifier_size", ATIS_V005, "§6.4.1", {
    description: "SubjectKeyIdentifier is 160 bits (the SHA-1 of the public key).",
    severity: "error",
    profile: "atis",
    check: ({ subjectKeyIdentifier }) =>
      subjectKeyIdentifier === undefined || subjectKeyIdentifier.length === KEY_IDENTIFIER_BYTES
        ? undefined
        : `SubjectKeyIdentifier is ${subjectKeyIdentifier.length * 8} bits, must be the 160-bit SHA-1 of the key`,
  }),
  ...leafAndCaRules(
    "e_atis_ext_authority_key_identifier",
    ATIS_V003,
    "§6.4.1",
    {
      description: "AuthorityKeyIdentifier is present and not critical (optional on roots).",
      severity: "error",
      profile: "atis",
      check: (subject) => presentAndNotCritical(subject, EXTENSION_OIDS.authorityKeyIdentifier, "AuthorityKeyIdentifier"),
    },
    ["intermediate"],
  ),
  documentRule("e_atis_ext_authority_key_identifier_root", ATIS_V003, "§6.4.1", ["root"], {
    description: "A root's AuthorityKeyIdentifier, if any, is not critical and names the root's own SubjectKeyIdentifier.",
    severity: "error",
    profile: "atis",
    check: (subject) => {
      const extension = subject.extension(EXTENSION_OIDS.authorityKeyIdentifier);
      if (!extension) return undefined;
      if (extension.critical) return "AuthorityKeyIdentifier is marked critical, must not be";
      const keyIdentifier = subject.authorityKeyIdentifier?.keyIdentifier;
      const own = subject.subjectKeyIdentifier;
      return keyIdentifier && own && toHex(keyIdentifier.buffer) === toHex(own)
        ? undefined
        : `AuthorityKeyIdentifier keyIdentifier ${keyIdentifier ? toHex(keyIdentifier.buffer) : "(none)"} is not the root's SubjectKeyIdentifier ${own ? toHex(own) : "(none)"}`;
    },
  }),
  documentRule("e_ext_authority_key_identifier_no_key_identifier", RFC_5280, "§4.2.1.1", ["leaf", "intermediate"], {
    description: "An AuthorityKeyIdentifier carries a keyIdentifier (the issuer's SKI).",
    severity: "error",
    profile: "atis",
    check: (subject) =>
      subject.extension(EXTENSION_OIDS.authorityKeyIdentifier) && !subject.authorityKeyIdentifier?.keyIdentifier ? "AuthorityKeyIdentifier has no keyIdentifier, must name the issuer's SubjectKeyIdentifier" : undefined,
  }),
  ...leafAndCaRules(
    "e_atis_ext_certificate_policies",
    ATIS_V003,
    "§6.4.1",
    {
      description: "CertificatePolicies is present, not critical, and holds exactly one policy OID.",
      severity: "error",
      profile: "atis",
      check: (subject) => {
        const problem = presentAndNotCritical(subject, EXTENSION_OIDS.certificatePolicies, "CertificatePolicies");
        if (problem) return problem;
        return subject.policies.length === 1 ? undefined : `CertificatePolicies holds ${subject.policies.length} policies (${subject.policies.join(", ")}), must hold exactly one`;
      },
    },
    ["intermediate"],
  ),
  absentFromRoots("e_atis_ext_certificate_policies_root", EXTENSION_OIDS.certificatePolicies, "CertificatePolicies"),
  ...leafAndCaRules(
    "e_shaken_certificate_policies_id",
    US_CP_1_3,
    "§1.2",
    {
      description: `The one policy OID is a US SHAKEN CP's: ${US_SHAKEN_POLICIES.join(" (CP 1.3) or ")} (CP 1.4).`,
      severity: "error",
      profile: "us-cp",
      check: ({ policies }) =>
        policies.length === 1 && US_SHAKEN_POLICIES.includes(policies[0] ?? "")
          ? undefined
          : `CertificatePolicies is [${policies.join(", ")}], must be exactly one of ${US_SHAKEN_POLICIES.join(", ")}`,
    },
    ["intermediate"],
  ),
  // v003 asks the CRL DP of end-entity certificates only; v004 extends it to intermediates.
  documentRule("e_atis_ext_crl_distribution", ATIS_V003, "§6.4.1", ["leaf"], CRL_DISTRIBUTION_POINT),
  documentRule("e_atis_ext_crl_distribution_ca", ATIS_V004, "§6.4.1", ["intermediate"], CRL_DISTRIBUTION_POINT),
  ...leafAndCaRules(
    "e_atis_ext_crl_distribution_struct",
    ATIS_V004,
    "§6.4.1",
    {
      description: "The distribution point has a distributionPoint full name and a cRLIssuer (the STI-PA's DN).",
      severity: "error",
      profile: "atis",
      check: (subject) => {
        const [point, ...more] = subject.crlDistributionPoints ?? [];
        if (!point || more.length > 0) return undefined; // e_atis_ext_crl_distribution says what is wrong
        if (!point.distributionPoint?.fullName) return "CRL distribution point has no distributionPoint fullName";
        return point.cRLIssuer?.length ? undefined : "CRL distribution point has no cRLIssuer";
      },
    },
    ["intermediate"],
  ),
  absentFromRoots("e_atis_ext_crl_distribution_root", EXTENSION_OIDS.crlDistributionPoints, "CRLDistributionPoints"),
];
