import { describe, expect, it } from "vitest";
import { LATE_OBSERVATION_MS, MAX_DISTINCT_VALUES, MAX_KEYS, REORDER_GRANULARITY_MS, SlidingCounts, type Observation } from "../../../src/abuse/velocity-window";

/**
 * The velocity counters' arithmetic, in Node (the Durable Object that holds them, and its snapshot rows,
 * are test/worker/abuse/velocity-storage.test.ts). A count one too low here is a window a fraudster's
 * calls never cross; memory that grows with distinct numbers is an object flooded out of service.
 */
const T0 = 1_800_000_000_000;

const event = (key: string, atMs: number, windowMs = 60_000): Observation => ({ key, value: null, atMs, windowMs });
const sighting = (key: string, value: string, atMs: number, countUpTo?: number): Observation => ({ key, value, atMs, windowMs: 300_000, ...(countUpTo === undefined ? {} : { countUpTo }) });
/** The values a key holds, from its snapshot: what its memory is. */
const valuesHeld = (counts: SlidingCounts, key: string): string[] => {
  const entry = (JSON.parse(counts.save()) as unknown[][]).find(([name]) => name === key);
  return entry === undefined ? [] : (entry[4] as (string | number)[]).filter((item): item is string => typeof item === "string");
};

describe("velocity counters in memory: bounded", () => {
  it(`forgets a key once its window (and the allowance for a late batch) has passed, looking every ${REORDER_GRANULARITY_MS} ms`, () => {
    const counts = new SlidingCounts();
    counts.observe([event("calls-per-cli:old", T0), sighting("clis-per-trunk:old", "a", T0)]);
    counts.observe([event("calls-per-cli:new", T0 + 60_000 + LATE_OBSERVATION_MS)]);
    expect(counts.size).toBe(3);
    counts.observe([event("calls-per-cli:new", T0 + 60_000 + LATE_OBSERVATION_MS + REORDER_GRANULARITY_MS)]);
    expect(counts.size).toBe(2); // the calls' key has gone; the sightings' window is 300 s
    counts.observe([event("calls-per-cli:new", T0 + 300_000 + LATE_OBSERVATION_MS + 1)]);
    expect(counts.size).toBe(1);
  });

  it(`holds at most ${MAX_KEYS} keys, forgetting the one observed least recently`, () => {
    const counts = new SlidingCounts();
    counts.observe([event("calls-per-cli:busy", T0)]);
    counts.observe(Array.from({ length: MAX_KEYS - 1 }, (_, index) => event(`calls-per-cli:${index}`, T0)));
    // Observed again a REORDER_GRANULARITY_MS later: now the most recent.
    const again = T0 + REORDER_GRANULARITY_MS;
    counts.observe([event("calls-per-cli:busy", again)]);
    counts.observe([event("calls-per-cli:one-more", again + 1)]);
    expect(counts.size).toBe(MAX_KEYS);
    expect(counts.observe([event("calls-per-cli:busy", again + 2), event("calls-per-cli:0", again + 2)])).toEqual([
      { key: "calls-per-cli:busy", atMs: again + 2, count: 3, capped: false },
      { key: "calls-per-cli:0", atMs: again + 2, count: 1, capped: false }, // forgotten: counting again from this call
    ]);
  });

  it("keeps at most half as many again as a distinct count's cap, and still counts up to the cap exactly", () => {
    const counts = new SlidingCounts();
    const observe = (from: number, to: number) =>
      counts.observe(Array.from({ length: to - from }, (_, index) => sighting("clis-per-trunk:big", `cli-${from + index}`, T0 + from + index, 11)));
    expect(observe(0, 5)[0]).toMatchObject({ count: 5, capped: false });
    expect(observe(5, 5_000)[0]).toMatchObject({ count: 11, capped: true });
    expect(JSON.parse(counts.save())[0][4].length / 2).toBeLessThanOrEqual(16);
    // A count against a window that holds fewer than the cap is exact.
    expect(counts.observe([{ ...sighting("clis-per-trunk:big", "cli-4999", T0 + 5_000, 11), windowMs: 4 }])[0]).toMatchObject({ count: 3, capped: false });
  });

  it("counts a late batch, within LATE_OBSERVATION_MS of the newest, over its own window's start", () => {
    const counts = new SlidingCounts();
    counts.observe(Array.from({ length: 151 }, (_, second) => event("calls-per-cli:7701", T0 + second * 1_000)));
    // 50 s late: the window starts at second 40; seconds 41–150 and this call count, as the earlier tables counted them.
    expect(counts.observe([event("calls-per-cli:7701", T0 + 100_000)])[0]).toMatchObject({ count: 111 });
  });

  it("saves and restores every count as it was", () => {
    const counts = new SlidingCounts();
    const batch = [event("calls-per-cli:7701", T0), event("calls-per-cli:7701", T0 + 1_500), sighting("destinations-per-cli:7701", "7701", T0, 51), sighting("destinations-per-cli:7701", "7702", T0 + 10)];
    counts.observe(batch);
    const restored = SlidingCounts.restore(counts.save());
    const later = [event("calls-per-cli:7701", T0 + 2_000), sighting("destinations-per-cli:7701", "7703", T0 + 2_000, 51)];
    expect(restored.observe(later)).toEqual(counts.observe(later));
    expect(restored.save()).toBe(counts.save());
  });
});

describe("velocity counters in memory: the window's edges", () => {
  it("counts the calls of the seconds after the one the window's start falls in, as the earlier SQL did", () => {
    const counts = new SlidingCounts();
    counts.observe([event("calls-per-cli:7701", T0), event("calls-per-cli:7701", T0 + 1_000)]);
    // The window (T0, T0 + 60 s]: second T0 is where it starts, and leaves; T0 + 1 s and this call count.
    expect(counts.observe([event("calls-per-cli:7701", T0 + 60_000)])[0]).toMatchObject({ count: 2 });
  });

  it("counts a late call into its own second, in order, so the seconds after it still count", () => {
    const counts = new SlidingCounts();
    counts.observe([event("calls-per-cli:7701", T0), event("calls-per-cli:7701", T0 + 2_000)]);
    counts.observe([event("calls-per-cli:7701", T0 + 1_000)]); // a late batch, one second behind the newest
    // The window after second T0 + 1 s: T0 + 2 s and this call. A second stored out of order would end the count early.
    expect(counts.observe([event("calls-per-cli:7701", T0 + 61_500)])[0]).toMatchObject({ count: 2 });
    // Late into second T0 + 61 s, which holds a call already: that bucket counts two.
    expect(counts.observe([event("calls-per-cli:7701", T0 + 61_000)])[0]).toMatchObject({ count: 3 });
  });

  it("answers each key at its latest observation in the batch, whatever order the batch holds them in", () => {
    const counts = new SlidingCounts();
    expect(counts.observe([event("calls-per-cli:7701", T0), event("calls-per-cli:7701", T0 + 5_000), event("calls-per-cli:7701", T0 + 1_000)])).toEqual([
      { key: "calls-per-cli:7701", atMs: T0 + 5_000, count: 3, capped: false },
    ]);
  });

  it("counts a distinct value last seen after the window's start, not one seen at it", () => {
    const counts = new SlidingCounts();
    counts.observe([sighting("destinations-per-cli:7701", "a", T0), sighting("destinations-per-cli:7701", "b", T0 + 1)]);
    expect(counts.observe([sighting("destinations-per-cli:7701", "c", T0 + 300_000)])[0]).toMatchObject({ count: 2 });
  });

  it("keeps a value's latest sighting: one seen again counts from then, and a late, older sighting does not take it back", () => {
    const counts = new SlidingCounts();
    counts.observe([sighting("destinations-per-cli:7701", "a", T0), sighting("destinations-per-cli:7701", "a", T0 + 200_000)]);
    counts.observe([sighting("destinations-per-cli:7701", "a", T0 + 150_000)]); // late
    // The window after T0 + 180 s: "a" (last seen at T0 + 200 s) and "b".
    expect(counts.observe([sighting("destinations-per-cli:7701", "b", T0 + 480_000)])[0]).toMatchObject({ count: 2 });
  });

  it("answers a key forgotten within its own batch (idle past its window beside a newer observation) as counting nothing", () => {
    const counts = new SlidingCounts();
    const answers = counts.observe([event("calls-per-cli:old", T0), event("calls-per-cli:new", T0 + 60_000 + LATE_OBSERVATION_MS + 1)]);
    expect(answers).toEqual([
      { key: "calls-per-cli:old", atMs: T0, count: 0, capped: false },
      { key: "calls-per-cli:new", atMs: T0 + 60_000 + LATE_OBSERVATION_MS + 1, count: 1, capped: false },
    ]);
    expect(counts.size).toBe(1);
  });
});

describe("velocity counters in memory: distinct counts stop at their cap", () => {
  it("stops at countUpTo and says so; a count below it, or with no cap named, is exact", () => {
    const counts = new SlidingCounts();
    expect(counts.observe([sighting("clis-per-trunk:t1", "a", T0, 1)])[0]).toMatchObject({ count: 1, capped: true });
    expect(counts.observe([sighting("clis-per-trunk:t2", "a", T0, 2)])[0]).toMatchObject({ count: 1, capped: false });
    expect(counts.observe([sighting("clis-per-trunk:t3", "a", T0)])[0]).toMatchObject({ count: 1, capped: false });
  });

  it("takes a cap that is no count (0, negative, a fraction, unsafe) for none: counted up to MAX_DISTINCT_VALUES", () => {
    const counts = new SlidingCounts();
    for (const countUpTo of [0, -3, 2.5, 2 ** 53]) {
      expect(counts.observe([sighting(`clis-per-trunk:${countUpTo}`, "a", T0, countUpTo), sighting(`clis-per-trunk:${countUpTo}`, "b", T0, countUpTo)])[0]).toMatchObject({ count: 2, capped: false });
    }
  });

  it(`stops a count that names a cap past MAX_DISTINCT_VALUES at ${MAX_DISTINCT_VALUES}, so one key's memory is bounded`, () => {
    const counts = new SlidingCounts();
    const flood = Array.from({ length: MAX_DISTINCT_VALUES + 10 }, (_, index) => sighting("clis-per-trunk:flooded", `cli-${index}`, T0 + index, MAX_DISTINCT_VALUES * 2));
    expect(counts.observe(flood)[0]).toMatchObject({ count: MAX_DISTINCT_VALUES, capped: true });
    expect(valuesHeld(counts, "clis-per-trunk:flooded").length).toBeLessThan(MAX_DISTINCT_VALUES * 1.5);
  });

  it("keeps the newest sightings when it sheds, though a late batch put an older one last", () => {
    const counts = new SlidingCounts();
    // Kept to 2, shed at 3: "c" arrives last but was seen first, so it is the one dropped.
    counts.observe([sighting("clis-per-trunk:t1", "a", T0 + 10, 2), sighting("clis-per-trunk:t1", "b", T0 + 20, 2), sighting("clis-per-trunk:t1", "c", T0 + 5, 2)]);
    expect(valuesHeld(counts, "clis-per-trunk:t1")).toEqual(["a", "b"]);
  });

  it("counts up to MAX_DISTINCT_VALUES for an observation that names no cap, and calls that exact", () => {
    const counts = new SlidingCounts();
    const flood = Array.from({ length: MAX_DISTINCT_VALUES }, (_, index) => sighting("clis-per-trunk:old-isolate", `cli-${index}`, T0 + index));
    expect(counts.observe(flood)[0]).toMatchObject({ count: MAX_DISTINCT_VALUES, capped: false });
  });

  it("after a limit is raised, counts as a floor until the window has moved past what the lower cap dropped", () => {
    const counts = new SlidingCounts();
    // Kept to 2: the third sighting drops the oldest, "a" (last seen at T0).
    counts.observe(["a", "b", "c"].map((cli, index) => sighting("clis-per-trunk:t1", cli, T0 + index, 2)));
    expect(valuesHeld(counts, "clis-per-trunk:t1")).toEqual(["b", "c"]);
    // Raised to 10: "a" would count in this window, but is gone, so 3 is "at least 3".
    expect(counts.observe([sighting("clis-per-trunk:t1", "d", T0 + 3, 10)])[0]).toMatchObject({ count: 3, capped: true });
    // The window after T0 no longer holds "a"'s sighting (at T0): exact again ("b", "c", "d", "e").
    expect(counts.observe([sighting("clis-per-trunk:t1", "e", T0 + 300_000, 10)])[0]).toMatchObject({ count: 4, capped: false });
  });
});

describe("velocity counters in memory: memory a fraudster cannot grow", () => {
  it("forgets a value once its window has passed, though a value seen before it was seen again since", () => {
    const counts = new SlidingCounts();
    counts.observe([sighting("destinations-per-cli:7701", "a", T0), sighting("destinations-per-cli:7701", "b", T0 + 1), sighting("destinations-per-cli:7701", "a", T0 + 200_000)]);
    // "b" is now older than the window and the late allowance; "a" is not.
    counts.observe([sighting("destinations-per-cli:7701", "c", T0 + 1 + 300_000 + LATE_OBSERVATION_MS + 1)]);
    expect(valuesHeld(counts, "destinations-per-cli:7701")).toEqual(["a", "c"]);
  });

  it("keeps one bucket per second, however many calls it holds", () => {
    const counts = new SlidingCounts();
    counts.observe([event("calls-per-cli:7701", T0), event("calls-per-cli:7701", T0 + 10), event("calls-per-cli:7701", T0 + 999), event("calls-per-cli:7701", T0 + 1_000)]);
    counts.observe([event("calls-per-cli:7701", T0 + 500)]); // late, into the first second
    counts.observe([event("calls-per-cli:7701", T0 - 1_000)]); // late, into a second before the first
    const [[, , , seconds]] = JSON.parse(counts.save()) as [[string, number, number, number[]]];
    expect(seconds).toEqual([T0 / 1_000 - 1, 1, T0 / 1_000, 4, T0 / 1_000 + 1, 1]);
  });

  it("forgets the seconds of calls older than the window and the late allowance", () => {
    const counts = new SlidingCounts();
    counts.observe([event("calls-per-cli:7701", T0), event("calls-per-cli:7701", T0 + 1_000)]);
    counts.observe([event("calls-per-cli:7701", T0 + 1_000 + 60_000 + LATE_OBSERVATION_MS)]);
    const [[, , , seconds]] = JSON.parse(counts.save()) as [[string, number, number, number[]]];
    expect(seconds).toEqual([T0 / 1_000 + 1, 1, (T0 + 121_000) / 1_000, 1]);
  });

  it(`moves a key observed again to the most recent only from ${REORDER_GRANULARITY_MS} ms after its last move`, () => {
    const counts = new SlidingCounts();
    counts.observe([event("calls-per-cli:a", T0), event("calls-per-cli:b", T0)]);
    counts.observe([event("calls-per-cli:a", T0 + REORDER_GRANULARITY_MS - 1)]);
    expect((JSON.parse(counts.save()) as [string][]).map(([key]) => key)).toEqual(["calls-per-cli:a", "calls-per-cli:b"]);
    counts.observe([event("calls-per-cli:a", T0 + REORDER_GRANULARITY_MS)]);
    expect((JSON.parse(counts.save()) as [string][]).map(([key]) => key)).toEqual(["calls-per-cli:b", "calls-per-cli:a"]);
    // A distinct count's key alike: a busy trunk's must move, or a flood of quieter keys evicts it.
    counts.observe([sighting("clis-per-trunk:a", "x", T0), sighting("clis-per-trunk:b", "x", T0)]);
    counts.observe([sighting("clis-per-trunk:a", "y", T0 + REORDER_GRANULARITY_MS)]);
    expect((JSON.parse(counts.save()) as [string][]).map(([key]) => key).filter((key) => key.startsWith("clis-per-trunk:"))).toEqual(["clis-per-trunk:b", "clis-per-trunk:a"]);
  });
});

describe("velocity counters in memory: a snapshot read back", () => {
  it("reads what is whole and leaves out what is not, entry by entry: that key starts over", () => {
    const valid: unknown[] = [
      ["calls-per-cli:ok", 60_000, T0, [T0 / 1_000, 2]],
      ["clis-per-trunk:ok", 300_000, T0, 5, ["a", T0, "b", T0], null],
      ["clis-per-trunk:dropped", 300_000, T0, 5, ["c", T0], T0 - 1],
    ];
    const broken: unknown[] = [
      "calls-per-cli:no-list",
      [7701, 60_000, T0, [T0 / 1_000, 1]],
      ["calls-per-cli:window", "60000", T0, [T0 / 1_000, 1]],
      ["calls-per-cli:newest", 60_000, null, [T0 / 1_000, 1]],
      ["calls-per-cli:odd", 60_000, T0, [T0 / 1_000]],
      ["calls-per-cli:text", 60_000, T0, [T0 / 1_000, "1"]],
      ["calls-per-cli:five", 60_000, T0, [T0 / 1_000, 1], null],
      ["clis-per-trunk:keep", 300_000, T0, "5", ["a", T0], null],
      ["clis-per-trunk:values", 300_000, T0, 5, "a", null],
      ["clis-per-trunk:pairs", 300_000, T0, 5, ["a", T0, "b"], null],
      ["clis-per-trunk:value", 300_000, T0, 5, [1, T0], null],
      ["clis-per-trunk:seen", 300_000, T0, 5, ["a", "T0"], null],
      ["clis-per-trunk:dropped-text", 300_000, T0, 5, ["a", T0], "T0"],
      ["clis-per-trunk:seven", 300_000, T0, 5, ["a", T0], null, 0],
    ];
    const restored = SlidingCounts.restore(JSON.stringify([...valid, ...broken]));
    expect(restored.size).toBe(valid.length);
    expect(restored.observe([event("calls-per-cli:ok", T0 + 1_000), sighting("clis-per-trunk:ok", "c", T0 + 1), sighting("clis-per-trunk:dropped", "d", T0 + 1), event("calls-per-cli:odd", T0 + 1_000)])).toEqual([
      { key: "calls-per-cli:ok", atMs: T0 + 1_000, count: 3, capped: false },
      { key: "clis-per-trunk:ok", atMs: T0 + 1, count: 3, capped: false },
      // What the lower cap dropped (at T0 − 1) is inside this window: a floor.
      { key: "clis-per-trunk:dropped", atMs: T0 + 1, count: 2, capped: true },
      { key: "calls-per-cli:odd", atMs: T0 + 1_000, count: 1, capped: false },
    ]);
  });

  it("starts from nothing for a snapshot that is no JSON, or no list", () => {
    expect(SlidingCounts.restore("[[").size).toBe(0);
    expect(SlidingCounts.restore('{"calls-per-cli:7701": [60000]}').size).toBe(0);
  });

  it(`reads back at most ${MAX_KEYS} keys, the ones observed most recently (saved last)`, () => {
    const saved = Array.from({ length: MAX_KEYS + 1 }, (_, index) => [`calls-per-cli:${index}`, 60_000, T0, [T0 / 1_000, 1]]);
    const restored = SlidingCounts.restore(JSON.stringify(saved));
    expect(restored.size).toBe(MAX_KEYS);
    expect(restored.observe([event("calls-per-cli:0", T0), event(`calls-per-cli:${MAX_KEYS}`, T0)]).map(({ count }) => count)).toEqual([1, 2]);
  });

  it("saves a key that never dropped a value with no drop instant, and reads it back as such", () => {
    const counts = new SlidingCounts();
    counts.observe([sighting("clis-per-trunk:t1", "a", T0, 5)]);
    expect(JSON.parse(counts.save())).toEqual([["clis-per-trunk:t1", 300_000, T0, 5, ["a", T0], null]]);
    expect(SlidingCounts.restore(counts.save()).observe([sighting("clis-per-trunk:t1", "b", T0 + 1, 5)])[0]).toMatchObject({ count: 2, capped: false });
  });
});
