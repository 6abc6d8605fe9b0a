import "../lib/reflect-metadata";
import { BasicConstraintsExtension, type X509Certificate } from "@peculiar/x509";
import { rulesFor } from "./lint/registry";
import type { CertificateRole, LintContext, LintProfile, LintRule, LintSeverity } from "./lint/rule";
import { LintSubject } from "./lint/subject";

export { LINT_RULES } from "./lint/registry";
export { CERTIFICATE_ROLES, LINT_PROFILES, type CertificateRole, type LintProfile, type LintRule, type LintSeverity } from "./lint/rule";

/**
 * Profile lint of STI certificates against ATIS-1000080 (v003–v005) and, in the `us-cp` profile, the US
 * SHAKEN CP (spec §6). Rule ids are martinisecurity/zlint's SHAKEN lint names where the reference linter
 * has the rule: `e_` for errors, `w_` for warnings. Findings are reported with verdicts; only chain,
 * validity, revocation, key type and TNAuthList presence fail a call.
 */
export interface LintFinding {
  rule: string;
  severity: LintSeverity;
  source: string;
  message: string;
}

export interface LintOptions {
  role: CertificateRole;
  /** Default `atis`. */
  profile?: LintProfile;
  /** The issuing certificate, when known: the path rules (issuer constraints, SKI/AKI, CRL DP) run only with it. */
  issuer?: X509Certificate;
}

export interface CertificateLintReport {
  role: CertificateRole;
  profile: LintProfile;
  /** Violations of the rules the certificate is held to. */
  findings: LintFinding[];
  /** Violations of rules that postdate the certificate's notBefore: the reference linter's `NE`, reported but not held against it. */
  notEffective: LintFinding[];
}

// A certificate is parsed for linting once, however many times it is linted (as a leaf, as an issuer, per profile).
const subjects = new WeakMap<X509Certificate, LintSubject>();
const subjectOf = (certificate: X509Certificate): LintSubject => {
  let subject = subjects.get(certificate);
  if (!subject) {
    subject = new LintSubject(certificate);
    subjects.set(certificate, subject);
  }
  return subject;
};

/** A rule that cannot evaluate reports that as its finding: the certificate is malformed where the rule looks. */
function violation(rule: LintRule, subject: LintSubject, context: LintContext): string | undefined {
  try {
    return rule.check(subject, context);
  } catch (error) {
    return `could not be evaluated, the certificate is malformed here: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** Lints one certificate in the given role. Never throws. */
export function lintCertificateReport(cert: X509Certificate, opts: LintOptions): CertificateLintReport {
  const profile = opts.profile ?? "atis";
  const subject = subjectOf(cert);
  const context: LintContext = { profile, role: opts.role, issuer: opts.issuer && subjectOf(opts.issuer) };
  const report: CertificateLintReport = { role: opts.role, profile, findings: [], notEffective: [] };
  for (const rule of rulesFor(profile, opts.role)) {
    if (rule.needsIssuer && !context.issuer) continue;
    const message = violation(rule, subject, context);
    if (message === undefined) continue;
    const finding = { rule: rule.id, severity: rule.severity, source: rule.source, message };
    (rule.effective !== null && cert.notBefore < rule.effective ? report.notEffective : report.findings).push(finding);
  }
  return report;
}

/** The violations of the rules in effect for the certificate (what a verdict reports as `certificate.profile`). */
export function lintCertificate(cert: X509Certificate, opts: LintOptions): LintFinding[] {
  return lintCertificateReport(cert, opts).findings;
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
