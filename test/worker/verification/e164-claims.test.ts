import { beforeAll, describe, expect, it } from "vitest";
import { appAt, atisRequest, CALLER, craftIdentity, postAtis, postVerdict, serveChain, signedIdentity, verdictRequest, verifyThroughBoth, verifyWithFixtureTrust } from "../support/stir";

verifyWithFixtureTrust();

let x5u: string;
beforeAll(async () => {
  x5u = await serveChain();
});

/**
 * Real foreign numbers (valid in libphonenumber's metadata) of every E.164 length from 8 to 15 digits,
 * including the shapes a Kazakh national reading would take for its own: 10 and 14 digits, and 8 + 10
 * or 8 + 14 digits ("8" is Kazakhstan's trunk prefix).
 */
const FOREIGN = [
  ["Germany, 8 digits", "49301234"],
  ["China, 9 digits from 8", "861012345"],
  ["Germany, 10 digits (+49 30 123456)", "4930123456"],
  ["Japan, 8 + 10 digits", "81312345678"],
  ["Vietnam, 8 + 10 digits (+84 91 234 5678)", "84912345678"],
  ["China, 12 digits", "861012345678"],
  ["Bangladesh, 13 digits from 8", "8801712345678"],
  ["Germany, 14 digits", "49301234567890"],
  ["International Networks, 8 + 14 digits", "882160123456789"],
  ["Germany, 15 digits", "493012345678901"],
] as const;

describe("PASSporT tn claims are E.164 digits, never a national number (RFC 8225 §5.2.1, RFC 8224 §8.3)", () => {
  it.each(FOREIGN)("a foreign caller signed as orig verifies: %s", async (_, foreign) => {
    const { atis, verdict } = await verifyThroughBoth(appAt(), async () => (await signedIdentity({ x5u, orig: foreign })).identity, { orig: foreign });
    expect(atis).toEqual({ verstat: "TN-Validation-Passed" });
    expect(verdict.verstat).toBe("TN-Validation-Passed");
    expect(verdict.checks).toContainEqual(expect.objectContaining({ id: "passport.orig", result: "pass", evidence: { orig: foreign } }));
  });

  it.each(FOREIGN)("a foreign called number signed as dest verifies: %s", async (_, foreign) => {
    const { atis, verdict } = await verifyThroughBoth(appAt(), async () => (await signedIdentity({ x5u, dest: [foreign] })).identity, { dest: foreign });
    expect(atis).toEqual({ verstat: "TN-Validation-Passed" });
    expect(verdict.verstat).toBe("TN-Validation-Passed");
    expect(verdict.checks).toContainEqual(expect.objectContaining({ id: "passport.dest", result: "pass", evidence: { dest: [foreign] } }));
  });

  it("strips RFC 8224 §8.3 visual separators from a claim", async () => {
    const claims = { attest: "A", dest: { tn: ["+7 (701) 234-56.78"] }, iat: 1_764_288_000, orig: { tn: "+49 30 123456" }, origid: "123e4567-e89b-12d3-a456-426655440000" };
    const { atis, verdict } = await verifyThroughBoth(appAt(), () => craftIdentity({ x5u, claims }), { orig: "4930123456" });
    expect(atis).toEqual({ verstat: "TN-Validation-Passed" });
    expect(verdict.verstat).toBe("TN-Validation-Passed");
  });

  it("does not read a claim written in the home plan's national format as the home number", async () => {
    // 8 727 250 12 34 is how Almaty is dialled inside Kazakhstan; as a claim it is the E.164 digits 87272501234.
    const { atis, verdict } = await verifyThroughBoth(appAt(), async () => (await signedIdentity({ x5u, orig: "87272501234" })).identity);
    expect(atis).toMatchObject({ reasoncode: 438, reasondesc: "signed orig 87272501234 is not the calling number 77272501234" });
    expect(verdict.stir).toMatchObject({ failedCheck: "passport.orig" });
  });
});

describe("the call's numbers may be national; ATIS-1000082 tn digits are read as E.164 first", () => {
  it("reads a request's from/to in the home plan's national format when they are no international number", async () => {
    const app = appAt();
    for (const [from, to] of [["87272501234", "87012345678"], ["7272501234", "7012345678"]]) {
      const { identity } = await signedIdentity({ x5u });
      const response = await postAtis(app, atisRequest(identity, { from: { tn: from }, to: { tn: [to] } }));
      expect(await response.json(), `${from} → ${to}`).toEqual({ verificationResponse: { verstat: "TN-Validation-Passed" } });
    }
  });

  it("reads a SIP From in national format as the home number", async () => {
    const { identity } = await signedIdentity({ x5u });
    const response = await postVerdict(appAt(), verdictRequest([identity], { from: "<sip:87272501234@carrier.example>;tag=1" }));
    const { verdict } = (await response.json()) as { verdict: any };
    expect(verdict).toMatchObject({ verstat: "TN-Validation-Passed", cli: { tn: CALLER } });
  });
});
