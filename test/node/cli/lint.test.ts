import "reflect-metadata";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { KeyUsageFlags, type X509Certificate } from "@peculiar/x509";
import { describe, expect, it } from "vitest";
import { crlDistributionPoints, keyUsage } from "../../../src/pki";
import { conformingIntermediateAuthority, intermediateAuthority, leafCertificate, STI_PA_CRL } from "../pki/lint-fixtures";
import { haveRealworld, REALWORLD } from "../realworld/realworld";
import { cli, cliJson, openssl, temporaryDirectory } from "./support";

interface LintedJson {
  sources: string[];
  role: string;
  issuerSha256: string | null;
  findings: { rule: string; severity: string }[];
  notEffective: { rule: string }[];
}
interface LintJson {
  profile: string;
  certificates: LintedJson[];
  rules: { rule: string; certificates: number; notEffective: number }[];
  skipped: { file: string; reason: string }[];
}

const pem = (...certificates: X509Certificate[]) => certificates.map((certificate) => certificate.toString("pem")).join("\n");

function writeFile(dir: string, name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, content);
  return path;
}

const rules = (certificate: LintedJson | undefined) => certificate?.findings.map((finding) => finding.rule);

describe("cert lint <file>", () => {
  it("exits 0 on a conforming leaf and 1 on an error, naming the rule", async () => {
    const dir = temporaryDirectory();
    const good = await cliJson<LintJson>("cert", "lint", writeFile(dir, "good.pem", pem(await leafCertificate())));
    expect(good.code).toBe(0);
    expect(good.json.certificates.map(rules)).toEqual([[]]);
    const bad = await cliJson<LintJson>("cert", "lint", writeFile(dir, "bad.pem", pem(await leafCertificate({ keyUsageNotCritical: true }))));
    expect(bad.code).toBe(1);
    expect(bad.json.certificates.map(rules)).toEqual([["e_atis_ext_key_usage"]]);
  });

  it("exits 0 on warnings alone", async () => {
    const dir = temporaryDirectory();
    const run = await cliJson<LintJson>("cert", "lint", writeFile(dir, "62-bit-serial.pem", pem(await leafCertificate({ serialNumber: "0x3fffffffffffffff" }))));
    expect(run).toMatchObject({ code: 0, json: { certificates: [{ findings: [{ rule: "w_atis_serial_number_size", severity: "warning" }] }] } });
  });

  it("reads a DER certificate byte for byte: the same findings as its PEM, whatever bytes over 0x7F it holds", async () => {
    const dir = temporaryDirectory();
    const pemPath = writeFile(dir, "leaf.pem", pem(await leafCertificate({ keyUsageNotCritical: true })));
    const derPath = join(dir, "leaf.der");
    openssl("x509", "-in", pemPath, "-outform", "DER", "-out", derPath);
    expect(readFileSync(derPath).some((byte) => byte > 0x7f)).toBe(true);
    const fromDer = await cliJson<LintJson>("cert", "lint", derPath);
    const fromPem = await cliJson<LintJson>("cert", "lint", pemPath);
    expect(fromDer.json.certificates.map(rules)).toEqual(fromPem.json.certificates.map(rules));
    expect(fromDer.json.certificates.map(rules)).toEqual([["e_atis_ext_key_usage"]]);
  });

  it("--profile us-cp adds the US SHAKEN CP rules; anything else is refused", async () => {
    const dir = temporaryDirectory();
    const path = writeFile(dir, "ou.pem", pem(await leafCertificate({ subject: [{ C: ["US"] }, { O: ["Lint SP"] }, { OU: ["VoIP"] }, { CN: ["SHAKEN 818H"] }] })));
    expect((await cliJson<LintJson>("cert", "lint", path)).json.certificates.map(rules)).toEqual([[]]);
    expect((await cliJson<LintJson>("cert", "lint", path, "--profile", "us-cp")).json.certificates.map(rules)).toEqual([["w_shaken_subject_rdn_unknown"]]);
    const refused = await cli("cert", "lint", path, "--profile", "canada");
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--profile must be atis or us-cp/);
  });

  it("--role lints every certificate in that role", async () => {
    const dir = temporaryDirectory();
    const path = writeFile(dir, "ca.pem", pem((await conformingIntermediateAuthority()).certificate));
    const { json } = await cliJson<LintJson>("cert", "lint", path, "--role", "leaf");
    expect(json.certificates[0]).toMatchObject({ role: "leaf" });
    expect(rules(json.certificates[0])).toEqual(expect.arrayContaining(["e_atis_ext_basic_constraints_ca_boolean", "e_atis_tn_auth_list"]));
  });

  it("shows a violation of a rule that postdates the certificate as NE, without failing on it", async () => {
    const dir = temporaryDirectory();
    const path = writeFile(dir, "2021.pem", pem(await leafCertificate({ serialNumber: "short" }, { notBefore: new Date("2021-06-01T00:00:00Z") })));
    const run = await cli("cert", "lint", path);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/no findings, 1 not yet in effect\n {2}NE e_atis_serial_number_size: serial number has 31 bits.*\[ATIS-1000080 v005 §6\.4\.1\.1, from 2023-03-12\]/);
  });
});

describe("cert lint <dir>: a repository or survey in one command", () => {
  /** A CA's repository: a chain file, a DER leaf, a leaf whose issuer is in the chain file, a README. */
  async function repository(): Promise<{ dir: string; bad: X509Certificate }> {
    const dir = temporaryDirectory();
    const intermediate = await conformingIntermediateAuthority();
    const good = await leafCertificate();
    const bad = await leafCertificate({ extensions: [crlDistributionPoints({ ...STI_PA_CRL, url: "https://crl.lint.test/own.crl" })] });
    writeFile(dir, "chains/good.pem", pem(good, intermediate.certificate));
    writeFile(dir, "chains/bad.pem", pem(bad, intermediate.certificate));
    writeFile(dir, "der/good.der", new Uint8Array(good.rawData));
    writeFile(dir, "README.md", "# not a certificate\n");
    return { dir, bad };
  }

  it("splits chains, reads DER, lints each certificate once, and skips what holds none", async () => {
    const { dir } = await repository();
    const { code, json } = await cliJson<LintJson>("cert", "lint", dir);
    expect(code).toBe(1);
    expect(json.certificates.map((certificate) => certificate.sources)).toEqual([["chains/bad.pem#0"], ["chains/bad.pem#1", "chains/good.pem#1"], ["chains/good.pem#0", "der/good.der"]]);
    expect(json.skipped).toEqual([{ file: "README.md", reason: expect.stringMatching(/./) }]);
  });

  it("runs the path rules with the issuer it finds in the directory, and counts certificates per rule", async () => {
    const { dir } = await repository();
    const { json } = await cliJson<LintJson>("cert", "lint", dir);
    const [bad, intermediate, good] = json.certificates;
    expect(bad).toMatchObject({ role: "leaf", issuerSha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(rules(bad)).toEqual(["e_atis_path_crl_distribution_point"]);
    expect(rules(good)).toEqual([]);
    expect(intermediate).toMatchObject({ role: "intermediate", issuerSha256: null });
    expect(json.rules).toEqual([{ rule: "e_atis_path_crl_distribution_point", severity: "error", certificates: 1, notEffective: 0 }]);
  });

  it("prints, for a person, each certificate's findings and the count per rule", async () => {
    const { dir } = await repository();
    const run = await cli("cert", "lint", dir);
    expect(run.stdout).toMatch(/^chains\/bad\.pem#0: C=US, O=Lint SP, CN=SHAKEN 818H \(leaf, sha256 [0-9a-f]{16}\): 1 finding\(s\)\n {2}E e_atis_path_crl_distribution_point: /m);
    expect(run.stdout).toMatch(/Certificates per rule:\n {5}1 {2}e_atis_path_crl_distribution_point\n/);
    expect(run.stdout).toMatch(/skipped README\.md: .*\n3 certificates, 1 with errors$/m);
  });
});

describe("cert lint --chain: the path rules with issuers from another file", () => {
  it("checks the issuer's constraints and key usage, and the SKI/AKI match", async () => {
    const dir = temporaryDirectory();
    const notCa = await intermediateAuthority({ notCa: true });
    const noKeyCertSign = await intermediateAuthority({ extensions: [keyUsage(KeyUsageFlags.digitalSignature)] });
    const cases: [string, X509Certificate, X509Certificate, string][] = [
      ["not-ca", await leafCertificate({}, { issuer: notCa }), notCa.certificate, "e_atis_path_issuer_constraints"],
      ["no-key-cert-sign", await leafCertificate({}, { issuer: noKeyCertSign }), noKeyCertSign.certificate, "e_atis_path_issuer_key_usage"],
      // The issuer's name, another key: a re-keyed CA or an impostor.
      ["rekeyed", await leafCertificate(), (await intermediateAuthority()).certificate, "e_atis_path_authority_key_identifier"],
    ];
    for (const [name, leaf, issuer, rule] of cases) {
      const run = await cliJson<LintJson>("cert", "lint", writeFile(dir, `${name}.pem`, pem(leaf)), "--chain", writeFile(dir, `${name}-issuer.pem`, pem(issuer)));
      expect(run.json.certificates.map(rules), name).toEqual([[rule]]);
      expect(run.json.certificates).toHaveLength(1);
    }
  });

  it("without an issuer at hand, no path rule runs", async () => {
    const dir = temporaryDirectory();
    const leaf = await leafCertificate({ extensions: [crlDistributionPoints({ ...STI_PA_CRL, url: "https://crl.lint.test/own.crl" })] });
    expect((await cliJson<LintJson>("cert", "lint", writeFile(dir, "leaf.pem", pem(leaf)))).json.certificates.map(rules)).toEqual([[]]);
  });
});

describe.skipIf(!haveRealworld)("cert lint over the real-world certificates", () => {
  it("lints each of the 111 certificates once, the DER copies and the trusted roots' file merged into them", async () => {
    const { code, json } = await cliJson<LintJson>("cert", "lint", join(REALWORLD, "certificates"), "--profile", "us-cp");
    expect(code).toBe(1);
    expect(json.certificates).toHaveLength(111);
    expect(json.skipped).toEqual([]);
    expect(json.certificates.find((certificate) => certificate.sources[0]!.includes("leaf_39_der_copy"))?.sources).toHaveLength(2);
    expect(json.rules.reduce((sum, tally) => sum + tally.certificates, 0)).toBeGreaterThan(111);
  });
});
