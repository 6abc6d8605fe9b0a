import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { chunksOf, SNAPSHOT_CHUNK_CHARS, VELOCITY_SAVE_EVERY_MS, VelocityCounter } from "../../../src/abuse/velocity-counter";
import type { Observation } from "../../../src/abuse/velocity-window";

const T0 = 1_800_000_000_000;

const counterIn = async (test: (counter: VelocityCounter, state: DurableObjectState) => Promise<void>) =>
  runInDurableObject(env.VELOCITY.getByName(`storage-${crypto.randomUUID()}`), async (counter: VelocityCounter, state) => test(counter, state));
const event = (key: string, atMs: number, windowMs = 60_000): Observation => ({ key, value: null, atMs, windowMs });
const sighting = (key: string, value: string, atMs: number, countUpTo?: number): Observation => ({ key, value, atMs, windowMs: 300_000, ...(countUpTo === undefined ? {} : { countUpTo }) });
const chunks = (state: DurableObjectState) => state.storage.sql.exec<{ chunk: number; chars: number }>("SELECT chunk, length(counts) AS chars FROM snapshot ORDER BY chunk").toArray();

describe("velocity counters in memory: no row per call (issue 19)", () => {
  it("writes nothing for a call: a burst of batches sets one alarm, VELOCITY_SAVE_EVERY_MS ahead, and writes no other row", async () => {
    await counterIn(async (counter, state) => {
      const answers = [];
      for (let batch = 0; batch < 20; batch++) answers.push(await counter.observe([event("calls-per-cli:7701", T0 + batch), sighting("clis-per-trunk:t1", `cli-${batch}`, T0 + batch)]));
      // The alarm is kept in the object's SQLite: counted as a row written, once.
      expect(answers.map(({ storage }) => storage.rowsWritten)).toEqual([1, ...Array(19).fill(0)]);
      expect(answers.at(-1)!.counts).toEqual([
        { key: "calls-per-cli:7701", atMs: T0 + 19, count: 20, capped: false },
        { key: "clis-per-trunk:t1", atMs: T0 + 19, count: 20, capped: false },
      ]);
      expect(chunks(state)).toEqual([]);
      const alarm = await state.storage.getAlarm();
      expect(alarm).toBeGreaterThan(Date.now() + VELOCITY_SAVE_EVERY_MS - 5_000);
      expect(alarm).toBeLessThanOrEqual(Date.now() + VELOCITY_SAVE_EVERY_MS);
    });
  });

  it("saves the counts at the alarm, as one snapshot row, and reports the alarm as a request and the row with its next answer", async () => {
    await counterIn(async (counter, state) => {
      await counter.observe([event("calls-per-cli:7701", T0), sighting("destinations-per-cli:7701", "77012345678", T0)]);
      await counter.alarm();
      expect(chunks(state)).toHaveLength(1);
      const { storage } = await counter.observe([event("calls-per-cli:7701", T0 + 1)]);
      expect(storage).toMatchObject({ rowsWritten: 1 + 1 + 0, alarmsRun: 1 }); // the snapshot's chunk, the next alarm set; the delete of no chunk
    });
  });

  it("goes on from its last snapshot after a restart, and loses only what it counted since", async () => {
    await counterIn(async (counter, state) => {
      await counter.observe([event("calls-per-cli:7701", T0), event("calls-per-cli:7701", T0 + 1), sighting("clis-per-trunk:t1", "a", T0)]);
      await counter.alarm();
      await counter.observe([event("calls-per-cli:7701", T0 + 2), sighting("clis-per-trunk:t1", "b", T0 + 2)]); // after the save: lost to the restart
      const restarted = new VelocityCounter(state, env);
      expect((await restarted.observe([event("calls-per-cli:7701", T0 + 3), sighting("clis-per-trunk:t1", "c", T0 + 3)])).counts).toEqual([
        { key: "calls-per-cli:7701", atMs: T0 + 3, count: 3, capped: false },
        { key: "clis-per-trunk:t1", atMs: T0 + 3, count: 2, capped: false },
      ]);
    });
  });

  it("cuts a large snapshot into chunks a row can hold, and drops the chunks a smaller one no longer needs", async () => {
    await counterIn(async (counter, state) => {
      const many = Array.from({ length: 30_000 }, (_, index) => sighting(`destinations-per-cli:77${String(index).padStart(9, "0")}`, "77012345678", T0));
      await counter.observe(many);
      await counter.alarm();
      const large = chunks(state);
      expect(large.length).toBeGreaterThan(1);
      expect(large.every(({ chars }) => chars <= SNAPSHOT_CHUNK_CHARS)).toBe(true);
      // Ten minutes on, every one of those keys is past its window: forgotten, and the snapshot is small again.
      await counter.observe([event("calls-per-cli:7701", T0 + 600_000)]);
      await counter.alarm();
      expect(chunks(state)).toHaveLength(1);
      expect((await new VelocityCounter(state, env).observe([event("calls-per-cli:7701", T0 + 600_001)])).counts[0]!.count).toBe(2);
    });
  });

  it("starts from nothing when its snapshot cannot be read", async () => {
    await counterIn(async (_counter, state) => {
      state.storage.sql.exec("INSERT INTO snapshot (chunk, counts) VALUES (0, '[[\"calls-per-cli:7701\", 60000')");
      expect((await new VelocityCounter(state, env).observe([event("calls-per-cli:7701", T0)])).counts[0]!.count).toBe(1);
    });
  });

  it("cuts at the size, one character short where the size would split a pair, the highest and lowest high surrogates alike", () => {
    // U+10000 is \ud800\udc00 and U+10FFFF \udbff\udfff: the two ends of the high-surrogate range.
    // Compared by length: a failure printing a lone surrogate is no valid UTF-8 for the test pool's socket.
    expect(chunksOf("ab\u{10000}\u{10FFFF}cd", 3).map((chunk) => chunk.length)).toEqual([2, 2, 3, 1]);
    expect(chunksOf("a\u{10000}bc", 3).map((chunk) => chunk.length)).toEqual([3, 2]); // a whole pair ends the first: no cut short
    expect(chunksOf("abcdefg", 3)).toEqual(["abc", "def", "g"]);
  });

  it("never cuts a chunk between the two halves of a surrogate pair", () => {
    const text = `ab${"😀".repeat(3)}c`;
    const cut = chunksOf(text, 3);
    expect(cut.join("")).toBe(text);
    expect(cut.every((chunk) => !/[\ud800-\udbff]$/.test(chunk) && !/^[\udc00-\udfff]/.test(chunk))).toBe(true);
  });
});
