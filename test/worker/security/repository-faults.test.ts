import "../../../src/lib/reflect-metadata";
import { BasicConstraintsExtension, X509CertificateGenerator } from "@peculiar/x509";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import type { Registration } from "../support/registration";
import { answeredBefore, checkOf, verdictVia } from "../abuse/support";
import { hits, installTrust, movableApp, pki, register, signedIdentity, uniquePath, verdictRequest } from "../support/stir";

/**
 * Certificate repositories misbehaving, beyond the single cases of
 * test/worker/verification/certificate-repository.test.ts: each fault must be answered within the
 * verdict budget with 436, and leave no credential in the cache — the same URL serving a good chain
 * once the failure's X5U_FAILURE_CACHE_SECONDS are over is fetched again and used.
 */
beforeEach(() => installTrust());

const BUDGET_MS = 1_000;
// A 1 MiB read limit (the largest allowed), so each fault meets its own guard rather than the size limit.
const bindings = { ...env, VERDICT_BUDGET_MS: String(BUDGET_MS), X5U_MAX_BYTES: "1048576" };
const goodChain = () => `${pki.leaf}${pki.intermediate}`;

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const newKeys = () => crypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]) as Promise<CryptoKeyPair>;

/** A leaf issued by CA "A", whose certificate names "B" as issuer, whose certificate names "A": a loop. */
async function issuerLoopChain(): Promise<string> {
  const [a, b, leaf] = await Promise.all([newKeys(), newKeys(), newKeys()]);
  const validity = { notBefore: new Date("2025-01-01T00:00:00Z"), notAfter: new Date("2030-01-01T00:00:00Z") };
  const ca = (subject: string, issuer: string, keys: CryptoKeyPair, signer: CryptoKeyPair) =>
    X509CertificateGenerator.create({ serialNumber: "0a1b", subject, issuer, ...validity, publicKey: keys.publicKey, signingKey: signer.privateKey, signingAlgorithm: ALGORITHM, extensions: [new BasicConstraintsExtension(true, undefined, true)] });
  const certificates = await Promise.all([
    X509CertificateGenerator.create({ serialNumber: "0c1d", subject: "CN=SHAKEN 818H", issuer: "CN=Loop CA A", ...validity, publicKey: leaf.publicKey, signingKey: a.privateKey, signingAlgorithm: ALGORITHM }),
    ca("CN=Loop CA A", "CN=Loop CA B", a, b),
    ca("CN=Loop CA B", "CN=Loop CA A", b, a),
  ]);
  return certificates.map((certificate) => certificate.toString("pem")).join("\n");
}

const FAULTS: [string, () => Promise<Omit<Registration, "path">>, RegExp][] = [
  ["HTTP 500", async () => ({ status: 500, body: "internal error" }), /repository answered HTTP 500/],
  ["HTTP 404", async () => ({ status: 404 }), /repository answered HTTP 404/],
  ["a 10 MB body", async () => ({ body: `${goodChain()}${"#".repeat(10 * 1024 * 1024)}` }), /bytes; at most 1048576|exceeds 1048576 bytes/],
  ["an endless body", async () => ({ endless: true }), /exceeds 1048576 bytes/],
  ["a body that is not PEM", async () => ({ body: "<html><body>Welcome to nginx!</body></html>" }), /holds no PEM certificate/],
  ["the PEM of a private key", async () => ({ body: pki.leafKeyPkcs8 }), /'PRIVATE KEY' PEM block/],
  ["100 certificates", async () => ({ body: goodChain().repeat(50) }), /more than 8 certificates/],
  ["a chain loop (A issued by B issued by A)", async () => ({ body: await issuerLoopChain() }), /chain loops/],
  ["a 503 slower than the budget", async () => ({ status: 503, delayMs: 1_500 }), /did not answer within the 1000 ms verdict budget/],
];

describe("certificate repository faults: 436 within the budget, nothing cached", () => {
  it.each(FAULTS)("%s", async (_fault, fault, reason) => {
    const path = uniquePath("fault");
    const x5u = await register({ path, ...(await fault()) });
    const { app, advance } = movableApp();
    const faulty = await verdictVia(app, verdictRequest([(await signedIdentity({ x5u })).identity]), bindings);
    expect(faulty.stir).toMatchObject({ reasoncode: 436, reasondesc: expect.stringMatching(reason) });
    expect(faulty.deadline.budgetMs).toBe(BUDGET_MS);
    expect(answeredBefore(faulty, 2_000)).toBe(true); // not held to X5U_FETCH_TIMEOUT_MS by a slow or endless repository

    await register({ path, body: goodChain() });
    advance(30);
    const good = await verdictVia(app, verdictRequest([(await signedIdentity({ x5u })).identity]), bindings);
    expect(good.stir.reasoncode).toBeNull();
    expect(checkOf(good, "x5u.fetch")?.result).toBe("pass");
    expect(await hits(x5u)).toBe(1); // registering reset the count: the good chain was fetched, not served from a cache
  });
});
