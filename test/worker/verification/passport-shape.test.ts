import { beforeEach, describe, expect, it } from "vitest";
import { OUTCOMES, type VerificationFailure } from "../../../src/verification/outcomes";
import { checkOf, verdictVia } from "../abuse/support";
import { appAt, atisRequest, CALLEE, CALLER, craftIdentity, IAT, installTrust, postAtis, serveChain, verdictRequest } from "../support/stir";

/**
 * The shape of a PASSporT's protected header and claims, rule by rule: each malformed token is signed
 * with the fixture leaf's key (so only its shape is wrong) and refused with the row of the outcome table
 * and the reasondesc of the rule it breaks. Before these tests, deleting any of these checks left the
 * suite green (Stryker, docs/mutation.md).
 */
beforeEach(() => installTrust());

const ORIGID = "123e4567-e89b-12d3-a456-426655440000";
const claims = (overrides: Record<string, unknown>) => ({ attest: "A", dest: { tn: [CALLEE] }, iat: IAT, orig: { tn: CALLER }, origid: ORIGID, ...overrides });
const header = (x5u: string, overrides: Record<string, unknown> = {}) => ({ alg: "ES256", ppt: "shaken", typ: "passport", x5u, ...overrides });
const base64urlOf = (text: string) => btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

async function expectRefused(identity: string, failure: VerificationFailure, reasondesc: string) {
  const response = await postAtis(appAt(), atisRequest(identity));
  const { verificationResponse } = (await response.json()) as { verificationResponse: Record<string, unknown> };
  const { reasonCode, reasonText, verstat } = OUTCOMES[failure];
  expect(verificationResponse).toEqual({ verstat, reasoncode: reasonCode, reasontext: reasonText, reasondesc });
}

/** A PASSporT whose header segment is `segment`, signed over it, with the fixture's Identity parameters. */
async function withHeaderSegment(segment: string): Promise<string> {
  const identity = await craftIdentity({});
  return `${segment}${identity.slice(identity.indexOf("."))}`;
}

describe("the protected header is a base64url-encoded JSON object (RFC 7515 §5.2, RFC 8225 §4)", () => {
  it("refuses a header segment that is not UTF-8", async () => {
    await expectRefused(await withHeaderSegment("_w"), "PASSPORT_HEADER_INVALID", "PASSporT header is not base64url-encoded UTF-8");
  });

  it("refuses a header that is JSON but no object", async () => {
    await expectRefused(await withHeaderSegment(base64urlOf('["ES256"]')), "PASSPORT_HEADER_INVALID", "PASSporT header must be a JSON object");
  });
});

describe("the header names its ppt and x5u as strings, and the Identity header's alg is ES256 (RFC 8225 §4, RFC 8224 §4)", () => {
  it("refuses a ppt that is not a string", async () => {
    const x5u = await serveChain();
    await expectRefused(await craftIdentity({ x5u, header: header(x5u, { ppt: 7 }) }), "PASSPORT_HEADER_INVALID", "PASSporT header lacks ppt");
  });

  it("refuses an x5u that is not a string", async () => {
    const x5u = await serveChain();
    await expectRefused(await craftIdentity({ x5u, header: header(x5u, { x5u: 5 }) }), "X5U_MISMATCH", "PASSporT header lacks x5u");
  });

  it("refuses an Identity header whose alg parameter is not ES256, though the PASSporT's is", async () => {
    const x5u = await serveChain();
    await expectRefused(await craftIdentity({ x5u, params: `;info=<${x5u}>;alg=RS256;ppt=shaken` }), "ALG_UNSUPPORTED", "Identity alg parameter is 'RS256'; only ES256 is accepted");
  });

  it("verifies an Identity header without an alg parameter: absent means ES256 (RFC 8224 §4.1)", async () => {
    const x5u = await serveChain();
    const verdict = await verdictVia(appAt(), verdictRequest([await craftIdentity({ x5u, params: `;info=<${x5u}>;ppt=shaken` })]));
    expect(verdict.stir).toMatchObject({ reasoncode: null });
    expect(verdict.verstat).toBe("TN-Validation-Passed");
  });
});

describe("orig and dest are objects holding telephone numbers or URIs (RFC 8225 §5.2.1)", () => {
  it.each([
    ["claims that are JSON but no object", '["A"]', "PASSporT claims must be a JSON object"],
    ["an orig that is no object", claims({ orig: CALLER }), "orig claim must be an object"],
    ["an orig with both tn and uri", claims({ orig: { tn: CALLER, uri: "sip:alice@example.com" } }), "orig claim must hold exactly one of tn or uri"],
    ["an orig with neither tn nor uri", claims({ orig: {} }), "orig claim must hold exactly one of tn or uri"],
    ["an empty orig tn", claims({ orig: { tn: "" } }), "orig.tn must be a non-empty string"],
    ["an orig uri that is no string", claims({ orig: { uri: 5 } }), "orig.uri must be a non-empty string"],
    ["a dest that is no object", claims({ dest: [CALLEE] }), "dest claim must be an object"],
    ["a dest with neither tn nor uri", claims({ dest: {} }), "dest claim must hold tn or uri"],
    ["an empty dest tn array", claims({ dest: { tn: [] } }), "dest.tn must be a non-empty array of strings"],
    ["a dest tn array holding a non-string", claims({ dest: { tn: [CALLEE, 7] } }), "dest.tn must be a non-empty array of strings"],
    ["a dest uri array holding an empty string", claims({ dest: { uri: [""] } }), "dest.uri must be a non-empty array of strings"],
  ])("refuses %s", async (_, refused, reasondesc) => {
    await expectRefused(await craftIdentity({ claims: refused }), "CLAIMS_INVALID", reasondesc);
  });
});

describe("a shaken PASSporT's attest is A, B or C (RFC 8588 §4)", () => {
  it.each(["A", "B", "C"])("verifies attest %s and reports it", async (attest) => {
    const verdict = await verdictVia(appAt(), verdictRequest([await craftIdentity({ claims: claims({ attest }) })]));
    expect(verdict.verstat).toBe("TN-Validation-Passed");
    expect(verdict.stir.reasoncode).toBeNull();
    expect(verdict.attest).toBe(attest);
  });

  it.each([
    ["D", "D"],
    ["lower case a", "a"],
    ["missing", undefined],
  ])("refuses an attest that is %s", async (_, attest) => {
    const response = await postAtis(appAt(), atisRequest(await craftIdentity({ claims: claims({ attest }) })));
    const { verificationResponse } = (await response.json()) as { verificationResponse: Record<string, unknown> };
    expect(verificationResponse).toMatchObject({ verstat: OUTCOMES.ATTEST_INVALID.verstat, reasoncode: OUTCOMES.ATTEST_INVALID.reasonCode });
    expect(verificationResponse.reasondesc).toMatch(/^attest must be "A", "B" or "C"/);
  });
});

describe("a shaken PASSporT's origid is a non-empty string (RFC 8588 §4)", () => {
  it("refuses a PASSporT without origid", async () => {
    await expectRefused(await craftIdentity({ claims: claims({ origid: undefined }) }), "ORIGID_MISSING", "origid claim is missing (RFC 8588 §4)");
  });

  it.each([
    ["a number", 5],
    ["an empty string", ""],
  ])("refuses an origid that is %s", async (_, origid) => {
    await expectRefused(await craftIdentity({ claims: claims({ origid }) }), "ORIGID_MISSING", "origid must be a non-empty string (RFC 8588 §4)");
  });

  it("verifies an origid that is no UUID, reporting it as an opaque traceback id", async () => {
    const verdict = await verdictVia(appAt(), verdictRequest([await craftIdentity({ claims: claims({ origid: "trace-42" }) })]));
    expect(verdict.verstat).toBe("TN-Validation-Passed");
    expect(checkOf(verdict, "passport.origid")).toMatchObject({ result: "warn", evidence: { origid: "trace-42" } });
  });
});

describe("SHAKEN matches the calling number, so orig is a telephone number (RFC 8588 §3, RFC 8224 §6.2.2)", () => {
  it("refuses an orig given as a URI", async () => {
    await expectRefused(await craftIdentity({ claims: claims({ orig: { uri: "sip:alice@example.com" } }) }), "ORIG_MISMATCH", "orig is a URI; SHAKEN calls are matched on telephone numbers");
  });
});
