import "reflect-metadata";
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { X509Certificate } from "@peculiar/x509";
import { createCrl, createCrlSigner, encodeCrlPem, generateKeyPair, readCertificatesPem, type SigningAuthority } from "../../../src/pki";
import { cli, cliJson, issueWithCli, temporaryDirectory, type CliPki } from "./support";

/** A CA built with the CLI, and an STI-PA CRL signer: the trust directory holds the CA's root and the signer. */
let ca1: CliPki;
let stipa: SigningAuthority;
let dir: string;
let trustDir: string;
let ca1Intermediate: X509Certificate;

const STIPA = "C=KZ, O=STI-PA, CN=STI-PA CRL";
const file = (name: string, content: string) => (writeFileSync(join(dir, name), content), join(dir, name));

beforeAll(async () => {
  [ca1, stipa] = await Promise.all([issueWithCli(), createCrlSigner({ subject: STIPA, notBefore: new Date("2025-01-01"), notAfter: new Date("2035-01-01") })]);
  dir = temporaryDirectory();
  trustDir = join(dir, "trust");
  ca1Intermediate = readCertificatesPem(readFileSync(ca1.intermediate, "utf8"))[0]!;
  expect((await cli("trust", "add", ca1.root, "--trust-dir", trustDir)).code).toBe(0);
  expect((await cli("trust", "add", file("stipa.pem", stipa.certificate.toString("pem")), "--trust-dir", trustDir, "--crl-signer", "--source", "stipa")).code).toBe(0);
});

const stipaCrl = async (signingKey = stipa.privateKey) =>
  encodeCrlPem(await createCrl({ issuer: { certificate: stipa.certificate, privateKey: signingKey }, revoked: [], thisUpdate: new Date(), nextUpdate: new Date(Date.now() + 86_400_000), crlNumber: 3, issuingDistributionPoint: { indirectCRL: true } }));

describe("crl push verifies every CRL's signature before anything is stored", () => {
  it("refuses, in one line and storing nothing, a CRL in the CA's name signed by another key", async () => {
    const forged = encodeCrlPem(await createCrl({ issuer: { certificate: ca1Intermediate, privateKey: (await generateKeyPair()).privateKey }, revoked: [], thisUpdate: new Date(), nextUpdate: new Date(Date.now() + 86_400_000), crlNumber: 9 }));
    const state = temporaryDirectory();
    const run = await cli("crl", "push", "--crl", file("good.crl.pem", await stipaCrl()), "--crl", file("forged.crl.pem", forged), "--issuer", ca1.intermediate, "--trust-dir", trustDir, "--persist-to", state);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^shaken-edge crl push: \S*forged\.crl\.pem: CRL signature does not verify with a trusted signer named '.*shaken-edge.*'.*; nothing stored\n$/);
    expect(readdirSync(state)).toEqual([]); // wrangler was never run
  });

  it("refuses an STI-PA CRL signed by a key other than the trusted CRL signer's", async () => {
    const run = await cli("crl", "push", "--crl", file("impostor.crl.pem", await stipaCrl((await generateKeyPair()).privateKey)), "--trust-dir", trustDir, "--persist-to", temporaryDirectory());
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/CRL signature does not verify with a trusted signer named 'C=KZ, O=STI-PA, CN=STI-PA CRL'/);
  });

  it("refuses an --issuer that does not chain to an anchor of the trust directory", async () => {
    const run = await cli("crl", "push", "--crl", ca1.crl, "--issuer", ca1.intermediate, "--trust-dir", temporaryDirectory(), "--persist-to", temporaryDirectory());
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/no trusted issuer found.*only a CA that chains to an anchor of .* may sign a pushed CRL/);
  });

  it("refuses two CRLs of one issuer in one push", async () => {
    const run = await cli("crl", "push", "--crl", ca1.crl, "--crl", ca1.crl, "--issuer", ca1.intermediate, "--trust-dir", trustDir, "--persist-to", temporaryDirectory());
    expect(run).toMatchObject({ code: 2, stderr: expect.stringMatching(/a second CRL of .*; the set holds one CRL per issuer/) });
  });
});

interface ListedCrl {
  issuer: string;
  crlNumber: string | null;
  revoked: number;
  current: boolean;
  source: string | null;
}

describe("the CRL set is keyed by issuer: push adds or replaces per issuer, list and remove (wrangler, local state)", () => {
  it("pushing CA 1's CRL keeps the STI-PA's; an older CRL never replaces a newer one; remove takes one issuer out", { timeout: 240_000 }, async () => {
    const state = ["--persist-to", temporaryDirectory()];
    const list = async () => (await cliJson<{ crls: ListedCrl[] }>("crl", "list", ...state)).json.crls;

    const first = await cli("crl", "push", "--crl", file("stipa.crl.pem", await stipaCrl()), "--trust-dir", trustDir, ...state);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^added +CRL #3 of C=KZ, O=STI-PA, CN=STI-PA CRL\ncrls: 1 CRL\(s\) in the set; isolates use it within TRUST_REFRESH_SECONDS \(30 s unless configured\)\n$/);

    const ca1First = join(dir, "ca1-first.crl.pem");
    copyFileSync(ca1.crl, ca1First);
    expect((await cli("crl", "push", "--crl", ca1.crl, "--issuer", ca1.intermediate, "--trust-dir", trustDir, ...state)).stdout).toMatch(/^added +CRL #1 of .*Intermediate CA\ncrls: 2 CRL\(s\) in the set/);

    // A revocation makes CRL #2 of CA 1: it replaces #1, and the STI-PA's CRL stays.
    expect((await cli("crl", "revoke", ca1.chain, "--crl", ca1.crl, "--ca-dir", join(ca1.dir, "ca"))).code).toBe(0);
    const replaced = await cli("crl", "push", "--crl", ca1.crl, "--issuer", ca1.intermediate, "--trust-dir", trustDir, ...state);
    expect(replaced.stdout).toMatch(/^replaced +CRL #1 of .* by #2\n/);
    expect((await list()).map((crl) => [crl.issuer, crl.crlNumber, crl.revoked, crl.current, crl.source])).toEqual([
      [STIPA, "3", 0, true, "push"],
      [ca1Intermediate.subject, "2", 1, true, "push"],
    ]);

    // Pushing the older #1 again (a restart re-pushing a stale file) keeps #2 and writes nothing.
    const older = await cli("crl", "push", "--crl", ca1First, "--issuer", ca1.intermediate, "--trust-dir", trustDir, ...state);
    expect(older.stdout).toMatch(/^kept +CRL #2 of .*: newer than the pushed #1\ncrls: nothing to write\n$/);

    const removed = await cli("crl", "remove", "sti-pa", ...state);
    expect(removed.stdout).toMatch(/^removed CRL #3 of C=KZ, O=STI-PA, CN=STI-PA CRL; 1 CRL\(s\) left; isolates use it within TRUST_REFRESH_SECONDS/);
    expect((await list()).map((crl) => crl.crlNumber)).toEqual(["2"]);
    expect(await cli("crl", "remove", "no such issuer", ...state)).toMatchObject({ code: 2, stderr: expect.stringMatching(/^shaken-edge crl remove: no such issuer: no CRL issuer in the set matches \(.*\)\n$/) });
  });
});

describe("trust add --crl-signer", () => {
  it("adds a key trusted to sign CRLs only, and the Worker's document says so", async () => {
    const exported = await cliJson<{ anchors: { subject: string; use: string }[] }>("trust", "export", "--trust-dir", trustDir);
    expect(exported.json.anchors.map((anchor) => anchor.use).sort()).toEqual(["anchor", "crl-signer"]);
    expect(exported.json.anchors.find((anchor) => anchor.use === "crl-signer")).toMatchObject({ subject: STIPA });
    expect((await cli("trust", "list", "--trust-dir", trustDir)).stdout).toMatch(/stipa +crl-signer C=KZ, O=STI-PA, CN=STI-PA CRL/);
  });

  it("refuses a certificate whose keyUsage does not allow signing CRLs", async () => {
    const run = await cli("trust", "add", join(import.meta.dirname, "../../../certs/sp/sp.pem"), "--crl-signer", "--trust-dir", temporaryDirectory());
    expect(run).toMatchObject({ code: 2, stderr: expect.stringMatching(/has a keyUsage without cRLSign, so it cannot sign CRLs/) });
  });
});
