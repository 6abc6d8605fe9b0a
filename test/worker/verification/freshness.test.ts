import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { appAt, IAT, postVerdict, serveChain, signedIdentity, verdictRequest, verifyThroughBoth, verifyWithFixtureTrust } from "../support/stir";

verifyWithFixtureTrust();

let x5u: string;
beforeAll(async () => {
  x5u = await serveChain();
});

const identity = async () => (await signedIdentity({ x5u })).identity;

/**
 * The fixture call (iat = IAT) judged when the verifier's clock reads IAT + `at`, with the SIP Date
 * given (ATIS `time`, the verdict's `date`) or, for the verdict, left out.
 */
const judgedAt = (at: number, date?: number, vars: Record<string, string> = {}) => verifyThroughBoth(appAt(at), identity, { date }, { ...env, ...vars });

async function expectFresh(at: number, date?: number, vars?: Record<string, string>) {
  const { atis, verdict } = await judgedAt(at, date, vars);
  expect(atis).toEqual({ verstat: "TN-Validation-Passed" });
  expect(verdict.verstat).toBe("TN-Validation-Passed");
}

async function expectStale(at: number, date: number | undefined, because: string, vars?: Record<string, string>) {
  const { atis, verdict } = await judgedAt(at, date, vars);
  expect(atis).toEqual({ verstat: "No-TN-Validation", reasoncode: 403, reasontext: "Stale Date", reasondesc: because });
  expect(verdict.stir).toMatchObject({ verstat: "No-TN-Validation", reasoncode: 403, failedCheck: "passport.freshness", reasondesc: because });
}

describe("iat may be at most FRESHNESS_SECONDS old (RFC 8224 §6.2.2, §12.1)", () => {
  // The SIP Date reads the verifier's own time, so iat alone is judged.
  it("exactly 60 s old (the default) passes", () => expectFresh(60, IAT + 60));
  it("61 s old fails", () => expectStale(61, IAT + 61, "iat is 61 s old; at most 60 s is accepted"));
  it("exactly FRESHNESS_SECONDS=10 old passes", () => expectFresh(10, IAT + 10, { FRESHNESS_SECONDS: "10" }));
  it("FRESHNESS_SECONDS=10 and 11 s old fails", () => expectStale(11, IAT + 11, "iat is 11 s old; at most 10 s is accepted", { FRESHNESS_SECONDS: "10" }));
});

describe("iat may be at most FUTURE_SKEW_SECONDS ahead of the verifier's clock (signer clock skew)", () => {
  it("exactly 60 s ahead (the default, = freshness) passes", () => expectFresh(-60, IAT - 60));
  it("61 s ahead fails", () => expectStale(-61, IAT - 61, "iat is 61 s in the future; at most 60 s is accepted"));
  it("exactly FUTURE_SKEW_SECONDS=5 ahead passes", () => expectFresh(-5, IAT - 5, { FUTURE_SKEW_SECONDS: "5" }));
  it("FUTURE_SKEW_SECONDS=5 and 6 s ahead fails, though well within the freshness window", () =>
    expectStale(-6, IAT - 6, "iat is 6 s in the future; at most 5 s is accepted", { FUTURE_SKEW_SECONDS: "5" }));
});

describe("the SIP Date, when the call has one, is held to the same window as iat", () => {
  it("a Date exactly 60 s old passes", () => expectFresh(0, IAT - 60));
  it("a Date 61 s old fails, though iat is fresh", () => expectStale(0, IAT - 61, "Date is 61 s old; at most 60 s is accepted"));
  it("a Date exactly 60 s ahead passes", () => expectFresh(0, IAT + 60));
  it("a Date 61 s ahead fails", () => expectStale(0, IAT + 61, "Date is 61 s in the future; at most 60 s is accepted"));

  it("a call without a Date is judged on iat alone; the same call with a stale Date is not", async () => {
    const app = appAt();
    const withoutDate = await postVerdict(app, verdictRequest([await identity()]));
    expect(((await withoutDate.json()) as { verdict: { verstat: string } }).verdict.verstat).toBe("TN-Validation-Passed");
    const staleDate = await postVerdict(app, verdictRequest([await identity()], { date: "Thu, 27 Nov 2025 23:58:59 GMT" }));
    expect(((await staleDate.json()) as { verdict: { stir: unknown } }).verdict.stir).toMatchObject({ failedCheck: "passport.freshness", reasondesc: "Date is 61 s old; at most 60 s is accepted" });
  });
});
