import "../../src/lib/reflect-metadata";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { X509CertificateGenerator, cryptoProvider } from "@peculiar/x509";

describe("smoke", () => {
  it("healthz", async () => {
    const res = await exports.default.fetch("http://x/healthz");
    expect(await res.json()).toMatchObject({ ok: true });
  });
  it("x509 self-signed in workerd", async () => {
    const alg = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
    const keys = await crypto.subtle.generateKey(alg, true, ["sign", "verify"]) as CryptoKeyPair;
    const cert = await X509CertificateGenerator.createSelfSigned({ serialNumber: "01", name: "CN=Test ROOT", notBefore: new Date(), notAfter: new Date(Date.now()+1e9), keys, signingAlgorithm: alg });
    expect(await cert.verify()).toBe(true);
  });
});
