import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { X509Certificate } from "@peculiar/x509";
import { staticCertificateSource } from "../../../src/certificate/certificate-source";
import type { VerifierOptions } from "../../../src/verification/verify-identity";

/**
 * ../shared/realworld beside the repository (read-only public material; see its README), or the
 * directory SHAKEN_REALWORLD_DIR names: a clone elsewhere, or a mutation run's sandbox, reads it there.
 */
export const REALWORLD = process.env.SHAKEN_REALWORLD_DIR ?? resolve(import.meta.dirname, "../../../../shared/realworld");
export const haveRealworld = existsSync(REALWORLD);

export const read = (...parts: string[]) => readFileSync(join(REALWORLD, ...parts), "utf8");
export const list = (...parts: string[]) => readdirSync(join(REALWORLD, ...parts)).sort();

export function pemBlocks(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
}

/** Verifier options for the real captures: the survey's approved roots, repositories answered offline. */
export function realworldVerifier(at: number, chains: Record<string, string>): VerifierOptions {
  const anchors = pemBlocks(read("certificates", "roots-trusted-by-2025-08-18-survey.pem")).map((pem) => new X509Certificate(pem));
  return {
    clock: { now: () => at * 1000 },
    certificates: staticCertificateSource((url) => chains[url]),
    trust: { current: async () => ({ version: "survey-2025-08-18", anchors, crlSigners: [], crls: [], available: true, staleBecause: null }) },
    x5u: { allowInsecureLoopback: false, allowedHosts: [] },
    freshnessSeconds: 60,
    futureSkewSeconds: 60,
    crlMode: "soft",
    strictProfile: false,
  };
}
