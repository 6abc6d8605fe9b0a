import { KeyUsageFlags } from "@peculiar/asn1-x509";
import { ATIS_V003, CA_ROLES, CERTIFICATE_ROLES, documentRule, RFC_5280, US_CP_1_1, type LintRule } from "../rule";
import { EXTENSION_OIDS, type LintSubject } from "../subject";

export const keyUsageText = (usages: number): string =>
  Object.entries(KeyUsageFlags)
    .filter(([name, flag]) => typeof flag === "number" && (usages & flag) !== 0 && Number.isNaN(Number(name)))
    .map(([name]) => name)
    .join(", ") || "none";

/** v003/v004: a CA's KeyUsage has keyCertSign and may add digitalSignature and cRLSign, nothing else. */
const CA_KEY_USAGES = KeyUsageFlags.keyCertSign | KeyUsageFlags.digitalSignature | KeyUsageFlags.cRLSign;

const presentAndCritical = (subject: LintSubject, oid: string, name: string): string | undefined => {
  const extension = subject.extension(oid);
  if (!extension) return `${name} extension is missing`;
  return extension.critical ? undefined : `${name} is not marked critical`;
};

/** A rule over the KeyUsage's named bits, when the certificate has a KeyUsage (its absence is e_atis_ext_key_usage). */
const withKeyUsage =
  (check: (usages: number, subject: LintSubject) => string | undefined) =>
  (subject: LintSubject): string | undefined => {
    const usages = subject.keyUsageFlags;
    return usages === undefined ? undefined : check(usages, subject);
  };

/**
 * X.690 §11.2.2 (DER): a named bit list drops its trailing zero bits, so the last content octet is
 * non-zero and the unused-bits octet counts its trailing zeros. KeyUsage is such a list (RFC 5280
 * §4.2.1.3); seen in production: `03 02 00 06` (unused 0, should be 1) and `03 02 00 80` (should be 7).
 */
function keyUsageEncodingError(subject: LintSubject): string | undefined {
  const keyUsage = subject.keyUsage;
  if (!keyUsage) return undefined;
  const bytes = new Uint8Array(keyUsage.value);
  const last = bytes[bytes.length - 1];
  const encoding = `BIT STRING with ${keyUsage.unusedBits} unused bit(s) over ${[...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join(" ") || "no octets"}`;
  if (last === 0) return `KeyUsage is a ${encoding}: DER drops trailing zero octets`;
  const expected = last === undefined ? 0 : 31 - Math.clz32(last & -last);
  return keyUsage.unusedBits === expected ? undefined : `KeyUsage is a ${encoding}: DER declares ${expected} unused bit(s), the trailing zero bits of the last octet`;
}

export const CONSTRAINT_RULES: LintRule[] = [
  documentRule("e_atis_ext_basic_constraints", ATIS_V003, "§6.4.1", CERTIFICATE_ROLES, {
    description: "BasicConstraints is present and critical.",
    severity: "error",
    profile: "atis",
    check: (subject) => presentAndCritical(subject, EXTENSION_OIDS.basicConstraints, "BasicConstraints"),
  }),
  documentRule("e_atis_ext_basic_constraints_ca_boolean", ATIS_V003, "§6.4.1", CERTIFICATE_ROLES, {
    description: "BasicConstraints says CA=FALSE on an end-entity certificate, CA=TRUE on a CA certificate.",
    severity: "error",
    profile: "atis",
    check: (subject, { role }) => {
      const constraints = subject.basicConstraints;
      if (!constraints) return undefined;
      if (role === "leaf") return constraints.cA ? "end-entity certificate has BasicConstraints CA=TRUE, must be CA=FALSE" : undefined;
      return constraints.cA ? undefined : "CA certificate has BasicConstraints CA=FALSE, must be CA=TRUE";
    },
  }),
  documentRule("e_atis_ext_key_usage", ATIS_V003, "§6.4.1", CERTIFICATE_ROLES, {
    description: "KeyUsage is present and critical.",
    severity: "error",
    profile: "atis",
    check: (subject) => presentAndCritical(subject, EXTENSION_OIDS.keyUsage, "KeyUsage"),
  }),
  documentRule("e_atis_ext_key_usage_ee", ATIS_V003, "§6.4.1", ["leaf"], {
    description: "An end-entity KeyUsage is digitalSignature alone.",
    severity: "error",
    profile: "atis",
    check: withKeyUsage((usages) => (usages === KeyUsageFlags.digitalSignature ? undefined : `KeyUsage is ${keyUsageText(usages)}, must be digitalSignature only`)),
  }),
  // v003/v004 let a CA add digitalSignature and cRLSign to keyCertSign; v005 makes keyCertSign its only
  // usage. As the reference linter does, v005's rule is held against the CAs asserting US SHAKEN CP 1.4,
  // the policy that adopts v005: a CA under CP 1.3 keeps the v003 allowance.
  documentRule("e_atis_ext_key_usage_ca", ATIS_V003, "§6.4.1", CA_ROLES, {
    description: "A CA KeyUsage has keyCertSign, and besides it at most digitalSignature and cRLSign; under CP 1.4 (v005), keyCertSign alone.",
    severity: "error",
    profile: "atis",
    check: withKeyUsage((usages, subject) => {
      if (subject.assertsCp14) return usages === KeyUsageFlags.keyCertSign ? undefined : `KeyUsage is ${keyUsageText(usages)}, must be keyCertSign only (ATIS-1000080 v005, as US SHAKEN CP 1.4 adopts it)`;
      return (usages & KeyUsageFlags.keyCertSign) !== 0 && (usages & ~CA_KEY_USAGES) === 0
        ? undefined
        : `KeyUsage is ${keyUsageText(usages)}, must include keyCertSign and nothing but digitalSignature and cRLSign besides`;
    }),
  }),
  documentRule("e_us_cp_ca_key_usage_crl_sign", US_CP_1_1, "§4.9", CA_ROLES, {
    description: "A CA KeyUsage has no cRLSign: the STI-PA, not the STI-CA, issues the SHAKEN CRL.",
    severity: "error",
    profile: "us-cp",
    check: withKeyUsage((usages) => ((usages & KeyUsageFlags.cRLSign) === 0 ? undefined : `KeyUsage is ${keyUsageText(usages)}: cRLSign, yet the STI-PA issues the SHAKEN CRL`)),
  }),
  documentRule("e_incorrect_ku_encoding", RFC_5280, "§4.2.1.3, X.690 §11.2.2", CERTIFICATE_ROLES, {
    description: "The KeyUsage BIT STRING is DER: no trailing zero octet, unused bits = trailing zero bits.",
    severity: "error",
    profile: "atis",
    check: keyUsageEncodingError,
  }),
];
