import "reflect-metadata";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildFixturePki, type FixturePki } from "../../setup/pki-fixtures";
import { openssl, temporaryDirectory } from "../cli/support";

let fixtures: FixturePki;
const dir = temporaryDirectory();
const file = (name: keyof FixturePki) => {
  const path = join(dir, `${name}.pem`);
  writeFileSync(path, fixtures[name]);
  return path;
};
/** openssl verify at 2026-01-01, the middle of the fixture leaves' validity. */
const verifyAt2026 = (leaf: keyof FixturePki, ...extra: string[]) =>
  openssl("verify", "-attime", "1767225600", ...extra, "-CAfile", file("root"), "-untrusted", file("intermediate"), file(leaf));

beforeAll(async () => {
  fixtures = await buildFixturePki();
});

describe("buildFixturePki (worker-test fixtures)", () => {
  it("is plain JSON", () => {
    expect(JSON.parse(JSON.stringify(fixtures))).toEqual(fixtures);
  });

  it("leaf, revoked and TNAuthList-less leaves chain to the root", () => {
    for (const leaf of ["leaf", "revokedLeaf", "noTnAuthListLeaf"] as const) expect(verifyAt2026(leaf)).toContain(": OK");
  });

  it("the expired leaf is expired, the revoked leaf is in the CRL, the untrusted leaf does not chain", () => {
    expect(() => verifyAt2026("expiredLeaf")).toThrow(/certificate has expired/);
    expect(() => verifyAt2026("revokedLeaf", "-crl_check", "-CRLfile", file("crl"))).toThrow(/certificate revoked/);
    expect(verifyAt2026("leaf", "-crl_check", "-CRLfile", file("crl"))).toContain(": OK");
    expect(() => verifyAt2026("untrustedLeaf")).toThrow(/unable to get local issuer certificate/);
  });

  it("the leaf carries SPC 818H", () => {
    expect(openssl("x509", "-in", file("leaf"), "-noout", "-text")).toMatch(/CN = SHAKEN 818H[\s\S]*0\.\.\.\.\.818H/);
  });
});
