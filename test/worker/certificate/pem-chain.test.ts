import "reflect-metadata";
import { describe, expect, it } from "vitest";
import { Extension, X509CertificateGenerator } from "@peculiar/x509";
import { MAX_CERTIFICATE_BYTES, MAX_CERTIFICATES_IN_CHAIN, MAX_EXTENSIONS_IN_CERTIFICATE, parsePemChain } from "../../../src/certificate/pem-chain";
import { generateKeyPair, issueCaCertificate } from "../../../src/pki";

/** What a repository body must be to be read as a chain (RFC 8555 §9.1), and what its refusal says. */
async function certificatePem(): Promise<string> {
  const validity = { notBefore: new Date("2025-01-01T00:00:00Z"), notAfter: new Date("2035-01-01T00:00:00Z") };
  const { certificate } = await issueCaCertificate({ subject: [{ CN: ["PEM Chain"] }], keys: await generateKeyPair(), ...validity });
  return certificate.toString("pem");
}

const refusal = (body: string) => {
  try {
    parsePemChain(body);
  } catch (error) {
    return error as { failure: string; message: string };
  }
  throw new Error("the body was read as a chain");
};

describe("a repository body", () => {
  it("is read as every certificate it holds, in order", async () => {
    const pem = await certificatePem();
    expect(parsePemChain(`${pem}\n${pem}`)).toHaveLength(2);
  });

  it("with a CERTIFICATE block that is not DER is refused, naming the block by its place", async () => {
    const garbage = "-----BEGIN CERTIFICATE-----\nAAECAwQF\n-----END CERTIFICATE-----\n";
    expect(refusal(`${await certificatePem()}${garbage}`)).toMatchObject({ failure: "X5U_NOT_CERTIFICATE_CHAIN", message: "certificate #2 in the repository body is not valid DER" });
    expect(refusal(garbage).message).toBe("certificate #1 in the repository body is not valid DER");
  });

  it("with another kind of PEM block, no PEM at all, or more certificates than a chain holds, is refused", async () => {
    const pem = await certificatePem();
    expect(refusal(`${pem}-----BEGIN PRIVATE KEY-----\nAAEC\n-----END PRIVATE KEY-----\n`).message).toBe("repository body contains a 'PRIVATE KEY' PEM block; only CERTIFICATE is accepted");
    expect(refusal("<html>not found</html>").message).toBe("repository body holds no PEM certificate");
    expect(parsePemChain(pem.repeat(MAX_CERTIFICATES_IN_CHAIN))).toHaveLength(MAX_CERTIFICATES_IN_CHAIN);
    expect(refusal(pem.repeat(MAX_CERTIFICATES_IN_CHAIN + 1)).message).toBe(`repository body holds more than ${MAX_CERTIFICATES_IN_CHAIN} certificates`);
  });
});

/** A self-signed certificate carrying `count` private extensions of `valueBytes` each (what a hostile repository may serve). */
async function certificateWithExtensions(count: number, valueBytes = 2): Promise<string> {
  const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
  const keys = (await crypto.subtle.generateKey(algorithm, true, ["sign", "verify"])) as CryptoKeyPair;
  const extensions = Array.from({ length: count }, (_, index) => new Extension(`1.2.3.${index}`, false, new Uint8Array([4, valueBytes - 2, ...new Uint8Array(valueBytes - 2)])));
  const validity = { notBefore: new Date("2025-01-01T00:00:00Z"), notAfter: new Date("2035-01-01T00:00:00Z") };
  const certificate = await X509CertificateGenerator.createSelfSigned({ serialNumber: "01", name: "CN=SHAKEN 0000", ...validity, keys, signingAlgorithm: algorithm, extensions });
  return certificate.toString("pem");
}

describe("a certificate in a repository body is bounded before it is parsed", () => {
  it(`carrying at most ${MAX_EXTENSIONS_IN_CERTIFICATE} extensions is read; one more is refused, naming the limit`, async () => {
    expect(parsePemChain(await certificateWithExtensions(MAX_EXTENSIONS_IN_CERTIFICATE))[0]!.extensions).toHaveLength(MAX_EXTENSIONS_IN_CERTIFICATE);
    const stuffed = await certificateWithExtensions(MAX_EXTENSIONS_IN_CERTIFICATE + 1);
    expect(refusal(`${await certificatePem()}${stuffed}`)).toMatchObject({
      failure: "X5U_NOT_CERTIFICATE_CHAIN",
      message: `certificate #2 in the repository body carries 33 extensions; at most ${MAX_EXTENSIONS_IN_CERTIFICATE} are accepted`,
    });
  });

  it("stuffed with 1 900 tiny extensions within X5U_MAX_BYTES, it is refused (436) by its size, before its outline is read", async () => {
    const stuffed = await certificateWithExtensions(1_900);
    expect(stuffed.length).toBeLessThanOrEqual(32_768);
    expect(refusal(stuffed)).toMatchObject({ failure: "X5U_NOT_CERTIFICATE_CHAIN", message: expect.stringMatching(new RegExp(`^certificate #1 in the repository body is \\d+ bytes long; at most ${MAX_CERTIFICATE_BYTES} are accepted$`)) });
  });

  it(`of more than ${MAX_CERTIFICATE_BYTES} bytes of DER is refused, naming the limit`, async () => {
    const large = await certificateWithExtensions(2, 4_500);
    expect(refusal(large)).toMatchObject({ failure: "X5U_NOT_CERTIFICATE_CHAIN", message: expect.stringMatching(new RegExp(`^certificate #1 in the repository body is \\d+ bytes long; at most ${MAX_CERTIFICATE_BYTES} are accepted$`)) });
    expect(parsePemChain(await certificateWithExtensions(1, 7_000))).toHaveLength(1);
  });

  it("whose outline is no DER (cut short, or an indefinite length) is refused as not valid DER", async () => {
    const der = Uint8Array.from(atob((await certificatePem()).replace(/-----[A-Z ]+-----|\s+/g, "")), (character) => character.charCodeAt(0));
    const pemOf = (bytes: Uint8Array) => `-----BEGIN CERTIFICATE-----\n${btoa(String.fromCharCode(...bytes))}\n-----END CERTIFICATE-----\n`;
    expect(refusal(pemOf(der.subarray(0, der.length - 1))).message).toBe("certificate #1 in the repository body is not valid DER");
    const indefinite = Uint8Array.from([0x30, 0x80, ...der.subarray(4), 0, 0]);
    expect(refusal(pemOf(indefinite)).message).toBe("certificate #1 in the repository body is not valid DER");
  });
});
