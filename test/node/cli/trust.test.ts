import "reflect-metadata";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { CompactSign } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { parseTrustAnchorDocument } from "../../../src/certificate/trust-format";
import { createDevelopmentCa, type DevelopmentCa } from "../../../src/pki";
import { cli, cliJson, temporaryDirectory } from "./support";

let stipa: DevelopmentCa;
let roots: DevelopmentCa[];
beforeAll(async () => {
  const validity = { country: "US", notBefore: new Date("2025-01-01"), notAfter: new Date("2035-01-01") };
  const [stipaCa, ...rootCas] = await Promise.all(["STI-PA", "CA One", "CA Two"].map((organization) => createDevelopmentCa({ organization, ...validity })));
  stipa = stipaCa!;
  roots = rootCas;
});

async function stipaList(exp: number, signer = stipa): Promise<string> {
  const payload = { version: 1, sequence: 42, exp, trustList: roots.map((ca) => ca.root.certificate.toString("pem")) };
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader({ alg: "ES256" }).sign(signer.root.privateKey);
}

describe("trust store", () => {
  it("add, list, export (the Worker's document), remove", async () => {
    const dir = temporaryDirectory();
    const rootFile = join(dir, "root.pem");
    writeFileSync(rootFile, roots[0]!.root.certificate.toString("pem"));
    const trustDir = join(dir, "trust");
    expect((await cli("trust", "add", rootFile, "--trust-dir", trustDir, "--source", "dev")).code).toBe(0);
    expect((await cliJson<{ added: unknown[] }>("trust", "add", rootFile, "--trust-dir", trustDir)).json.added).toEqual([]);
    const exported = await cli("trust", "export", "--trust-dir", trustDir);
    const document = parseTrustAnchorDocument(exported.stdout);
    expect(document.anchors).toHaveLength(1);
    expect(document.anchors[0]).toMatchObject({ source: "dev", subject: roots[0]!.root.certificate.subject });
    expect((await cli("trust", "remove", document.anchors[0]!.sha256.slice(0, 12), "--trust-dir", trustDir)).code).toBe(0);
    expect((await cliJson<{ anchors: unknown[] }>("trust", "list", "--trust-dir", trustDir)).json.anchors).toEqual([]);
  });

  it("refuses a leaf as trust anchor", async () => {
    const run = await cli("trust", "add", join(import.meta.dirname, "../../../certs/sp/sp.pem"), "--trust-dir", temporaryDirectory());
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/is not a CA certificate/);
  });

  it("import-stipa verifies the STI-PA signature and expiry, then adds the roots", async () => {
    const dir = temporaryDirectory();
    const stipaCert = join(dir, "stipa.pem");
    writeFileSync(stipaCert, stipa.root.certificate.toString("pem"));
    const trustDir = join(dir, "trust");
    const file = (name: string, content: string) => (writeFileSync(join(dir, name), content), join(dir, name));

    const forged = await cli("trust", "import-stipa", file("forged.jws", await stipaList(2_000_000_000, roots[0])), "--stipa-cert", stipaCert, "--trust-dir", trustDir);
    expect(forged.code).toBe(2);
    expect(forged.stderr).toMatch(/signature verification failed/);

    const expired = await cli("trust", "import-stipa", file("expired.jws", await stipaList(1_700_000_000)), "--stipa-cert", stipaCert, "--trust-dir", trustDir);
    expect(expired.code).toBe(2);
    expect(expired.stderr).toMatch(/expired/);

    const { code, json } = await cliJson<{ sequence: number; added: { source: string }[] }>(
      "trust", "import-stipa", file("list.jws", await stipaList(2_000_000_000)), "--stipa-cert", stipaCert, "--trust-dir", trustDir,
    );
    expect(code).toBe(0);
    expect(json.added.map((anchor) => anchor.source)).toEqual(["stipa:42", "stipa:42"]);
  });
});
