import "reflect-metadata";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { createDevelopmentCa, generateKeyPair, issueShakenCertificate, type DevelopmentCa, type KeyType, type ProfileDeviations } from "../../../src/pki";
import { cliJson, openssl, temporaryDirectory } from "./support";

let ca: DevelopmentCa;
const dir = temporaryDirectory();
beforeAll(async () => {
  ca = await createDevelopmentCa({ organization: "Lint", country: "KZ", notBefore: new Date("2025-01-01"), notAfter: new Date("2035-01-01") });
});

/** A leaf with one named departure from the v005 profile, written to a file for `cert lint`. */
async function brokenLeaf(name: string, deviations: ProfileDeviations, keyType: KeyType = "P-256"): Promise<string> {
  const keys = await generateKeyPair(keyType);
  const certificate = await issueShakenCertificate({
    issuer: ca.intermediate,
    subjectPublicKey: keys.publicKey,
    spc: "818H",
    organization: "Lint SP",
    country: "KZ",
    notBefore: new Date("2025-01-01"),
    notAfter: new Date("2027-01-01"),
    crlDistributionPoint: { url: "http://crl.test/intermediate.crl", crlIssuer: ca.intermediate.certificate.subject },
    deviations,
  });
  const path = join(dir, `${name}.pem`);
  writeFileSync(path, certificate.toString("pem"));
  return path;
}

async function lintRules(path: string): Promise<{ code: number; rules: string[] }> {
  const { code, json } = await cliJson<{ certificates: { findings: { rule: string }[] }[] }>("cert", "lint", path, "--role", "leaf");
  return { code, rules: json.certificates[0]!.findings.map((finding) => finding.rule) };
}

const CASES: { name: string; deviations: ProfileDeviations; keyType?: KeyType; rule: string }[] = [
  { name: "ca-true-leaf", deviations: { basicConstraintsCa: true }, rule: "e_atis_leaf_basic_constraints_ca_true" },
  { name: "key-usage-not-critical", deviations: { keyUsageNotCritical: true }, rule: "e_atis_key_usage_not_critical" },
  { name: "no-tnauthlist", deviations: { tnAuthList: null }, rule: "e_atis_tnauthlist_missing" },
  { name: "tn-range", deviations: { tnAuthList: [{ spc: "818H" }, { range: { start: "7727250", count: 100 } }] }, rule: "e_atis_tnauthlist_has_tns_or_ranges" },
  { name: "tn-one", deviations: { tnAuthList: [{ spc: "818H" }, { tn: "77272501234" }] }, rule: "e_atis_tnauthlist_has_tns_or_ranges" },
  { name: "two-spcs", deviations: { tnAuthList: [{ spc: "818H" }, { spc: "709J" }] }, rule: "e_atis_tnauthlist_not_one_spc" },
  { name: "lowercase-spc", deviations: { tnAuthList: [{ spc: "818h" }] }, rule: "e_atis_tnauthlist_spc_invalid" },
  { name: "rsa-key", deviations: {}, keyType: "RSA-2048", rule: "e_atis_public_key_not_p256" },
  { name: "p384-key", deviations: {}, keyType: "P-384", rule: "e_atis_public_key_not_p256" },
  { name: "no-crl-dp", deviations: { omitCrlDistributionPoint: true }, rule: "e_atis_crl_distribution_point_missing" },
  { name: "no-policy", deviations: { omitCertificatePolicies: true }, rule: "e_atis_certificate_policies_missing" },
  { name: "negative-serial", deviations: { serialNumber: "negative" }, rule: "e_atis_serial_number_not_positive" },
  { name: "short-serial", deviations: { serialNumber: "short" }, rule: "e_atis_serial_number_too_short" },
];

describe("cert lint on deliberately broken leaves", () => {
  for (const { name, deviations, keyType, rule } of CASES) {
    it(`${name}: reports ${rule} and exits 1`, async () => {
      const result = await lintRules(await brokenLeaf(name, deviations, keyType));
      expect(result.rules).toContain(rule);
      expect(result.code).toBe(1);
    });
  }

  it("the same leaf without deviations has no findings and exits 0", async () => {
    expect(await lintRules(await brokenLeaf("conforming", {}))).toEqual({ code: 0, rules: [] });
  });

  it("reads a DER certificate byte for byte: the same findings as its PEM, whatever bytes over 0x7F it holds", async () => {
    const pemPath = await brokenLeaf("der-twin", { keyUsageNotCritical: true });
    const derPath = join(dir, "der-twin.der");
    openssl("x509", "-in", pemPath, "-outform", "DER", "-out", derPath);
    expect(readFileSync(derPath).some((byte) => byte > 0x7f)).toBe(true);
    const fromDer = await lintRules(derPath);
    expect(fromDer).toEqual(await lintRules(pemPath));
    expect(fromDer.rules).toContain("e_atis_key_usage_not_critical");
  });
});
