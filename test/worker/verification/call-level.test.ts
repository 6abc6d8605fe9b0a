import { describe, expect, it } from "vitest";
import { OUTCOMES } from "../../../src/verification/outcomes";
import { failReplays, MAX_IDENTITY_HEADERS, type CallVerification } from "../../../src/verification/verify-call";
import { checkOf, verdictVia } from "../abuse/support";
import { appAt, CALLEE, CALLER, craftIdentity, IAT, serveChain, signedIdentity, verdictRequest, verifyWithFixtureTrust } from "../support/stir";

/**
 * The call-level decisions of verifyCall (RFC 8224 §6.2 step 1, RFC 8946): how many Identity headers are
 * judged, which failure speaks for a call none of whose PASSporTs verified, when a div PASSporT widens
 * the numbers a shaken dest may name, and the step list every identity reports.
 */
verifyWithFixtureTrust();

const FORWARDED_TO = "77015550000";
const forwarded = { to: `<sip:+${FORWARDED_TO}@operator.example>`, ruri: `sip:+${FORWARDED_TO}@operator.example` };
const STALE = { iat: 1_000_000_000 };

describe(`at most ${MAX_IDENTITY_HEADERS} Identity headers are judged`, () => {
  it(`judges all of ${MAX_IDENTITY_HEADERS} headers without a warning`, async () => {
    const headers = [...Array.from({ length: MAX_IDENTITY_HEADERS - 1 }, () => "garbage;info=<https://a.example/x.pem>"), (await signedIdentity()).identity];
    const verdict = await verdictVia(appAt(), verdictRequest(headers));
    expect(verdict.verstat).toBe("TN-Validation-Passed");
    expect(verdict.identities).toHaveLength(MAX_IDENTITY_HEADERS);
    expect(checkOf(verdict, "identity.count")).toBeUndefined();
  });

  it(`judges only the first ${MAX_IDENTITY_HEADERS} of ${MAX_IDENTITY_HEADERS + 1}, and says so`, async () => {
    const headers = [...Array.from({ length: MAX_IDENTITY_HEADERS }, () => "garbage;info=<https://a.example/x.pem>"), (await signedIdentity()).identity];
    const verdict = await verdictVia(appAt(), verdictRequest(headers));
    expect(verdict.verstat).not.toBe("TN-Validation-Passed");
    expect(verdict.identities).toHaveLength(MAX_IDENTITY_HEADERS);
    expect(checkOf(verdict, "identity.count")).toMatchObject({ result: "warn", detail: `only the first ${MAX_IDENTITY_HEADERS} of ${MAX_IDENTITY_HEADERS + 1} Identity headers were evaluated` });
  });
});

describe("which Identity header a verdict's check is about", () => {
  it("is named in each identity's checks of a call with two headers, and in none of a call with one", async () => {
    const one = await verdictVia(appAt(), verdictRequest([(await signedIdentity()).identity]));
    const signature = (verdict: typeof one) => verdict.checks.filter((check) => check.id === "passport.signature");
    expect(signature(one)).toEqual([expect.objectContaining({ result: "pass" })]);
    expect(signature(one)[0]!.evidence ?? {}).not.toHaveProperty("identity");
    const two = await verdictVia(appAt(), verdictRequest([(await signedIdentity()).identity, (await signedIdentity()).identity]));
    expect(signature(two).map((check) => check.evidence?.identity)).toEqual([0, 1]);
  });
});

describe("a div PASSporT widens the shaken dest only when it verified (RFC 8946 §5)", () => {
  it("a div that fails (stale) does not retarget the call: the shaken PASSporT fails passport.dest", async () => {
    const shaken = await signedIdentity({ dest: [CALLEE] });
    const div = await signedIdentity({ ppt: "div", orig: CALLER, dest: [FORWARDED_TO], div: CALLEE, ...STALE });
    const verdict = await verdictVia(appAt(), verdictRequest([shaken.identity, div.identity], forwarded));
    expect(verdict.identities.map((identity) => [identity.outcome, identity.failedCheck])).toEqual([
      ["failed", "passport.dest"],
      ["failed", "passport.freshness"],
    ]);
    expect(verdict.stir.failedCheck).toBe("passport.dest");
  });

  it("fails a div whose diverting number is not among the shaken dest, the shaken one still verified", async () => {
    const shaken = await signedIdentity({ dest: [CALLEE] });
    const div = await signedIdentity({ ppt: "div", orig: CALLER, dest: [CALLEE], div: "77015559999" });
    const verdict = await verdictVia(appAt(), verdictRequest([shaken.identity, div.identity]));
    expect(verdict.identities.map((identity) => [identity.ppt, identity.outcome, identity.failedCheck])).toEqual([
      ["shaken", "verified", null],
      ["div", "failed", "passport.div-chain"],
    ]);
    const chainChecks = verdict.checks.filter((check) => check.id === "passport.div-chain");
    // The call's own check, and the div identity's (its evidence names the identity).
    expect(chainChecks).toEqual([
      expect.objectContaining({ result: "fail", detail: expect.stringMatching(/^div PASSporT \(orig 77272501234, div 77015559999\) does not chain to the shaken PASSporT/) }),
      expect.objectContaining({ result: "fail", evidence: expect.objectContaining({ identity: 1 }) }),
    ]);
  });

  it("chains a div diverting from any one of the shaken PASSporT's dest numbers", async () => {
    const shaken = await signedIdentity({ dest: ["77015551111", CALLEE] });
    const div = await signedIdentity({ ppt: "div", orig: CALLER, dest: [FORWARDED_TO], div: CALLEE });
    const verdict = await verdictVia(appAt(), verdictRequest([shaken.identity, div.identity], forwarded));
    expect(verdict.verstat).toBe("TN-Validation-Passed");
    expect(verdict.identities.map((identity) => identity.outcome)).toEqual(["verified", "verified"]);
  });

  it("does not chain a div that diverts from a URI, though the shaken dest names a URI too", async () => {
    const uri = "sip:bob@operator.example";
    const shaken = await craftIdentity({ claims: { attest: "A", dest: { tn: [CALLEE], uri: [uri] }, iat: IAT, orig: { tn: CALLER }, origid: "origin-1" } });
    const x5u = await serveChain();
    const div = await craftIdentity({
      x5u,
      header: { alg: "ES256", ppt: "div", typ: "passport", x5u },
      claims: { dest: { tn: [CALLEE] }, div: { uri }, iat: IAT, orig: { tn: CALLER } },
    });
    const verdict = await verdictVia(appAt(), verdictRequest([shaken, div]));
    expect(verdict.identities.map((identity) => [identity.outcome, identity.failedCheck])).toEqual([
      ["verified", null],
      ["failed", "passport.div-chain"],
    ]);
  });

  it("fails a div with no verified shaken PASSporT to chain to", async () => {
    const shaken = await signedIdentity({ dest: [CALLEE], ...STALE });
    const div = await signedIdentity({ ppt: "div", orig: CALLER, dest: [CALLEE], div: CALLEE });
    const verdict = await verdictVia(appAt(), verdictRequest([shaken.identity, div.identity]));
    expect(verdict.identities[1]).toMatchObject({ ppt: "div", outcome: "failed", failedCheck: "passport.div-chain", reasondesc: "div PASSporT present without a verified shaken PASSporT to chain to" });
  });
});

describe("which failure speaks for a call none of whose PASSporTs verified", () => {
  it("the shaken PASSporT's, though a div PASSporT before it failed too", async () => {
    const div = await signedIdentity({ ppt: "div", orig: CALLER, dest: [CALLEE], div: CALLEE, ...STALE });
    const shaken = await signedIdentity({ orig: "77272500000" });
    const verdict = await verdictVia(appAt(), verdictRequest([div.identity, shaken.identity]));
    expect(verdict.stir).toMatchObject({ failedCheck: "passport.orig", reasoncode: OUTCOMES.ORIG_MISMATCH.reasonCode });
  });

  it("the first failure when no shaken PASSporT failed", async () => {
    const verdict = await verdictVia(appAt(), verdictRequest(["garbage;info=<https://a.example/x.pem>", "more garbage;info=<https://a.example/x.pem>"]));
    expect(verdict.stir.failedCheck).toBe(OUTCOMES.IDENTITY_MALFORMED.checkId);
  });

  it("No-TN-Validation when every PASSporT is of an unsupported type, naming the types", async () => {
    const verdict = await verdictVia(appAt(), verdictRequest([await craftIdentity({ header: { alg: "ES256", ppt: "rcd", typ: "passport", x5u: "https://a.example/x.pem" }, params: ";info=<https://a.example/x.pem>;ppt=rcd" })]));
    expect(verdict.verstat).toBe("No-TN-Validation");
    expect(verdict.stir).toMatchObject({ failedCheck: OUTCOMES.PPT_UNSUPPORTED.checkId, reasondesc: "no Identity header carries a supported PASSporT type (rcd)" });
  });

  it("a failing shaken PASSporT beside an unsupported one fails the call with the shaken failure", async () => {
    const rcd = await craftIdentity({ header: { alg: "ES256", ppt: "rcd", typ: "passport", x5u: "https://a.example/x.pem" }, params: ";info=<https://a.example/x.pem>;ppt=rcd" });
    const shaken = await signedIdentity({ orig: "77272500000" });
    const verdict = await verdictVia(appAt(), verdictRequest([rcd, shaken.identity]));
    expect(verdict.verstat).toBe(OUTCOMES.ORIG_MISMATCH.verstat);
    expect(verdict.stir.failedCheck).toBe("passport.orig");
  });
});

describe("every identity reports each step of RFC 8224 §6.2: passed up to the failure, not run after it", () => {
  it("lists the steps in order for a PASSporT whose orig is not the caller's", async () => {
    const verdict = await verdictVia(appAt(), verdictRequest([(await signedIdentity({ orig: "77272500000" })).identity]));
    const steps = verdict.checks.filter((check) => check.id === "identity.syntax" || /^(passport|x5u|certificate)\./.test(check.id)).map((check) => [check.id, check.result]);
    expect(steps).toEqual([
      ["identity.syntax", "pass"],
      ["passport.header", "pass"],
      ["passport.claims", "pass"],
      ["passport.freshness", "pass"],
      ["passport.orig", "fail"],
      ["passport.dest", "skip"],
      ["x5u.policy", "skip"],
      ["x5u.fetch", "skip"],
      ["certificate.chain", "skip"],
      ["certificate.validity", "skip"],
      ["certificate.revocation", "skip"],
      ["certificate.tnauthlist", "skip"],
      ["certificate.claim-constraints", "skip"],
      ["certificate.key", "skip"],
      ["passport.signature", "skip"],
    ]);
    expect(checkOf(verdict, "passport.dest")).toMatchObject({ detail: "not run: an earlier check failed" });
  });
});

describe("failReplays: a replayed PASSporT vouches for nothing about this call (RFC 8224 §12.1)", () => {
  const verified = (): CallVerification => ({
    verstat: "TN-Validation-Passed",
    attest: "A",
    failure: null,
    identities: [0, 1].map((index) => ({
      ppt: "shaken",
      outcome: "verified" as const,
      verstat: "TN-Validation-Passed" as const,
      failure: null,
      attest: "A" as const,
      origid: `o-${index}`,
      iat: 1,
      orig: CALLER,
      dest: [CALLEE],
      divertedFrom: null,
      x5u: null,
      signer: null,
      checks: [],
    })),
    checks: [],
  });

  it("changes nothing when nothing was replayed", () => {
    const verification = verified();
    expect(failReplays(verification, [])).toBe(verification);
  });

  it("fails the replayed identity and the call, with the first replay's reason and no attestation", () => {
    const result = failReplays(verified(), [{ identity: 1, reasondesc: "seen on another call" }]);
    expect(result).toMatchObject({ verstat: OUTCOMES.PASSPORT_REPLAYED.verstat, attest: null, failure: { checkId: OUTCOMES.PASSPORT_REPLAYED.checkId, reasondesc: "seen on another call" } });
    expect(result.identities.map((identity) => identity.outcome)).toEqual(["verified", "failed"]);
    expect(result.identities[1]).toMatchObject({ verstat: OUTCOMES.PASSPORT_REPLAYED.verstat, failure: { reasondesc: "seen on another call" } });
  });

  it("keeps the reason of a call that had already failed", () => {
    const failed: CallVerification = { ...verified(), verstat: "TN-Validation-Failed", attest: null, failure: { ...OUTCOMES.ORIG_MISMATCH, reasondesc: "orig differs" } };
    const result = failReplays(failed, [{ identity: 0, reasondesc: "seen on another call" }]);
    expect(result.failure).toMatchObject({ checkId: "passport.orig", reasondesc: "orig differs" });
    expect(result.identities[0]).toMatchObject({ outcome: "failed", failure: { reasondesc: "seen on another call" } });
  });
});
