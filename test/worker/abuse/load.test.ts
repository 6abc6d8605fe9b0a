import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { replayStoreFrom } from "../../../src/abuse/replay";
import { sha256Hex } from "../../../src/lib/sha256";
import { VelocityTracker, velocityStoreFrom } from "../../../src/abuse/velocity";
import { Deadline } from "../../../src/verdict/deadline";

const EVENTS = 10_000;
/** Ten thousand Durable Object round-trips take seconds in the local runtime, and a minute on a loaded 2-core machine. */
const LOAD_TIMEOUT_MS = 180_000;

describe("replay guard under 10 000 presentations", () => {
  it("counts every presentation of every PASSporT exactly, across shards", async () => {
    const store = replayStoreFrom(env.REPLAY);
    const passports = await Promise.all(Array.from({ length: EVENTS / 4 }, (_, index) => sha256Hex(`load-${crypto.randomUUID()}-${index}`)));
    const shards = new Set(passports.map((passport) => passport.slice(0, 2)));
    expect(shards.size).toBeGreaterThan(200); // the load spreads over (nearly) all 256 objects

    for (let round = 1; round <= 4; round++) {
      const records = await Promise.all(passports.map((passport) => store.present({ signingInput: passport, leg: `sip:leg-${round}@example`, callId: null, atMs: 1_000 + round, expiresAtMs: 60_000 })));
      expect(records.every((record) => record.presentations === round && record.legs.length === round && record.newLeg)).toBe(true);
    }
  }, LOAD_TIMEOUT_MS);
});

describe("velocity counters under 10 000 calls", () => {
  it("keep exact counts: calls and distinct destinations per CLI, distinct CLIs per trunk", async () => {
    const limit = { threshold: 1_000_000, windowMs: 3_600_000, action: "tag" as const };
    const tracker = new VelocityTracker(velocityStoreFrom(env.VELOCITY), { "calls-per-cli": limit, "destinations-per-cli": limit, "clis-per-trunk": limit }, 5_000);
    const pending: Promise<unknown>[] = [];
    const deadline = new Deadline(250, (promise) => pending.push(promise));
    const trunk = `load-trunk-${crypto.randomUUID()}`;
    const clis = Array.from({ length: 100 }, (_, index) => `7727250${String(index).padStart(4, "0")}`);
    const callAt = (index: number) => ({ cli: clis[index % 100]!, destination: `770100${String(Math.floor(index / 100) % 50).padStart(5, "0")}`, trunk });

    // Calls arrive in bursts of 500; each burst's observations go out in the background batches.
    for (let start = 0; start < EVENTS; start += 500) {
      for (let index = start; index < start + 500; index++) tracker.assess(callAt(index), 1_000, deadline, (promise) => pending.push(promise));
      await Promise.all(pending.splice(0));
    }
    expect(deadline.troubles).toEqual([]);

    const judged = tracker.assess({ cli: clis[7]!, destination: "77010000000", trunk }, 1_000, deadline, (promise) => pending.push(promise));
    await Promise.all(pending.splice(0));
    const counts = Object.fromEntries(judged.checks.map((check) => [check.id, check.evidence?.count]));
    expect(counts).toEqual({ "velocity.calls-per-cli": 100, "velocity.destinations-per-cli": 50, "velocity.clis-per-trunk": 100 });
  }, LOAD_TIMEOUT_MS);
});
