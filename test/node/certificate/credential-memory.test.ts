import "../../../src/lib/reflect-metadata";
import { Extension, X509CertificateGenerator } from "@peculiar/x509";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { CachingCertificateSource, parseCredential } from "../../../src/certificate/certificate-source";
import { MAX_EXTENSIONS_IN_CERTIFICATE } from "../../../src/certificate/pem-chain";
import { generateKeyPair, issueCaCertificate, issueShakenCertificate } from "../../../src/pki";

/**
 * The in-isolate certificate cache (src/certificate/certificate-source.ts) bounds its memory at 16 MiB
 * by what it charges each credential. Any x5u is fetched, and any parseable chain cached, before a
 * signature is checked, so what a hostile repository serves must cost no more than it is charged:
 * measured here as V8 counts it (heap and external memory, after a collection), as a Worker isolate's
 * 128 MB are counted.
 */
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const used = () => {
  gc();
  const { heapUsed, external } = process.memoryUsage();
  return heapUsed + external;
};
const CACHE_BYTES = 16 * 2 ** 20;
const X5U_MAX_BYTES = 32_768;
const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const VALIDITY = { notBefore: new Date("2025-01-01T00:00:00Z"), notAfter: new Date("2035-01-01T00:00:00Z") };

async function certificateWithExtensions(count: number): Promise<string> {
  const keys = (await crypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"])) as CryptoKeyPair;
  const extensions = Array.from({ length: count }, (_, index) => new Extension(`1.2.3.${index}`, false, new Uint8Array([5, 0])));
  return (await X509CertificateGenerator.createSelfSigned({ serialNumber: "01", name: "CN=SHAKEN 0000", ...VALIDITY, keys, signingAlgorithm: ALGORITHM, extensions })).toString("pem");
}

const sourceServing = (body: string) =>
  new CachingCertificateSource({
    fetcher: async () => new Response(body),
    limits: { timeoutMs: 2_000, maxBytes: X5U_MAX_BYTES },
    clock: { now: () => Date.parse("2026-01-01T00:00:00Z") },
    sharedCache: null,
    minimumTtlSeconds: 86_400,
  });

describe("the certificate cache holds no more heap than it accounts for", () => {
  it("refuses a certificate stuffed with 1 900 tiny extensions within X5U_MAX_BYTES (436), and keeps none", async () => {
    const stuffed = await certificateWithExtensions(1_900);
    expect(stuffed.length).toBeLessThanOrEqual(X5U_MAX_BYTES);
    const source = sourceServing(stuffed);
    for (let index = 0; index < 20; index++) {
      await expect(source.credential(new URL(`https://cr.attacker.example/${index}.pem`))).rejects.toMatchObject({ failure: "X5U_NOT_CERTIFICATE_CHAIN" });
    }
    expect(source.size).toBe(0);
  });

  it("filled with the costliest chains it accepts (8 certificates of the most extensions each), holds no more than its 16 MiB", async () => {
    const costliest = (await certificateWithExtensions(MAX_EXTENSIONS_IN_CERTIFICATE)).repeat(8);
    expect(costliest.length).toBeLessThanOrEqual(X5U_MAX_BYTES);
    let source: CachingCertificateSource | null = sourceServing(costliest);
    const before = used();
    for (let index = 0; index < 400; index++) {
      await source.credential(new URL(`https://cr.attacker.example/${index}.pem`));
      // Stop as soon as the bound is clearly broken: unaccounted, 400 of them hold twice the bound.
      if (index % 50 === 49 && used() - before > 1.5 * CACHE_BYTES) break;
    }
    const size = source.size;
    // What the cache holds is what its release frees: the fetches' own garbage, and the code they
    // compiled, are no part of it.
    const full = used();
    source = null;
    const held = full - used();
    expect(size).toBeLessThan(400);
    expect(held).toBeLessThanOrEqual(CACHE_BYTES);
  }, 120_000);

  it("charges a SHAKEN chain (leaf, intermediate, root) at least its heap, and less than three times it", async () => {
    const root = await issueCaCertificate({ subject: [{ C: ["KZ"] }, { O: ["Memory"] }, { CN: ["Memory ROOT"] }], keys: await generateKeyPair(), ...VALIDITY });
    const intermediate = await issueCaCertificate({ issuer: root, subject: [{ C: ["KZ"] }, { O: ["Memory"] }, { CN: ["Memory Intermediate"] }], keys: await generateKeyPair(), ...VALIDITY });
    const leaf = await issueShakenCertificate({ issuer: intermediate, subjectPublicKey: (await generateKeyPair()).publicKey, spc: "818H", organization: "Memory SP", country: "KZ", crlDistributionPoint: { url: "https://crl.example/memory.crl", crlIssuer: null }, ...VALIDITY });
    const body = [leaf, intermediate.certificate, root.certificate].map((certificate) => `${certificate.toString("pem")}\n`).join("");
    await parseCredential("https://cr.example/warm-up.pem", body); // the parser's own first-use allocations are no credential's
    const kept: unknown[] = [];
    for (let index = 0; index < 200; index++) kept.push(await parseCredential(`https://cr.example/${index}.pem`, body));
    const full = used();
    kept.length = 0;
    const heapEach = (full - used()) / 200;
    const { bytes } = await parseCredential("https://cr.example/charged.pem", body);
    expect(bytes).toBeGreaterThanOrEqual(heapEach);
    expect(bytes).toBeLessThan(3 * heapEach);
  }, 60_000);
});
