import "reflect-metadata";
import { describe, expect, it } from "vitest";
import { MAX_CERTIFICATES_IN_CHAIN, parsePemChain } from "../../../src/certificate/pem-chain";
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
