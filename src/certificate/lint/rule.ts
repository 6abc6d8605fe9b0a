import type { LintSubject } from "./subject";

export type CertificateRole = "leaf" | "intermediate" | "root";
export type LintSeverity = "error" | "warning";
/**
 * The policy set a certificate is held to. `atis` is ATIS-1000080 (with the RFC 5280 rules it builds on);
 * `us-cp` adds the US SHAKEN Certificate Policy, which also changes what some ATIS rules accept (CP 1.4
 * §6.1.5 allows P-384 / SHA-384 CA keys that ATIS-1000080 v005 does not).
 */
export type LintProfile = "atis" | "us-cp";

export const LINT_PROFILES: readonly LintProfile[] = ["atis", "us-cp"];
export const CERTIFICATE_ROLES: readonly CertificateRole[] = ["leaf", "intermediate", "root"];
export const CA_ROLES: readonly CertificateRole[] = ["intermediate", "root"];

/** What a rule knows besides the certificate: the policy set, the role it is linted in, and its issuer when one is known. */
export interface LintContext {
  profile: LintProfile;
  role: CertificateRole;
  issuer?: LintSubject;
}

export interface LintRule {
  /** zlint's SHAKEN lint name where the reference linter has the rule: `e_` errors, `w_` warnings. */
  id: string;
  /** What must hold, in one sentence (the README rule table). */
  description: string;
  severity: LintSeverity;
  /** `atis` rules run in both profiles; `us-cp` rules only in `us-cp`. */
  profile: LintProfile;
  /** Document and clause the rule comes from. */
  source: string;
  roles: readonly CertificateRole[];
  /** Certificates issued (notBefore) before this date are not held to the rule: a violation is reported `NE`. Null: always in effect. */
  effective: Date | null;
  /** Path rules: evaluated only when the issuing certificate is known. */
  needsIssuer?: boolean;
  /** The violation, in one sentence saying what is there and what should be; undefined when the rule holds. */
  check(subject: LintSubject, context: LintContext): string | undefined;
}

/**
 * A document rules come from and the dates from which certificates are held to it. Following the
 * reference linter (martinisecurity/zlint, v3/util/time.go): CA certificates from the publication date,
 * end-entity certificates from 90 days later (the time an STI-CA has to conform, as for a CP → CPS
 * change); for CP 1.3, 145 days (45 days to submit the CPS, 10 to approve it, 90 to conform). An RFC
 * has no such date: its requirements bind every certificate.
 */
export interface RuleDocument {
  name: string;
  published: Date | null;
  leafGraceDays: number;
}

const document = (name: string, published: string, leafGraceDays = 90): RuleDocument & { published: Date } => ({ name, published: new Date(`${published}T00:00:00Z`), leafGraceDays });

export const ATIS_V003 = document("ATIS-1000080 v003", "2020-09-04");
export const ATIS_V004 = document("ATIS-1000080 v004", "2021-10-18");
export const ATIS_V005 = document("ATIS-1000080 v005", "2022-12-12");
export const US_CP_1_1 = document("US SHAKEN CP v1.1", "2020-04-07");
export const US_CP_1_3 = document("US SHAKEN CP v1.3", "2021-08-18", 145);
export const US_CP_1_4 = document("US SHAKEN CP v1.4", "2023-06-06");
export const RFC_5280: RuleDocument = { name: "RFC 5280", published: null, leafGraceDays: 0 };

const DAY_MS = 86_400_000;

/** When a document starts to bind certificates in these roles: its publication, plus the end-entity grace period for leaf-only rules. */
function effectiveDate(source: RuleDocument, roles: readonly CertificateRole[]): Date | null {
  if (source.published === null) return null;
  const grace = roles.every((role) => role === "leaf") ? source.leafGraceDays * DAY_MS : 0;
  return new Date(source.published.getTime() + grace);
}

type RuleBody = Pick<LintRule, "description" | "severity" | "profile" | "check" | "needsIssuer">;

export function documentRule(id: string, source: RuleDocument, clause: string, roles: readonly CertificateRole[], body: RuleBody): LintRule {
  return { id, source: `${source.name} ${clause}`, roles, effective: effectiveDate(source, roles), ...body };
}

/**
 * The reference linter's pairing: `<id>` for end-entity certificates, `<id>_ca` for CA certificates,
 * each effective from its own date. `caRoles` narrows the CA half (intermediates only, for the
 * requirements ATIS-1000080 waives for roots).
 */
export function leafAndCaRules(id: string, source: RuleDocument, clause: string, body: RuleBody, caRoles: readonly CertificateRole[] = CA_ROLES): LintRule[] {
  return [documentRule(id, source, clause, ["leaf"], body), documentRule(`${id}_ca`, source, clause, caRoles, body)];
}
