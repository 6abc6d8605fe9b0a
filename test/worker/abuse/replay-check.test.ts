import { describe, expect, it } from "vitest";
import { checkReplay, type ReplayDeps } from "../../../src/abuse/replay";
import type { PresentationRecord } from "../../../src/abuse/presentation-ledger";
import type { IdentityResult } from "../../../src/verification/verify-identity";
import type { Deadline } from "../../../src/verdict/deadline";

/**
 * checkReplay on its own, with a store that answers a given record: what it hands the verdict besides
 * the check. A finding is the operator's fork action and nothing else; the verdict-level cases are in
 * replay-judgement.test.ts and replay.test.ts.
 */
const T = Date.parse("2026-12-01T10:00:00Z");
const verified = { outcome: "verified", iat: T / 1000, passport: { jws: "aGVhZGVy.Y2xhaW1z.c2ln" } } as unknown as IdentityResult;

const depsAnswering = (record: PresentationRecord): ReplayDeps => ({
  store: { present: async () => record },
  clock: { now: () => T + 1_000 },
  deadline: { within: (_name: string, run: () => Promise<unknown>) => run() } as unknown as Deadline,
  freshnessSeconds: 60,
  policy: { forkAction: "tag", forkWindowMs: 5_000, atis: false },
});

describe("what a replay check hands the verdict", () => {
  it("for a first presentation: a passing check, and no finding", async () => {
    const judgement = await checkReplay([verified], { leg: "sip:leg-1", callId: "call-1" }, depsAnswering({ presentations: 1, firstSeenAtMs: T + 1_000, legs: ["sip:leg-1"], newLeg: true, sameCall: true }));
    expect(judgement.checks.map((check) => check.result)).toEqual(["pass"]);
    expect(judgement.findings).toEqual([]);
    expect(judgement.replays).toEqual([]);
  });

  it("for a fork within the window: the operator's fork action as the one finding", async () => {
    const judgement = await checkReplay([verified], { leg: "sip:leg-2", callId: "call-1" }, depsAnswering({ presentations: 2, firstSeenAtMs: T, legs: ["sip:leg-1", "sip:leg-2"], newLeg: true, sameCall: true }));
    expect(judgement.findings).toHaveLength(1);
    expect(judgement.findings[0]).toMatchObject({ action: "tag" });
    expect(judgement.replays).toEqual([]);
  });
});
