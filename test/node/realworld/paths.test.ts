import "reflect-metadata";
import { X509Certificate } from "@peculiar/x509";
import { beforeAll, describe, expect, it } from "vitest";
import { buildTrustedPaths, pathValidAt, type TrustedPath } from "../../../src/certificate/chain";
import { VerificationError } from "../../../src/verification/outcomes";
import { haveRealworld, list, pemBlocks, read } from "./realworld";

/**
 * RFC 5280 §6 path validation over the real STI-CA certificates of ../shared/realworld: every leaf is
 * offered every real CA certificate (a repository serving far more than its own chain), against the
 * roots the 2025-08-18 survey trusted. The stricter checks (keyCertSign, pathLenConstraint, critical
 * extensions, §7.1 names) must not refuse a real chain, and re-issued intermediates must be found.
 */
const certificate = (...parts: string[]) => new X509Certificate(pemBlocks(read(...parts))[0]!);
const leafFiles = haveRealworld ? list("certificates", "leaf").filter((name) => name.endsWith(".pem")) : [];

/** The leaves whose issuer the survey's roots trust: the same set the first-match builder chained. */
const TRUSTED = [4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 18, 19, 20, 21, 25, 26, 27, 28, 29, 30, 31, 33, 34, 36, 37, 38, 39, 40, 41, 45, 46, 49, 50, 51, 52];

const outcomes = new Map<string, TrustedPath[] | VerificationError>();
const outcomeOf = (leafNumber: number) => outcomes.get(leafFiles.find((name) => name.startsWith(`leaf_${String(leafNumber).padStart(2, "0")}_`))!)!;
const pathsOf = (leafNumber: number) => outcomeOf(leafNumber) as TrustedPath[];
const at = (iso: string) => new Date(iso).getTime();

beforeAll(async () => {
  if (!haveRealworld) return;
  const cas = list("certificates", "ca").map((name) => certificate("certificates", "ca", name));
  const anchors = pemBlocks(read("certificates", "roots-trusted-by-2025-08-18-survey.pem")).map((pem) => new X509Certificate(pem));
  for (const name of leafFiles) {
    const leaf = certificate("certificates", "leaf", name);
    outcomes.set(name, await buildTrustedPaths([leaf, ...cas], anchors).catch((error: unknown) => error as VerificationError));
  }
});

describe.skipIf(!haveRealworld)("real STI-CA chains (../shared/realworld/certificates)", () => {
  it("chains exactly the leaves whose issuers the survey trusted; every other names the issuer it could not find", () => {
    const trusted = leafFiles.filter((name) => Array.isArray(outcomes.get(name))).map((name) => Number(name.slice(5, 7)));
    expect(trusted).toEqual(TRUSTED);
    for (const name of leafFiles.filter((file) => !Array.isArray(outcomes.get(file)))) {
      expect(outcomes.get(name), name).toMatchObject({ failure: "CHAIN_UNTRUSTED", message: expect.stringMatching(/^no trusted issuer found for '/) });
    }
  });

  it("finds the re-issue of an intermediate that the first match missed (Sansay US West 1, re-issued in 2022 under the same key)", () => {
    for (const leafNumber of [33, 34]) {
      const paths = pathsOf(leafNumber);
      expect(paths.map((path) => path.certificates[1]!.notAfter.toISOString().slice(0, 10))).toEqual(["2022-10-13", "2029-08-31"]);
      const leaf = paths[0]!.certificates[0]!;
      expect(pathValidAt(paths, leaf.notBefore.getTime() + 86_400_000).certificates[1]!.notAfter.toISOString().slice(0, 10)).toBe("2029-08-31");
    }
  });

  it("uses the 2020 issue of Metaswitch Issuing 1 for a call before its 2023 re-issue began", () => {
    const paths = pathsOf(14);
    expect(paths).toHaveLength(2);
    expect(pathValidAt(paths, at("2022-06-01T00:00:00Z")).certificates[1]!.notBefore.toISOString().slice(0, 10)).toBe("2020-11-25");
    expect(pathValidAt(paths, at("2023-06-01T00:00:00Z")).certificates[1]!.notBefore.toISOString().slice(0, 10)).toBe("2023-02-10");
  });

  it("accepts what real CAs carry: critical certificatePolicies (Martini G1, NetNumber), roots without keyUsage (Telonium), pathLenConstraints (T-Mobile, NetNumber)", () => {
    const anchorOf = (leafNumber: number) => pathsOf(leafNumber)[0]!.anchor.subject;
    expect(pathsOf(10)[0]!.certificates[1]!.extensions.find((extension) => extension.type === "2.5.29.32")?.critical).toBe(true);
    expect(anchorOf(10)).toMatch(/Martini Security SHAKEN R1/);
    expect(anchorOf(49)).toMatch(/NetNumber SHAKEN Root CA 1/);
    for (const leafNumber of [39, 40, 41]) expect(anchorOf(leafNumber)).toMatch(/Telonium STI-CA Root1/);
    expect(anchorOf(36)).toMatch(/TMOBILE-PROD-ROOT-STIRSHAKEN-EC/);
  });
});
