import { AuthorityKeyIdentifierExtension, SubjectKeyIdentifierExtension, type X509Certificate } from "@peculiar/x509";
import { inferCertificateRole, lintCertificateReport, LINT_RULES, type CertificateLintReport } from "../lint";
import type { CertificateRole, LintProfile, LintSeverity } from "./rule";

export interface SurveyedCertificate {
  certificate: X509Certificate;
  /** The certificate that issued it, found among those surveyed or given as issuers; null when absent (or a root). */
  issuer: X509Certificate | null;
  report: CertificateLintReport;
}

/** How many certificates violate one rule. */
export interface RuleTally {
  rule: string;
  severity: LintSeverity;
  certificates: number;
  /** Certificates that violate it but predate it. */
  notEffective: number;
}

export interface CertificateSurvey {
  certificates: SurveyedCertificate[];
  /** Only the rules some certificate violates, in registry order. */
  rules: RuleTally[];
}

export interface SurveyOptions {
  profile: LintProfile;
  /** Lint every certificate in this role instead of the one it presents (a self-issued CA is a root). */
  role?: CertificateRole;
  /** Issuers to look for besides the surveyed certificates (`cert lint --chain`); they are not linted. */
  issuers?: X509Certificate[];
}

/** A key identifier extension's keyId, undefined when absent or malformed (the lint rules report that). */
const keyIdentifier = (read: () => { keyId?: string } | null): string | undefined => {
  try {
    return read()?.keyId;
  } catch {
    return undefined;
  }
};

/**
 * The issuer of a non-self-issued certificate among `candidates`: a certificate whose subject is its
 * issuer name, preferring the one whose key its AuthorityKeyIdentifier names (re-issued CAs share a
 * name). One with another key is still its issuer by name, which the path rules then report.
 */
function findIssuer(certificate: X509Certificate, candidates: X509Certificate[]): X509Certificate | null {
  if (certificate.subject === certificate.issuer) return null;
  const named = candidates.filter((candidate) => candidate !== certificate && candidate.subject === certificate.issuer);
  const authorityKey = keyIdentifier(() => certificate.getExtension(AuthorityKeyIdentifierExtension));
  return named.find((candidate) => authorityKey !== undefined && keyIdentifier(() => candidate.getExtension(SubjectKeyIdentifierExtension)) === authorityKey) ?? named[0] ?? null;
}

/** Lints a set of certificates (a CA's repository, a survey), each with its issuer when the set holds it, and counts the findings per rule. */
export function surveyCertificates(certificates: X509Certificate[], options: SurveyOptions): CertificateSurvey {
  const candidates = [...certificates, ...(options.issuers ?? [])];
  const surveyed = certificates.map((certificate): SurveyedCertificate => {
    const issuer = findIssuer(certificate, candidates);
    const role = options.role ?? inferCertificateRole(certificate);
    return { certificate, issuer, report: lintCertificateReport(certificate, { role, profile: options.profile, issuer: issuer ?? undefined }) };
  });
  const count = (rule: string, list: "findings" | "notEffective") => surveyed.filter(({ report }) => report[list].some((finding) => finding.rule === rule)).length;
  const rules = LINT_RULES.map((rule) => ({ rule: rule.id, severity: rule.severity, certificates: count(rule.id, "findings"), notEffective: count(rule.id, "notEffective") })).filter(
    (tally) => tally.certificates + tally.notEffective > 0,
  );
  return { certificates: surveyed, rules };
}
