import "reflect-metadata";
import { statSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { cli, cliJson, issueWithCli, openssl, type CliPki } from "./support";

let pki: CliPki;
beforeAll(async () => {
  pki = await issueWithCli("818H");
});

describe("certificates issued by the CLI", () => {
  it("pass openssl verify against the root with the intermediate untrusted", () => {
    const leafOnly = join(pki.dir, "leaf.pem");
    openssl("x509", "-in", pki.chain, "-out", leafOnly);
    expect(openssl("verify", "-CAfile", pki.root, "-untrusted", pki.intermediate, leafOnly).trim()).toBe(`${leafOnly}: OK`);
  });

  it("show the TNAuthList SPC in openssl x509 -text", () => {
    const text = openssl("x509", "-in", pki.chain, "-noout", "-text");
    expect(text).toMatch(/1\.3\.6\.1\.5\.5\.7\.1\.26:\s*\n\s*0\.\.\.\.\.818H/);
    expect(text).toContain("Subject: C = KZ, O = Test SP, CN = SHAKEN 818H");
  });

  it("carry the RFC 8226 DER for SPC 818H in the extension (openssl asn1parse)", () => {
    const parsed = openssl("asn1parse", "-in", pki.chain);
    const lines = parsed.split("\n");
    const oidLine = lines.findIndex((line) => line.includes(":1.3.6.1.5.5.7.1.26"));
    expect(oidLine).toBeGreaterThan(0);
    expect(lines[oidLine + 1]).toMatch(/OCTET STRING\s+\[HEX DUMP\]:3008A006160438313848$/);
  });

  // The development intermediate signs the CRL that stands in for the STI-PA's and names no CRL DP,
  // which ATIS-1000080 v004 asks of intermediates: the one profile departure of the development CA.
  it("pass cert lint with zero findings on the leaf, the intermediate's missing CRL DP aside", async () => {
    const { code, json } = await cliJson<{ certificates: { findings: { rule: string }[] }[] }>("cert", "lint", pki.chain);
    expect(code).toBe(1);
    expect(json.certificates.map((certificate) => certificate.findings.map((finding) => finding.rule))).toEqual([[], ["e_atis_ext_crl_distribution_ca"]]);
  });

  it("lint the dev root with zero findings", async () => {
    expect((await cli("cert", "lint", pki.root)).code).toBe(0);
  });

  it("write private keys with mode 0600", () => {
    for (const key of [pki.key, join(pki.dir, "ca/root.key.pem"), join(pki.dir, "ca/intermediate.key.pem")]) {
      expect(statSync(key).mode & 0o777).toBe(0o600);
    }
  });

  it("are reported as trusted by cert inspect, with the SPC", async () => {
    const { json } = await cliJson<{ chain: { trusted: boolean }; certificates: { tnAuthList: { spcs: string[] } }[] }>("cert", "inspect", pki.chain, "--trust-dir", pki.trustDir);
    expect(json.chain.trusted).toBe(true);
    expect(json.certificates[0]?.tnAuthList.spcs).toEqual(["818H"]);
  });

  it("can be revoked: crl revoke lists the serial, openssl sees it revoked", async () => {
    const { json: issued } = await cliJson<{ certificates: { serialNumber: string }[] }>("cert", "inspect", pki.chain, "--trust-dir", pki.trustDir);
    const revoke = await cli("crl", "revoke", pki.chain, "--crl", pki.crl, "--ca-dir", join(pki.dir, "ca"));
    expect(revoke.code, revoke.stderr).toBe(0);
    const { json } = await cliJson<{ entries: { serialNumber: string }[]; crlNumber: number }>("crl", "show", "--crl", pki.crl);
    expect(json.entries.map((entry) => entry.serialNumber)).toEqual([issued.certificates[0]?.serialNumber]);
    expect(json.crlNumber).toBe(2);
    const leafOnly = join(pki.dir, "leaf-revoked.pem");
    openssl("x509", "-in", pki.chain, "-out", leafOnly);
    expect(() => openssl("verify", "-crl_check", "-CRLfile", pki.crl, "-CAfile", pki.root, "-untrusted", pki.intermediate, leafOnly)).toThrow(/certificate revoked/);
  });
});
