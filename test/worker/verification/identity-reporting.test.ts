import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { checkOf, verdictVia } from "../abuse/support";
import { appAt, CALLEE, CALLER, craftIdentity, issueTestLeaf, serveChain, signedIdentity, verdictRequest, verifyWithFixtureTrust } from "../support/stir";

/**
 * What verifyIdentity reports about each PASSporT (RFC 8224 §6.2's steps, the claims as signed, the
 * profile findings) and the dest rule of RFC 8224 §6.2.2. Each test here was written against a
 * StrykerJS survivor of src/verification (docs/mutation.md).
 */
verifyWithFixtureTrust();

const STEP_IDS = [
  "identity.syntax",
  "passport.header",
  "passport.claims",
  "passport.freshness",
  "passport.orig",
  "passport.dest",
  "x5u.policy",
  "x5u.fetch",
  "certificate.chain",
  "certificate.validity",
  "certificate.revocation",
  "certificate.tnauthlist",
  "certificate.claim-constraints",
  "certificate.key",
  "passport.signature",
];

type Verdict = Awaited<ReturnType<typeof verdictVia>>;
const stepsOf = (verdict: Verdict) => verdict.checks.filter((check) => STEP_IDS.includes(check.id) || check.id === "certificate.profile").map((check) => [check.id, check.result]);

describe("the steps of a PASSporT, in order", () => {
  it("a verified call passes every step but revocation, which soft mode skips without a CRL", async () => {
    const verdict = await verdictVia(appAt(), verdictRequest([(await signedIdentity()).identity]));
    expect(verdict.verstat).toBe("TN-Validation-Passed");
    expect(stepsOf(verdict)).toEqual(STEP_IDS.map((id) => [id, id === "certificate.revocation" ? "skip" : "pass"]));
    expect(verdict.checks.every((check) => typeof check === "object" && typeof check.id === "string")).toBe(true);
  });

  it("a profile failure in strict mode fails after the TNAuthList and the claim constraints and leaves the key and signature not run", async () => {
    const leaf = await issueTestLeaf({ deviations: { keyUsageNotCritical: true } });
    const identity = (await signedIdentity({ x5u: await serveChain(leaf.pem), key: leaf.keyPkcs8 })).identity;
    const verdict = await verdictVia(appAt(), verdictRequest([identity]), { ...env, STRICT_PROFILE: "true" });
    expect(stepsOf(verdict)).toEqual([
      ...STEP_IDS.slice(0, 13).map((id) => [id, id === "certificate.revocation" ? "skip" : "pass"]),
      ["certificate.profile", "fail"],
      ["certificate.key", "skip"],
      ["passport.signature", "skip"],
    ]);
  });
});

describe("strict mode fails profile errors, not warnings (ATIS-1000080)", () => {
  it("verifies the fixture leaf, which the profile finds nothing in, and reports no profile check", async () => {
    const verdict = await verdictVia(appAt(), verdictRequest([(await signedIdentity()).identity]), { ...env, STRICT_PROFILE: "true" });
    expect(verdict.verstat).toBe("TN-Validation-Passed");
    expect(checkOf(verdict, "certificate.profile")).toBeUndefined();
  });

  it("verifies a leaf with a warning only (a 55-bit serial), reporting the warning", async () => {
    const leaf = await issueTestLeaf({ deviations: { serialNumber: "0x7f112233445566" } });
    const identity = (await signedIdentity({ x5u: await serveChain(leaf.pem), key: leaf.keyPkcs8 })).identity;
    const verdict = await verdictVia(appAt(), verdictRequest([identity]), { ...env, STRICT_PROFILE: "true" });
    expect(verdict.verstat).toBe("TN-Validation-Passed");
    expect(checkOf(verdict, "certificate.profile")).toMatchObject({ result: "warn", evidence: { findings: ["w_atis_serial_number_size"] } });
  });

  it("names the rules a strict-mode failure broke", async () => {
    const leaf = await issueTestLeaf({ deviations: { keyUsageNotCritical: true } });
    const identity = (await signedIdentity({ x5u: await serveChain(leaf.pem), key: leaf.keyPkcs8 })).identity;
    const verdict = await verdictVia(appAt(), verdictRequest([identity]), { ...env, STRICT_PROFILE: "true" });
    expect(verdict.stir.reasondesc).toBe("signing certificate violates the ATIS-1000080 profile: e_atis_ext_key_usage");
  });
});

describe("the claims each identity reports, as signed", () => {
  it("reports orig, dest and origid of a verified PASSporT and of one that failed after its claims were read", async () => {
    const verified = await verdictVia(appAt(), verdictRequest([(await signedIdentity({ origid: "origin-7" })).identity]));
    expect(verified.identities[0]!).toMatchObject({ origid: "origin-7", orig: CALLER, dest: [CALLEE] });
    const failed = await verdictVia(appAt(), verdictRequest([(await signedIdentity({ origid: "origin-8", orig: "77272500000" })).identity]));
    expect(failed.identities[0]!).toMatchObject({ origid: "origin-8", orig: "77272500000", dest: [CALLEE] });
  });

  it("reports a dest of numbers and URIs, numbers first", async () => {
    const claims = { attest: "A", dest: { tn: [CALLEE], uri: ["sip:bob@operator.example"] }, iat: 1_764_288_000, orig: { tn: CALLER }, origid: "origin-9" };
    const verdict = await verdictVia(appAt(), verdictRequest([await craftIdentity({ claims })]));
    expect(verdict.identities[0]!.dest).toEqual([CALLEE, "sip:bob@operator.example"]);
  });

  it("keeps at most 64 characters of an origid that is no UUID in its evidence", async () => {
    const verdict = await verdictVia(appAt(), verdictRequest([(await signedIdentity({ origid: "t".repeat(100) })).identity]));
    expect(checkOf(verdict, "passport.origid")?.evidence).toEqual({ origid: "t".repeat(64) });
  });
});

describe("dest names the called number when any of its numbers is it (RFC 8224 §6.2.2)", () => {
  it("verifies a PASSporT whose dest names another number besides the callee", async () => {
    const verdict = await verdictVia(appAt(), verdictRequest([(await signedIdentity({ dest: ["77015551111", CALLEE] })).identity]));
    expect(verdict.verstat).toBe("TN-Validation-Passed");
  });

  it("fails a dest of URIs only: no signed number names the callee", async () => {
    const claims = { attest: "A", dest: { uri: ["sip:bob@operator.example"] }, iat: 1_764_288_000, orig: { tn: CALLER }, origid: "origin-10" };
    const verdict = await verdictVia(appAt(), verdictRequest([await craftIdentity({ claims })]));
    expect(verdict.stir).toMatchObject({ failedCheck: "passport.dest", reasondesc: `signed dest [] does not name the called number ${CALLEE}` });
    expect(verdict.identities[0]!.dest).toEqual(["sip:bob@operator.example"]);
  });
});
