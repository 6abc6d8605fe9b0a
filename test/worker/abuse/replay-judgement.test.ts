import { beforeEach, describe, expect, it } from "vitest";
import { CALLEE, appAt, installTrust, signedIdentity, verdictRequest } from "../support/stir";
import { checkOf, verdictVia, type VerdictBody } from "./support";

/**
 * How a repeat is judged and told: the re-send window's last instant, the reason a replay's detail
 * gives, and which Identity header a replay check speaks of (Stryker's survivors in src/abuse/replay.ts,
 * docs/mutation.md). REPLAY_FORK_WINDOW_SECONDS is 5 by default.
 */
beforeEach(() => installTrust());

const sameLeg = {};
const otherLeg = { ruri: `sip:+${CALLEE}@second-leg.example` };

async function presentTwice(first: Record<string, unknown>, second: Record<string, unknown>, secondsApart: number): Promise<VerdictBody> {
  const { identity } = await signedIdentity();
  await verdictVia(appAt(), verdictRequest([identity], first));
  return verdictVia(appAt(secondsApart), verdictRequest([identity], second));
}

describe("the re-send window includes its last second (REPLAY_FORK_WINDOW_SECONDS)", () => {
  it("passes the same Call-ID on the same leg exactly 5 s after the first presentation as a re-send", async () => {
    const again = await presentTwice({ callId: "call-1" }, { callId: "call-1" }, 5);
    expect(checkOf(again, "passport.replay")).toMatchObject({ result: "pass", evidence: { repeat: "re-send" } });
  });
});

describe("a replay's detail says why it is no re-send or fork (RFC 8224 §12.1)", () => {
  it("another Call-ID: on another call than the first presentation", async () => {
    const copy = await presentTwice({ callId: "call-1" }, { callId: "call-2" }, 1);
    expect(checkOf(copy, "passport.replay")?.detail).toBe("PASSporT replayed: presentation 2 within its freshness window, on another call than the first presentation (Call-ID) (RFC 8224 §12.1)");
  });

  it("the same Call-ID past the window: how long after the first presentation", async () => {
    const late = await presentTwice({ callId: "call-1" }, { callId: "call-1" }, 6);
    expect(checkOf(late, "passport.replay")?.detail).toBe("PASSporT replayed: presentation 2 within its freshness window, 6 s after the first presentation, past the 5 s re-send window (RFC 8224 §12.1)");
  });

  it("no Call-ID, on a leg already seen, to the window's last second: no Call-ID to tell a re-send", async () => {
    const again = await presentTwice(sameLeg, sameLeg, 5);
    expect(checkOf(again, "passport.replay")?.detail).toBe("PASSporT replayed: presentation 2 within its freshness window, again on a leg already seen, with no Call-ID to tell a re-send (RFC 8224 §12.1)");
  });
});

describe("a replay check names its Identity header when the call has several", () => {
  const replayChecks = (verdict: VerdictBody) => verdict.checks.filter((check) => check.id === "passport.replay");

  it("names each header's index in a call with two", async () => {
    const [first, second] = await Promise.all([signedIdentity(), signedIdentity()]);
    const verdict = await verdictVia(appAt(), verdictRequest([first.identity, second.identity], otherLeg));
    expect(replayChecks(verdict).map((check) => check.evidence?.identity)).toEqual([0, 1]);
  });

  it("names none in a call with one", async () => {
    const { identity } = await signedIdentity();
    const [check] = replayChecks(await verdictVia(appAt(), verdictRequest([identity])));
    expect(check?.evidence).not.toHaveProperty("identity");
  });
});

describe("only a verified PASSporT is presented to the replay guard (spec digest §9)", () => {
  it("a signature that fails over a genuine PASSporT's header and claims leaves no trace: the genuine one is then a first presentation", async () => {
    const [genuine, other] = await Promise.all([signedIdentity(), signedIdentity()]);
    const signatureOf = (jws: string) => jws.slice(jws.lastIndexOf(".") + 1);
    const forged = genuine.identity.replace(`.${signatureOf(genuine.jws)};`, `.${signatureOf(other.jws)};`);
    const refused = await verdictVia(appAt(), verdictRequest([forged], { callId: "call-1" }));
    expect(refused.stir.failedCheck).toBe("passport.signature");

    const first = await verdictVia(appAt(1), verdictRequest([genuine.identity], { callId: "call-2" }));
    expect(checkOf(first, "passport.replay")).toMatchObject({ result: "pass", evidence: { presentations: 1 } });
  });
});
