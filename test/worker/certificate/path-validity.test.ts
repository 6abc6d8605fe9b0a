import "reflect-metadata";
import type { X509Certificate } from "@peculiar/x509";
import { describe, expect, it } from "vitest";
import { buildTrustedPaths, pathValidAt, type TrustedPath } from "../../../src/certificate/chain";
import { VerificationError } from "../../../src/verification/outcomes";

/**
 * ATIS-1000074: a path is judged at the PASSporT's iat, every certificate of it valid then, both ends
 * of each validity period included (RFC 5280 §4.1.2.5). What pathValidAt reads of a certificate is its
 * subject and validity, so these paths are built of just that.
 */
const DAY = 86_400_000;
const T = Date.parse("2026-11-30T10:00:00Z");
const certificate = (subject: string, notBefore: number, notAfter: number) => ({ subject, notBefore: new Date(notBefore), notAfter: new Date(notAfter) }) as unknown as X509Certificate;
const pathOf = (...certificates: X509Certificate[]): TrustedPath => ({
  certificates,
  anchor: certificates.at(-1)!,
  validFrom: Math.max(...certificates.map((each) => each.notBefore.getTime())),
  validUntil: Math.min(...certificates.map((each) => each.notAfter.getTime())),
});

function refusal(paths: TrustedPath[], atMs: number): VerificationError {
  try {
    pathValidAt(paths, atMs);
  } catch (error) {
    if (error instanceof VerificationError) return error;
    throw error;
  }
  throw new Error("a path was valid");
}

describe("a path judged at iat", () => {
  const leaf = certificate("CN=leaf", T, T + DAY);
  const ca = certificate("CN=ca", T - 30 * DAY, T + 30 * DAY);

  it("is valid from its latest notBefore to its earliest notAfter, both instants included", () => {
    const path = pathOf(leaf, ca);
    expect(pathValidAt([path], T)).toBe(path);
    expect(pathValidAt([path], T + DAY)).toBe(path);
  });

  it("is not valid a millisecond outside, naming only the certificates not valid then", () => {
    for (const atMs of [T - 1, T + DAY + 1]) {
      const error = refusal([pathOf(leaf, ca)], atMs);
      expect(error.failure).toBe("CERTIFICATE_NOT_VALID_AT_IAT");
      expect(error.message).toBe(`certificate 'CN=leaf' is not valid at iat ${new Date(atMs).toISOString()} (valid ${new Date(T).toISOString()} to ${new Date(T + DAY).toISOString()})`);
      expect(error.evidence).toEqual({ subject: "CN=leaf", notBefore: new Date(T).toISOString(), notAfter: new Date(T + DAY).toISOString() });
    }
  });

  it("names a certificate valid up to the very instant as valid, and one that expires at it as valid too", () => {
    const edge = certificate("CN=edge", T - DAY, T);
    const late = certificate("CN=late", T + 1, T + DAY);
    expect(refusal([pathOf(edge, late)], T).message).toMatch(/^certificate 'CN=late' is not valid/);
    const early = certificate("CN=early", T - DAY, T - 1);
    const starts = certificate("CN=starts", T, T + DAY);
    expect(refusal([pathOf(starts, early)], T).message).toMatch(/^certificate 'CN=early' is not valid/);
  });
});

describe("what a refusal quotes", () => {
  it("a name of 160 characters whole, a longer one cut to 160 and an ellipsis: a hostile repository writes it", () => {
    const name = (length: number) => `CN=${"x".repeat(length - 3)}`;
    const message = (subject: string) => refusal([pathOf(certificate(subject, T - DAY, T - 1))], T).message;
    expect(message(name(160))).toContain(`'${name(160)}' is not valid`);
    expect(message(name(161))).toContain(`'${name(160)}…' is not valid`);
  });

  it("an empty chain has no certificate to validate", async () => {
    await expect(buildTrustedPaths([], [])).rejects.toMatchObject({ failure: "CHAIN_UNTRUSTED", message: "no certificate to validate" });
  });
});
