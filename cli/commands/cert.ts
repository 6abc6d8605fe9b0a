import "reflect-metadata";
import type { X509Certificate } from "@peculiar/x509";
import { buildTrustedPaths } from "../../src/certificate/chain";
import { fetchCertificateChain } from "../../src/certificate/fetch-chain";
import { CERTIFICATE_ROLES, LINT_PROFILES, LINT_RULES, type CertificateRole, type LintFinding, type LintProfile } from "../../src/certificate/lint";
import { surveyCertificates, type RuleTally, type SurveyedCertificate } from "../../src/certificate/lint/survey";
import { parsePemChain } from "../../src/certificate/pem-chain";
import { readTnAuthList } from "../../src/certificate/tnauthlist";
import { issueShakenCertificateFromCsr, SHAKEN_POLICY_OIDS } from "../../src/pki";
import { VerificationError } from "../../src/verification/outcomes";
import { booleanOption, CliInputError, printableLines, requiredOption, requiredPositional, stringOption, type CliCommand } from "../command";
import { writeOutputFiles } from "../files";
import { DEFAULT_PATHS, loadCertificates, loadCertificateTree, loadCsr, loadIssuingCa, parseDateOption, uniqueCertificates, type CertificateTree } from "../inputs";
import { listAnchors, sha256Hex } from "../trust-directory";

const POLICIES: Record<string, string> = { "1.3": SHAKEN_POLICY_OIDS.cp13, "1.4": SHAKEN_POLICY_OIDS.cp14 };

const certIssue: CliCommand = {
  name: "cert issue",
  summary: "Issue an end-entity SHAKEN certificate from a CSR (ATIS-1000080 v005 profile)",
  options: {
    csr: { type: "string", valueName: "file", description: "PKCS#10 request from csr new (required)" },
    out: { type: "string", valueName: "file", description: "where the certificate goes (required)" },
    chain: { type: "boolean", description: "append the intermediate, making the file servable as an x5u chain" },
    "ca-dir": { type: "string", valueName: "dir", description: "the CA from ca init", default: DEFAULT_PATHS.caDir },
    "not-before": { type: "string", valueName: "date", description: "start of validity", default: "2025-01-01" },
    "not-after": { type: "string", valueName: "date", description: "end of validity", default: "2035-01-01" },
    policy: { type: "string", valueName: "1.3|1.4", description: "SHAKEN CP version of the policy OID", default: "1.3" },
    "crl-url": { type: "string", valueName: "url", description: "CRL distribution point", default: "http://crl.shaken-edge.invalid/intermediate.crl" },
    force: { type: "boolean", description: "replace an existing file" },
  },
  async run(context) {
    const policy = POLICIES[requiredOption(context, "policy")];
    if (!policy) throw new CliInputError(`--policy must be 1.3 or 1.4`);
    const out = requiredOption(context, "out");
    const csrPath = requiredOption(context, "csr");
    const csr = await loadCsr(csrPath);
    const issuer = await loadIssuingCa(requiredOption(context, "ca-dir"));
    const certificate = await issueShakenCertificateFromCsr(csr, {
      issuer,
      notBefore: parseDateOption("not-before", requiredOption(context, "not-before")),
      notAfter: parseDateOption("not-after", requiredOption(context, "not-after")),
      crlDistributionPoint: { url: requiredOption(context, "crl-url"), crlIssuer: issuer.certificate.subject },
      policy: policy as (typeof SHAKEN_POLICY_OIDS)[keyof typeof SHAKEN_POLICY_OIDS],
    }).catch((error: unknown) => {
      throw error instanceof Error && "code" in error ? new CliInputError(`${csrPath}: ${error.message}`) : error;
    });
    const pem = [certificate, ...(booleanOption(context, "chain") ? [issuer.certificate] : [])].map((item) => item.toString("pem")).join("\n");
    await writeOutputFiles([{ path: out, content: `${pem}\n` }], { force: booleanOption(context, "force") });
    return {
      json: { certificate: out, subject: certificate.subject, serialNumber: certificate.serialNumber, notAfter: certificate.notAfter.toISOString() },
      text: `${out}  ${certificate.subject}, serial ${certificate.serialNumber}, valid until ${certificate.notAfter.toISOString()}`,
    };
  },
};

/** A certificate file, or an x5u fetched with the verifier's own bounded, redirect-refusing fetch. */
async function loadCertificatesFrom(location: string): Promise<X509Certificate[]> {
  if (!/^https:\/\//i.test(location)) return loadCertificates(location);
  try {
    const fetched = await fetchCertificateChain(new URL(location), { timeoutMs: 5_000, maxBytes: 64 * 1024 }, (request) => fetch(request));
    return parsePemChain(fetched.body);
  } catch (error) {
    throw new CliInputError(`${location}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function describeCertificate(certificate: X509Certificate) {
  const reading = readTnAuthList(certificate);
  const policies = certificate.getExtension("2.5.29.32") as { policies?: readonly string[] } | null;
  return {
    subject: certificate.subject,
    issuer: certificate.issuer,
    serialNumber: certificate.serialNumber,
    notBefore: certificate.notBefore.toISOString(),
    notAfter: certificate.notAfter.toISOString(),
    tnAuthList: reading,
    policies: [...(policies?.policies ?? [])],
    sha256: sha256Hex(certificate),
  };
}

const certInspect: CliCommand = {
  name: "cert inspect",
  summary: "Summarize a certificate chain (file or https URL): subject, SPC, validity, policies, trust status",
  positionals: "<file|https-url>",
  options: {
    "trust-dir": { type: "string", valueName: "dir", description: "trust anchors", default: DEFAULT_PATHS.trustDir },
  },
  async run(context) {
    const location = requiredPositional(context, 0, "certificate file or https URL");
    const chain = await loadCertificatesFrom(location);
    const anchors = (await listAnchors(requiredOption(context, "trust-dir"))).map((anchor) => anchor.certificate);
    let trust: { trusted: boolean; detail: string };
    try {
      const paths = await buildTrustedPaths(chain, anchors);
      const now = Date.now();
      const current = paths.find((path) => path.validFrom <= now && now <= path.validUntil);
      trust = { trusted: true, detail: `chains to ${(current ?? paths[0]!).anchor.subject}${current ? "" : " (not valid now)"}` };
    } catch (error) {
      if (!(error instanceof VerificationError)) throw error;
      trust = { trusted: false, detail: error.message };
    }
    const certificates = chain.map(describeCertificate);
    const spcOf = (reading: ReturnType<typeof readTnAuthList>) =>
      "spcs" in reading ? `${reading.spcs.join(", ")}${reading.form === "rfc8226" ? "" : ` (${reading.form})`}` : reading.form;
    // The subjects, SPCs and reasons are the repository's text.
    const text = printableLines([
      ...certificates.flatMap((item, index) => [
        `#${index} ${item.subject}`,
        `   issuer    ${item.issuer}`,
        `   serial    ${item.serialNumber}`,
        `   valid     ${item.notBefore} .. ${item.notAfter}`,
        `   SPC       ${spcOf(item.tnAuthList)}`,
        `   policies  ${item.policies.join(", ") || "none"}`,
        `   sha256    ${item.sha256}`,
      ]),
      `chain: ${trust.trusted ? "trusted" : "NOT trusted"}, ${trust.detail}`,
    ]);
    return { json: { certificates, chain: trust }, text };
  },
};

const ROLES = new Set<string>(CERTIFICATE_ROLES);
const PROFILES = new Set<string>(LINT_PROFILES);

/** One certificate in the lint output: where it was found, what it is, what is wrong with it. */
function describeLinted({ certificate, issuer, report }: SurveyedCertificate, sources: string[]) {
  return {
    sources,
    sha256: sha256Hex(certificate),
    subject: certificate.subject,
    issuer: certificate.issuer,
    notBefore: certificate.notBefore.toISOString(),
    role: report.role,
    /** SHA-256 of the issuing certificate the path rules ran with, or null when it was not at hand. */
    issuerSha256: issuer ? sha256Hex(issuer) : null,
    findings: report.findings,
    notEffective: report.notEffective,
  };
}

const SEVERITY_MARK: Record<LintFinding["severity"], string> = { error: "E", warning: "W" };
const effectiveDay = (rule: string): string => LINT_RULES.find((candidate) => candidate.id === rule)?.effective?.toISOString().slice(0, 10) ?? "";

function lintText(certificates: ReturnType<typeof describeLinted>[], rules: RuleTally[], skipped: CertificateTree["skipped"]): string {
  const blocks = certificates.flatMap((item) => {
    const counted = item.findings.length === 0 ? "no findings" : `${item.findings.length} finding(s)`;
    const notEffective = item.notEffective.length === 0 ? "" : `, ${item.notEffective.length} not yet in effect`;
    return [
      `${item.sources.join(", ")}: ${item.subject} (${item.role}, sha256 ${item.sha256.slice(0, 16)}): ${counted}${notEffective}`,
      ...item.findings.map((finding) => `  ${SEVERITY_MARK[finding.severity]} ${finding.rule}: ${finding.message} [${finding.source}]`),
      ...item.notEffective.map((finding) => `  NE ${finding.rule}: ${finding.message} [${finding.source}, from ${effectiveDay(finding.rule)}]`),
    ];
  });
  const withErrors = certificates.filter((item) => item.findings.some((finding) => finding.severity === "error")).length;
  const summary = [
    ...(certificates.length > 1 && rules.length > 0
      ? ["", "Certificates per rule:", ...rules.map((tally) => `  ${String(tally.certificates).padStart(4)}  ${tally.rule}${tally.notEffective > 0 ? ` (+${tally.notEffective} NE)` : ""}`)]
      : []),
    ...skipped.map((entry) => `skipped ${entry.file}: ${entry.reason}`),
    ...(certificates.length > 1 ? [`${certificates.length} certificates, ${withErrors} with errors`] : []),
  ];
  // Certificates surveyed from the field: their subjects and the findings' messages are the issuers' text.
  return printableLines([...blocks, ...summary]);
}

const certLint: CliCommand = {
  name: "cert lint",
  summary: "Check certificates (a file, or every file under a directory) against ATIS-1000080 and the US SHAKEN CP; exit 1 on errors",
  positionals: "<file|dir>",
  options: {
    profile: { type: "string", valueName: "atis|us-cp", description: "ATIS-1000080 alone, or with the US SHAKEN Certificate Policy", default: "atis" },
    role: { type: "string", valueName: "leaf|intermediate|root", description: "lint every certificate in this role instead of inferring it" },
    chain: { type: "string", valueName: "file", description: "issuing certificates (PEM or DER) for the path rules, besides those linted" },
  },
  async run(context) {
    const path = requiredPositional(context, 0, "certificate file or directory");
    const profile = requiredOption(context, "profile");
    if (!PROFILES.has(profile)) throw new CliInputError(`--profile must be atis or us-cp`);
    const role = stringOption(context, "role");
    if (role !== undefined && !ROLES.has(role)) throw new CliInputError(`--role must be leaf, intermediate or root`);
    const chain = stringOption(context, "chain");
    const tree = await loadCertificateTree(path);
    const unique = uniqueCertificates(tree);
    const survey = surveyCertificates(
      unique.map((entry) => entry.certificate),
      { profile: profile as LintProfile, role: role as CertificateRole | undefined, issuers: chain === undefined ? [] : await loadCertificates(chain) },
    );
    const certificates = survey.certificates.map((surveyed, index) => describeLinted(surveyed, unique[index]!.sources));
    const errors = certificates.some((item) => item.findings.some((finding) => finding.severity === "error"));
    return {
      json: { path, profile, certificates, rules: survey.rules, skipped: tree.skipped },
      text: lintText(certificates, survey.rules, tree.skipped),
      exitCode: errors ? 1 : 0,
    };
  },
};

export const commands = [certIssue, certInspect, certLint];
