import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MAX_PENDING_OBSERVATIONS, VelocityTracker, velocityDestinationOf, type VelocityCall, type VelocityStore } from "../../../src/abuse/velocity";
import type { NormalizedCall } from "../../../src/call/call";
import { SlidingCounts, type Count, type Observation } from "../../../src/abuse/velocity-window";
import type { VelocityCounterName, VelocityLimit } from "../../../src/abuse/settings";
import { WRITE_BEHIND_LINGER_MS } from "../../../src/lib/write-behind";
import { Deadline } from "../../../src/verdict/deadline";

/**
 * The isolate's side of the velocity counters (src/abuse/velocity.ts), in Node, against a store that
 * counts in memory as the Durable Object does, or one that answers what a test says. Timers are fake,
 * so the write-behind's linger never fires: observations reach the store only at `settle()`, and a
 * burst is judged on what the isolate holds unanswered. A count judged too low, or one judged stale
 * when it is fresh, is a fraudster's burst passed.
 */
const T0 = 1_800_000_000_000;

/** A store over one SlidingCounts per shard, recording each batch it was sent. */
function countingStore() {
  const shards = new Map<string, SlidingCounts>();
  const batches: Observation[][] = [];
  const store: VelocityStore = {
    observe: async (shard, observations) => {
      batches.push(observations);
      if (!shards.has(shard)) shards.set(shard, new SlidingCounts());
      return shards.get(shard)!.observe(observations);
    },
  };
  return { store, batches, sent: () => batches.flat() };
}

const limit = (threshold: number, windowSeconds: number, action: VelocityLimit["action"] = "block"): VelocityLimit => ({ threshold, windowMs: windowSeconds * 1_000, action });

function trackerOf(limits: Partial<Record<VelocityCounterName, VelocityLimit>>, store: VelocityStore = countingStore().store) {
  const tracker = new VelocityTracker(store, limits, 5_000);
  let deadline = new Deadline(250, () => {});
  const assess = (call: Partial<VelocityCall>, atMs: number) => {
    deadline = new Deadline(250, () => {});
    return tracker.assess({ cli: "77272501234", destination: "77012345678", trunk: "trunk-1", ...call }, atMs, deadline, () => {});
  };
  return { tracker, assess, troubles: () => deadline.troubles };
}

const checkOf = (judged: { checks: { id: string }[] }, counter: VelocityCounterName) => judged.checks.find(({ id }) => id === `velocity.${counter}`);

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("a count the counters answered", () => {
  it("passes a count at the limit and fails one past it, with the limit's action as the finding", async () => {
    const { tracker, assess } = trackerOf({ "calls-per-cli": limit(2, 60) });
    for (let second = 0; second < 2; second++) {
      assess({}, T0 + second * 1_000);
      await tracker.settle();
    }
    expect(checkOf(assess({}, T0 + 2_000), "calls-per-cli")).toMatchObject({ result: "pass", evidence: { count: 2, threshold: 2 } });
    await tracker.settle();
    const judged = assess({}, T0 + 3_000);
    expect(checkOf(judged, "calls-per-cli")).toMatchObject({ result: "fail", evidence: { count: 3, threshold: 2, windowSeconds: 60, countCapped: false }, detail: "3 calls from this caller ID within 60 s (limit 2)" });
    expect(judged.findings).toEqual([{ checkId: "velocity.calls-per-cli", action: "block", reason: "3 calls from this caller ID within 60 s (limit 2)", sipCode: 603, label: "High call velocity" }]);
  });

  it("judges on a count answered a whole window ago, and not on one older than that", async () => {
    const { tracker, assess } = trackerOf({ "calls-per-cli": limit(0, 60) });
    assess({}, T0);
    await tracker.settle();
    expect(checkOf(assess({ cli: "77272509999" }, T0 + 60_000), "calls-per-cli")).toMatchObject({ result: "skip" }); // another number: nothing known of it
    expect(checkOf(assess({}, T0 + 60_000), "calls-per-cli")).toMatchObject({ result: "fail", evidence: { count: 1, countedAt: new Date(T0).toISOString() } });
    const { tracker: other, assess: assessOther } = trackerOf({ "calls-per-cli": limit(5, 60) });
    assessOther({}, T0);
    await other.settle();
    expect(checkOf(assessOther({}, T0 + 60_001), "calls-per-cli")).toMatchObject({ result: "skip", detail: "no recent count for this subject yet" });
  });

  it("skips a count that stopped at an earlier, lower limit and says no more than that; fails one that stopped past the current limit", async () => {
    const answering = (count: Count): VelocityStore => ({ observe: async (_shard, observations) => observations.map(({ key, atMs }) => ({ ...count, key, atMs })) });
    const atMost = trackerOf({ "destinations-per-cli": limit(5, 300) }, answering({ key: "", atMs: 0, count: 3, capped: true }));
    atMost.assess({}, T0);
    await atMost.tracker.settle();
    expect(checkOf(atMost.assess({ destination: "77012345678" }, T0 + 1), "destinations-per-cli")).toMatchObject({ result: "skip", detail: "no count against the current limit yet" });

    const atLimit = trackerOf({ "destinations-per-cli": limit(5, 300) }, answering({ key: "", atMs: 0, count: 5, capped: true }));
    atLimit.assess({}, T0);
    await atLimit.tracker.settle();
    expect(checkOf(atLimit.assess({ destination: "77012345678" }, T0 + 1), "destinations-per-cli")).toMatchObject({ result: "skip", detail: "no count against the current limit yet" });

    const past = trackerOf({ "destinations-per-cli": limit(5, 300) }, answering({ key: "", atMs: 0, count: 6, capped: true }));
    past.assess({}, T0);
    await past.tracker.settle();
    expect(checkOf(past.assess({ destination: "77012345678" }, T0 + 1), "destinations-per-cli")).toMatchObject({
      result: "fail",
      detail: "more than 5 distinct destinations called from this caller ID within 300 s (limit 5)",
      evidence: { count: 6, countCapped: true },
    });
  });

  it("asks the counter for a distinct count only up to one past the limit, and for calls counted in full", async () => {
    const { store, sent } = countingStore();
    const { tracker, assess } = trackerOf({ "calls-per-cli": limit(100, 60), "destinations-per-cli": limit(7, 300), "clis-per-trunk": limit(9, 300) }, store);
    assess({}, T0);
    await tracker.settle();
    expect(sent()).toEqual(
      expect.arrayContaining([
        { key: "calls-per-cli:77272501234", value: null, atMs: T0, windowMs: 60_000 },
        { key: "destinations-per-cli:77272501234", value: "77012345678", atMs: T0, windowMs: 300_000, countUpTo: 8 },
        { key: "clis-per-trunk:trunk-1", value: "77272501234", atMs: T0, windowMs: 300_000, countUpTo: 10 },
      ]),
    );
    expect(sent()).toHaveLength(3);
  });
});

describe("the destination a call is counted under (velocityDestinationOf)", () => {
  it("is the called number, or the first 128 characters of a Request-URI that cannot be read", () => {
    const raw = (tail: string) => `sip:+7701555000${"1".repeat(120)}${tail}@operator.example`;
    const unreadable = (tail: string) => ({ ruri: { unreadable: true, raw: raw(tail) } }) as unknown as NormalizedCall;
    expect(velocityDestinationOf(unreadable("a"))).toBe(`unreadable:${raw("a").slice(0, 128)}`);
    expect(velocityDestinationOf(unreadable("a"))).toBe(velocityDestinationOf(unreadable("b")));
    expect(velocityDestinationOf({ ruri: null, to: { tn: "77012345678" } } as unknown as NormalizedCall)).toBe("77012345678");
  });
});

describe("a burst the counters have not answered yet", () => {
  it("adds this isolate's unanswered calls to the counters' last count", async () => {
    const { tracker, assess } = trackerOf({ "calls-per-cli": limit(3, 60) });
    assess({}, T0);
    await tracker.settle(); // the counter answers 1
    assess({}, T0 + 1);
    assess({}, T0 + 2);
    expect(checkOf(assess({}, T0 + 3), "calls-per-cli")).toMatchObject({ result: "pass", evidence: { count: 3 } });
    expect(checkOf(assess({}, T0 + 4), "calls-per-cli")).toMatchObject({ result: "fail", evidence: { count: 4 } });
  });

  it("takes the larger of the counters' distinct count and this isolate's own distinct values, never their sum", async () => {
    const { tracker, assess } = trackerOf({ "destinations-per-cli": limit(3, 300) });
    for (const destination of ["77011111111", "77012222222"]) assess({ destination }, T0);
    await tracker.settle(); // the counter answers 2
    // Sent again, and one new: the isolate holds 2 distinct, the counter 2; 3 would be more than there are.
    assess({ destination: "77011111111" }, T0 + 1);
    expect(checkOf(assess({ destination: "77013333333" }, T0 + 2), "destinations-per-cli")).toMatchObject({ result: "pass", evidence: { count: 2 } });
    // As many as the counter's: its count stands, counted when it answered.
    expect(checkOf(assess({ destination: "77013333333" }, T0 + 2), "destinations-per-cli")).toMatchObject({ result: "pass", evidence: { count: 2, countedAt: new Date(T0).toISOString() } });
    // Now the isolate holds 3 distinct, more than the counter's 2.
    assess({ destination: "77014444444" }, T0 + 3);
    expect(checkOf(assess({ destination: "77015555555" }, T0 + 4), "destinations-per-cli")).toMatchObject({ result: "pass", evidence: { count: 3 } });
    expect(checkOf(assess({ destination: "77016666666" }, T0 + 5), "destinations-per-cli")).toMatchObject({ result: "fail", evidence: { count: 4 } });
    // The isolate holds distinct values only up to one past the limit, as the counter does: 4 decide as 5 would.
    expect(checkOf(assess({}, T0 + 6), "destinations-per-cli")).toMatchObject({ result: "fail", evidence: { count: 4 } });
  });

  it("judges a first burst with no count yet on its own calls: skipped within the limit, failed past it", () => {
    const { assess } = trackerOf({ "calls-per-cli": limit(2, 60) });
    expect(checkOf(assess({}, T0), "calls-per-cli")).toMatchObject({ result: "skip" });
    assess({}, T0 + 1);
    expect(checkOf(assess({}, T0 + 2), "calls-per-cli")).toMatchObject({ result: "skip" });
    expect(checkOf(assess({}, T0 + 3), "calls-per-cli")).toMatchObject({ result: "fail", evidence: { count: 3, countCapped: false, countedAt: new Date(T0 + 3).toISOString() } });
  });

  it("leaves out unanswered calls that began more than a window ago", () => {
    const { assess } = trackerOf({ "calls-per-cli": limit(2, 60) });
    for (let call = 0; call < 3; call++) assess({}, T0 + call);
    expect(checkOf(assess({}, T0 + 60_000), "calls-per-cli")).toMatchObject({ result: "fail", evidence: { count: 3 } });
    expect(checkOf(assess({}, T0 + 60_001), "calls-per-cli")).toMatchObject({ result: "skip" });
  });

  it("counts the calls of a batch still being written as well as those queued since", async () => {
    let answer: (counts: Count[]) => void = () => {};
    const slow: VelocityStore = { observe: () => new Promise<Count[]>((resolve) => (answer = resolve)) };
    const { tracker, assess } = trackerOf({ "calls-per-cli": limit(3, 60) }, slow);
    assess({}, T0);
    assess({}, T0 + 1);
    const writing = tracker.settle(); // two calls in flight
    assess({}, T0 + 2);
    // No count yet: the three (two in flight, one queued) are within the limit; the fourth crosses it.
    expect(checkOf(assess({}, T0 + 3), "calls-per-cli")).toMatchObject({ result: "skip" });
    expect(checkOf(assess({}, T0 + 4), "calls-per-cli")).toMatchObject({ result: "fail", evidence: { count: 4 } });
    answer([{ key: "calls-per-cli:77272501234", atMs: T0 + 1, count: 2, capped: false }]);
    await writing;
    // The counter's 2 holds the calls it was sent; the three queued since are added to it.
    expect(checkOf(assess({}, T0 + 5), "calls-per-cli")).toMatchObject({ result: "fail", evidence: { count: 5 } });
  });
  it("counts a destination both in flight and queued since once: calling the same two numbers again is no rotation", async () => {
    const slow: VelocityStore = { observe: () => new Promise<Count[]>(() => {}) };
    const { tracker, assess } = trackerOf({ "destinations-per-cli": limit(3, 300) }, slow);
    assess({ destination: "77011111111" }, T0);
    assess({ destination: "77012222222" }, T0 + 1);
    void tracker.settle(); // both in flight, never answered
    assess({ destination: "77011111111" }, T0 + 2);
    assess({ destination: "77012222222" }, T0 + 3);
    // Two distinct destinations, not four: within the limit, and no count yet to judge on.
    expect(checkOf(assess({ destination: "77011111111" }, T0 + 4), "destinations-per-cli")).toMatchObject({ result: "skip" });
    assess({ destination: "77013333333" }, T0 + 5);
    assess({ destination: "77014444444" }, T0 + 6);
    expect(checkOf(assess({}, T0 + 7), "destinations-per-cli")).toMatchObject({ result: "fail", evidence: { count: 4 } });
  });
});

describe("the numbers and interconnect a call is counted under", () => {
  it("judges each number a call presents: a second number past its limit fails the check, though the caller ID passes", async () => {
    const { tracker, assess } = trackerOf({ "calls-per-cli": limit(1, 60) });
    for (let call = 0; call < 2; call++) assess({ cli: "77019999999" }, T0 + call);
    await tracker.settle();
    const judged = assess({ cli: "77272501234", otherClis: ["77019999999"] }, T0 + 2);
    expect(judged.checks).toEqual([expect.objectContaining({ id: "velocity.calls-per-cli", result: "fail", evidence: expect.objectContaining({ subject: "77019999999", count: 2 }) })]);
    expect(judged.findings).toHaveLength(1);
  });

  it("fails the check on the caller ID past its limit, though the second number it presents passes", async () => {
    const { tracker, assess } = trackerOf({ "calls-per-cli": limit(1, 60) });
    for (let call = 0; call < 2; call++) assess({}, T0 + call);
    assess({ cli: "77019999999" }, T0 + 2);
    await tracker.settle();
    const judged = assess({ cli: "77272501234", otherClis: ["77019999999"] }, T0 + 3);
    expect(judged.checks).toEqual([expect.objectContaining({ result: "fail", evidence: expect.objectContaining({ subject: "77272501234", count: 2 }) })]);
  });

  it("counts both numbers of a call as two caller IDs on its trunk, judged once", async () => {
    const { store, sent } = countingStore();
    const { tracker, assess } = trackerOf({ "clis-per-trunk": limit(1, 300) }, store);
    assess({ cli: "77272501234", otherClis: ["77019999999"] }, T0);
    await tracker.settle();
    expect(sent().map(({ key, value }) => `${key}=${value}`)).toEqual(["clis-per-trunk:trunk-1=77272501234", "clis-per-trunk:trunk-1=77019999999"]);
    const judged = assess({ cli: "77272501234", otherClis: ["77019999999"] }, T0 + 1);
    expect(judged.checks).toEqual([expect.objectContaining({ id: "velocity.clis-per-trunk", result: "fail", evidence: expect.objectContaining({ subject: "trunk-1", count: 2 }) })]);
    expect(judged.findings).toHaveLength(1);
  });

  it("counts caller IDs per carrier when the SBC names no trunk, and per nothing when it names neither", async () => {
    const { store, sent } = countingStore();
    const { tracker, assess } = trackerOf({ "clis-per-trunk": limit(10, 300) }, store);
    assess({ trunk: null, carrier: "SimCo" }, T0);
    expect(assess({ trunk: null, carrier: null }, T0).checks).toEqual([]);
    expect(assess({ trunk: null, carrier: "" }, T0).checks).toEqual([]);
    await tracker.settle();
    expect(sent().map(({ key }) => key)).toEqual(["clis-per-trunk:carrier:SimCo"]);
  });

  it("counts no destination for a call without one, and no caller ID for a call without one", async () => {
    const { store, sent } = countingStore();
    const { tracker, assess } = trackerOf({ "calls-per-cli": limit(10, 60), "destinations-per-cli": limit(10, 300) }, store);
    expect(assess({ destination: null }, T0).checks.map(({ id }) => id)).toEqual(["velocity.calls-per-cli"]);
    expect(assess({ cli: null }, T0).checks).toEqual([]);
    await tracker.settle();
    expect(sent().map(({ key }) => key)).toEqual(["calls-per-cli:77272501234"]);
  });
});

describe("the write in the background", () => {
  it("writes a call's observations a linger after it, without settle", async () => {
    const { store, sent } = countingStore();
    const { assess } = trackerOf({ "calls-per-cli": limit(10, 60) }, store);
    assess({}, T0);
    expect(sent()).toEqual([]);
    await vi.advanceTimersByTimeAsync(WRITE_BEHIND_LINGER_MS);
    expect(sent().map(({ atMs }) => atMs)).toEqual([T0]);
  });

  it("writes the calls queued while a batch was being written once it is answered, without another call", async () => {
    const counting = countingStore();
    let answer: () => void = () => {};
    let first = true;
    const slowOnce: VelocityStore = {
      observe: (shard, observations) => {
        if (!first) return counting.store.observe(shard, observations);
        first = false;
        return new Promise<Count[]>((resolve) => (answer = () => resolve([])));
      },
    };
    const { assess } = trackerOf({ "calls-per-cli": limit(10, 60) }, slowOnce);
    assess({}, T0);
    await vi.advanceTimersByTimeAsync(WRITE_BEHIND_LINGER_MS); // the first batch, in flight
    assess({}, T0 + 1);
    answer();
    await vi.advanceTimersByTimeAsync(WRITE_BEHIND_LINGER_MS);
    expect(counting.sent().map(({ atMs }) => atMs)).toEqual([T0 + 1]);
  });

  it("drops, and never sends again, the shards of a batch that timed out (they may have counted it); sends the shards it never reached", async () => {
    const counting = countingStore();
    let hang = true;
    const hung: Observation[][] = [];
    const store: VelocityStore = { observe: (shard, observations) => (hang ? (hung.push(observations), new Promise<Count[]>(() => {})) : counting.store.observe(shard, observations)) };
    const { tracker, assess, troubles } = trackerOf({ "calls-per-cli": limit(10, 60) }, store);
    const clis = Array.from({ length: 64 }, (_, index) => `7727${String(index).padStart(7, "0")}`);
    for (const cli of clis) assess({ cli }, T0);
    await vi.advanceTimersByTimeAsync(WRITE_BEHIND_LINGER_MS + 5_000); // the first 8 shards hang past the timeout
    expect(hung).toHaveLength(8);
    hang = false;
    assess({ cli: "77019999999" }, T0 + 1);
    expect(troubles()).toEqual([{ dependency: "velocity", problem: "error", detail: "last counter update failed: velocity-flush did not settle within 5000 ms" }]);
    await tracker.settle();
    const sentAgain = new Set(counting.sent().map(({ key }) => key));
    const timedOut = hung.flat().map(({ key }) => key);
    expect(timedOut.filter((key) => sentAgain.has(key))).toEqual([]);
    expect(sentAgain.size).toBe(clis.length - timedOut.length + 1);
  });

  it("writes one batch at a time: settle() during a background write waits for it, and the calls in flight stay counted", async () => {
    const answers: (() => void)[] = [];
    const counting = countingStore();
    const slow: VelocityStore = { observe: (shard, observations) => new Promise<Count[]>((resolve) => answers.push(() => resolve(counting.store.observe(shard, observations)))) };
    const { tracker, assess } = trackerOf({ "calls-per-cli": limit(2, 60) }, slow);
    assess({}, T0);
    assess({}, T0 + 1);
    await vi.advanceTimersByTimeAsync(WRITE_BEHIND_LINGER_MS); // the background batch: two calls in flight
    assess({}, T0 + 2);
    const settled = tracker.settle();
    await vi.advanceTimersByTimeAsync(0);
    expect(answers).toHaveLength(1); // the second batch waits for the first
    expect(checkOf(assess({}, T0 + 3), "calls-per-cli")).toMatchObject({ result: "fail", evidence: { count: 3 } });
    answers.shift()!();
    await vi.advanceTimersByTimeAsync(0);
    answers.shift()!();
    await settled;
    expect(counting.sent().map(({ atMs }) => atMs - T0)).toEqual([0, 1, 2, 3]);
    // With nothing being written, a batch goes out at once.
    assess({}, T0 + 4);
    void tracker.settle();
    expect(answers).toHaveLength(1);
  });

  it("stops writing after a batch the store refused, until the next call", async () => {
    let calls = 0;
    const refusing: VelocityStore = { observe: () => (calls++, Promise.reject(new Error("down"))) };
    const { assess } = trackerOf({ "calls-per-cli": limit(10, 60) }, refusing);
    assess({}, T0);
    await vi.advanceTimersByTimeAsync(WRITE_BEHIND_LINGER_MS * 4);
    expect(calls).toBe(1);
  });

  it(`holds the unanswered calls of at most ${MAX_PENDING_OBSERVATIONS} numbers: a flood of distinct caller IDs does not grow it`, () => {
    const { assess } = trackerOf({ "calls-per-cli": limit(0, 60) });
    for (let call = 0; call < MAX_PENDING_OBSERVATIONS; call++) assess({ cli: `7727${String(call).padStart(7, "0")}` }, T0);
    assess({ cli: "77019999999" }, T0);
    // The 10 001st number's first call is not held, so its second is judged on no count at all.
    expect(checkOf(assess({ cli: "77019999999" }, T0 + 1), "calls-per-cli")).toMatchObject({ result: "skip" });
  });
});

describe("a counter store that fails", () => {
  it("reports the failure on the next verdicts, sends what it refused again, and stops reporting once a batch is written whole", async () => {
    const counting = countingStore();
    let refuse = true;
    const flaky: VelocityStore = { observe: (shard, observations) => (refuse ? Promise.reject(new Error("Durable Object overloaded")) : counting.store.observe(shard, observations)) };
    const { tracker, assess, troubles } = trackerOf({ "calls-per-cli": limit(10, 60) }, flaky);
    assess({}, T0);
    await tracker.settle();
    assess({}, T0 + 1);
    expect(troubles()).toEqual([{ dependency: "velocity", problem: "error", detail: "last counter update failed: Durable Object overloaded" }]);
    refuse = false;
    await tracker.settle();
    expect(counting.sent().map(({ atMs }) => atMs)).toEqual([T0, T0 + 1]);
    assess({}, T0 + 2);
    expect(troubles()).toEqual([]);
  });

  it("judges a burst across batches the store refused on every call of it, not only on those since the last attempt", async () => {
    const refusing: VelocityStore = { observe: () => Promise.reject(new Error("Durable Object overloaded")) };
    const { tracker, assess } = trackerOf({ "calls-per-cli": limit(2, 60), "destinations-per-cli": limit(2, 300) }, refusing);
    assess({ destination: "77011111111" }, T0);
    assess({ destination: "77012222222" }, T0 + 1);
    await tracker.settle(); // refused: both calls go back in the queue, still unanswered
    assess({ destination: "77013333333" }, T0 + 2);
    assess({ destination: "77014444444" }, T0 + 3);
    await tracker.settle(); // refused again, all four
    const judged = assess({ destination: "77015555555" }, T0 + 4);
    expect(checkOf(judged, "calls-per-cli")).toMatchObject({ result: "fail", evidence: { count: 4 } });
    // Distinct values held up to one past the limit, as the counter holds them: 3 decide as 4 would.
    expect(checkOf(judged, "destinations-per-cli")).toMatchObject({ result: "fail", evidence: { count: 3 } });
  });

  it("judges the refused calls within the window, call by call: one older than it does not set the others aside", async () => {
    const refusing: VelocityStore = { observe: () => Promise.reject(new Error("Durable Object overloaded")) };
    const { tracker, assess } = trackerOf({ "calls-per-cli": limit(2, 60) }, refusing);
    assess({}, T0);
    await tracker.settle();
    for (let call = 0; call < 2; call++) assess({}, T0 + 50_000 + call);
    await tracker.settle();
    // The first call is 60.5 s old by now: outside the window. The two at 50 s and this one are within it.
    assess({}, T0 + 60_500);
    expect(checkOf(assess({}, T0 + 60_501), "calls-per-cli")).toMatchObject({ result: "fail", evidence: { count: 3 } });
  });

  it("holds no refused call as unanswered once its shard has answered, while the batch's other shards are still being written", async () => {
    const counting = countingStore();
    let mode: "refuse" | "answer-first-group" = "refuse";
    let answered = 0;
    const store: VelocityStore = {
      observe: (shard, observations) => {
        if (mode === "refuse") return Promise.reject(new Error("down"));
        // The first group of shards answers; the rest hang, so the batch is still being written.
        return answered++ < 8 ? counting.store.observe(shard, observations) : new Promise<Count[]>(() => {});
      },
    };
    const { tracker, assess } = trackerOf({ "calls-per-cli": limit(2, 60) }, store);
    for (let call = 0; call < 2; call++) assess({}, T0 + call); // the first key queued: its shard is in the first group
    for (let other = 0; other < 64; other++) assess({ cli: `7701${String(other).padStart(7, "0")}` }, T0 + 2);
    await tracker.settle();
    mode = "answer-first-group";
    void tracker.settle();
    await vi.advanceTimersByTimeAsync(0);
    expect(answered).toBe(16); // 8 shards answered, 8 in flight
    // The counter's 2 holds the two refused calls: 2, within the limit, not 4.
    expect(checkOf(assess({}, T0 + 3), "calls-per-cli")).toMatchObject({ result: "pass", evidence: { count: 2 } });
  });

  it("holds no refused call as unanswered once its shard has answered for it", async () => {
    const counting = countingStore();
    let refuse = true;
    const flaky: VelocityStore = { observe: (shard, observations) => (refuse ? Promise.reject(new Error("down")) : counting.store.observe(shard, observations)) };
    const { tracker, assess } = trackerOf({ "calls-per-cli": limit(2, 60) }, flaky);
    for (let call = 0; call < 2; call++) assess({}, T0 + call);
    await tracker.settle();
    refuse = false;
    await tracker.settle(); // the counter answers 2, the two calls the isolate held
    // 2 answered and 1 since: 3, not the 5 of counting the refused calls once more.
    assess({}, T0 + 2);
    expect(checkOf(assess({}, T0 + 3), "calls-per-cli")).toMatchObject({ result: "fail", evidence: { count: 3 } });
  });

  it(`keeps the newest ${MAX_PENDING_OBSERVATIONS} observations waiting to be sent, dropping the oldest`, async () => {
    const counting = countingStore();
    const { tracker, assess } = trackerOf({ "calls-per-cli": limit(1_000_000, 3_600) }, counting.store);
    // A flood of distinct caller IDs queued before any batch is written (no microtask runs in between).
    for (let call = 0; call < MAX_PENDING_OBSERVATIONS + 5; call++) assess({ cli: `7727${String(call).padStart(7, "0")}` }, T0 + call);
    await tracker.settle();
    const sent = counting.sent().map(({ atMs }) => atMs - T0).sort((a, b) => a - b);
    expect(sent).toHaveLength(MAX_PENDING_OBSERVATIONS);
    expect([sent[0], sent.at(-1)]).toEqual([5, MAX_PENDING_OBSERVATIONS + 4]);
  });

  it("sends nothing when nothing is pending", async () => {
    const { store, batches } = countingStore();
    const { tracker } = trackerOf({ "calls-per-cli": limit(10, 60) }, store);
    await tracker.settle();
    expect(batches).toEqual([]);
  });
});
