import * as asn1X509 from "@peculiar/asn1-x509";
import { ATIS_V003, ATIS_V005, CERTIFICATE_ROLES, documentRule, leafAndCaRules, RFC_5280, US_CP_1_4, type LintContext, type LintRule } from "../rule";
import type { LintSubject } from "../subject";

/** ATIS-1000080 v005 §6.4.1.1: at least 64 bits of CSPRNG output. */
const RANDOM_SERIAL_NUMBER_BITS = 64;
/**
 * 64 random bits leave k leading zero bits one time in 2^k: a serial of 48–63 significant bits may
 * well conform, and one certificate cannot tell. Below 48 bits (one chance in 65 536), it cannot.
 */
const MINIMUM_SERIAL_NUMBER_BITS = 48;

const isPositive = (subject: LintSubject): boolean => ((subject.serialNumber[0] ?? 0) & 0x80) === 0 && subject.serialBits > 0;

/**
 * US SHAKEN CP 1.4 §6.1.5 lets a CA issuing under it sign with ECDSA P-384 / SHA-384, which
 * ATIS-1000080 (v003–v005) does not: an intermediate or leaf that asserts CP 1.4, or a root (roots
 * carry no policy) issued once CP 1.4 was in force.
 */
const cp14AllowsP384 = (subject: LintSubject, context: LintContext): boolean =>
  context.profile === "us-cp" && (context.role === "root" ? subject.notBefore >= US_CP_1_4.published : subject.assertsCp14);

const signatureAlgorithmName = (subject: LintSubject): string => {
  const algorithm = subject.certificate.signatureAlgorithm as { name: string; hash?: { name: string } };
  return `${algorithm.name}/${algorithm.hash?.name ?? "?"}`;
};

const publicKeyName = (subject: LintSubject): string => {
  const algorithm = subject.certificate.publicKey.algorithm as { name: string; namedCurve?: string };
  return `${algorithm.name}${algorithm.namedCurve ? ` ${algorithm.namedCurve}` : ""}`;
};

export const FIELD_RULES: LintRule[] = [
  ...leafAndCaRules("e_atis_version", ATIS_V003, "§6.4.1", {
    description: "The certificate is X.509 version 3.",
    severity: "error",
    profile: "atis",
    check: ({ tbs }) => (tbs.version === asn1X509.Version.v3 ? undefined : `certificate is X.509 v${tbs.version + 1}, must be v3`),
  }),
  ...leafAndCaRules("e_atis_serial_number", RFC_5280, "§4.1.2.2", {
    description: "The serial number is a positive integer.",
    severity: "error",
    profile: "atis",
    check: (subject) => {
      if (((subject.serialNumber[0] ?? 0) & 0x80) !== 0) return "serial number is negative, must be a positive integer";
      return subject.serialBits === 0 ? "serial number is zero, must be a positive integer" : undefined;
    },
  }),
  ...leafAndCaRules("e_atis_serial_number_size", ATIS_V005, "§6.4.1.1", {
    description: `The serial number has at least ${MINIMUM_SERIAL_NUMBER_BITS} significant bits: fewer cannot hold ${RANDOM_SERIAL_NUMBER_BITS} random bits.`,
    severity: "error",
    profile: "atis",
    check: (subject) =>
      isPositive(subject) && subject.serialBits < MINIMUM_SERIAL_NUMBER_BITS
        ? `serial number has ${subject.serialBits} bits, too few to carry the ${RANDOM_SERIAL_NUMBER_BITS} random bits the profile requires`
        : undefined,
  }),
  ...leafAndCaRules("w_atis_serial_number_size", ATIS_V005, "§6.4.1.1", {
    description: `The serial number has ${RANDOM_SERIAL_NUMBER_BITS} significant bits or more (${MINIMUM_SERIAL_NUMBER_BITS}–${RANDOM_SERIAL_NUMBER_BITS - 1} may still hold ${RANDOM_SERIAL_NUMBER_BITS} random bits).`,
    severity: "warning",
    profile: "atis",
    check: ({ serialBits }) =>
      serialBits < MINIMUM_SERIAL_NUMBER_BITS || serialBits >= RANDOM_SERIAL_NUMBER_BITS
        ? undefined
        : `serial number has ${serialBits} bits: ${RANDOM_SERIAL_NUMBER_BITS} random bits come out this short one time in ${2 ** (RANDOM_SERIAL_NUMBER_BITS - serialBits)}, so it may conform; a CA that prefixes a non-zero byte leaves no doubt`,
  }),
  documentRule("e_atis_validity_inverted", RFC_5280, "§4.1.2.5", CERTIFICATE_ROLES, {
    description: "notBefore is not after notAfter.",
    severity: "error",
    profile: "atis",
    check: ({ certificate }) =>
      certificate.notBefore.getTime() > certificate.notAfter.getTime()
        ? `notBefore (${certificate.notBefore.toISOString()}) is after notAfter (${certificate.notAfter.toISOString()}): the certificate is valid at no time`
        : undefined,
  }),
  ...leafAndCaRules("e_atis_signature_algorithm", ATIS_V003, "§6.4.1", {
    description: "Signed with ecdsa-with-SHA256 (us-cp: or ecdsa-with-SHA384 under CP 1.4 §6.1.5).",
    severity: "error",
    profile: "atis",
    check: (subject, context) => {
      const algorithm = signatureAlgorithmName(subject);
      if (algorithm === "ECDSA/SHA-256" || (algorithm === "ECDSA/SHA-384" && cp14AllowsP384(subject, context))) return undefined;
      return `signed with ${algorithm}, must be ecdsa-with-SHA256`;
    },
  }),
  documentRule("e_atis_subject_public_key", ATIS_V003, "§6.4.1", ["leaf"], {
    description: "The public key is ECDSA P-256 (it signs PASSporTs with ES256).",
    severity: "error",
    profile: "atis",
    check: (subject) => {
      const key = publicKeyName(subject);
      return key === "ECDSA P-256" ? undefined : `public key is ${key}, must be ECDSA P-256`;
    },
  }),
  documentRule("e_atis_subject_public_key_ca", ATIS_V003, "§6.4.1", ["intermediate", "root"], {
    description: "The public key is ECDSA P-256 (us-cp: or P-384 under CP 1.4 §6.1.5).",
    severity: "error",
    profile: "atis",
    check: (subject, context) => {
      const key = publicKeyName(subject);
      if (key === "ECDSA P-256" || (key === "ECDSA P-384" && cp14AllowsP384(subject, context))) return undefined;
      return `public key is ${key}, must be ECDSA P-256`;
    },
  }),
  documentRule("e_atis_leaf_self_issued", ATIS_V003, "§6.4.1", ["leaf"], {
    description: "An end-entity certificate is issued by an STI-CA, not by itself.",
    severity: "error",
    profile: "atis",
    check: (subject) => (subject.selfIssued ? `end-entity certificate is self-issued (issuer is its own subject, ${subject.certificate.subject}): an STI-CA must issue it` : undefined),
  }),
  documentRule("e_issuer_root", ATIS_V003, "§6.4.1", ["root"], {
    description: "A root's issuer is its own subject.",
    severity: "error",
    profile: "atis",
    check: (subject) => (subject.selfIssued ? undefined : `root certificate's issuer (${subject.certificate.issuer}) is not its subject (${subject.certificate.subject})`),
  }),
];
