import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { VELOCITY_SHARDS, velocityShardOf } from "../../../src/abuse/shard";
import { VelocityTracker, type VelocityStore } from "../../../src/abuse/velocity";
import { VelocityCounter, type Count, type Observation } from "../../../src/abuse/velocity-counter";
import { DISTINCT_IN_WINDOW } from "../../../src/abuse/velocity-sql";
import { Deadline } from "../../../src/verdict/deadline";

describe("velocity shard choice", () => {
  it("is stable for a key and names one of the shards", () => {
    expect(velocityShardOf("cli:77012345678")).toBe(velocityShardOf("cli:77012345678"));
    expect(velocityShardOf("cli:77012345678")).toMatch(/^shard-[0-9a-f]{2}$/);
  });

  it("spreads similar keys (consecutive numbers, one prefix) over every shard, none with more than twice its share", () => {
    const counts = new Map<string, number>();
    for (let index = 0; index < 64_000; index++) {
      const shard = velocityShardOf(`cli:770123${String(index).padStart(5, "0")}`);
      counts.set(shard, (counts.get(shard) ?? 0) + 1);
    }
    expect(counts.size).toBe(VELOCITY_SHARDS);
    const share = 64_000 / VELOCITY_SHARDS;
    for (const count of counts.values()) {
      expect(count).toBeGreaterThan(share / 2);
      expect(count).toBeLessThan(share * 2);
    }
  });
});

describe("velocity flush across many shards", () => {
  it("sends every observation once, to its own shard, with at most 8 shard calls in flight", async () => {
    const received = new Map<string, string[]>();
    let inFlight = 0;
    let mostInFlight = 0;
    const store: VelocityStore = {
      async observe(shard, observations: Observation[]): Promise<Count[]> {
        inFlight++;
        mostInFlight = Math.max(mostInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 1));
        inFlight--;
        received.set(shard, [...(received.get(shard) ?? []), ...observations.map(({ key }) => key)]);
        return observations.map(({ key, atMs }) => ({ key, atMs, count: 1 }));
      },
    };
    const tracker = new VelocityTracker(store, { "calls-per-cli": { threshold: 10, windowMs: 60_000, action: "tag" } });
    const background: Promise<unknown>[] = [];
    const deadline = new Deadline(10_000, (promise) => void background.push(promise));
    const clis = Array.from({ length: 400 }, (_, index) => `7701${String(index).padStart(7, "0")}`);
    for (const cli of clis) tracker.assess({ cli, destination: null, trunk: null }, 1_000, deadline, (promise) => void background.push(promise));
    await Promise.all(background);

    const delivered = [...received.values()].flat();
    expect(delivered.sort()).toEqual(clis.map((cli) => `calls-per-cli:${cli}`).sort());
    for (const [shard, keys] of received) for (const key of keys) expect(velocityShardOf(key)).toBe(shard);
    expect(received.size).toBeGreaterThan(8); // the flush needed more than one wave
    expect(mostInFlight).toBeLessThanOrEqual(8);
    // Every CLI's count came back: the next call for it is judged on it.
    const judged = tracker.assess({ cli: clis[399]!, destination: null, trunk: null }, 1_001, deadline, () => {});
    expect(judged.checks[0]).toMatchObject({ result: "pass", evidence: { count: 1 } });
  });
});

describe("velocity counter storage", () => {
  const planOf = (state: DurableObjectState, sql: string, ...bindings: (string | number)[]) =>
    state.storage.sql.exec<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, ...bindings).toArray().map(({ detail }) => detail).join("; ");

  it("counts a key's distinct values from the window's rows, through the (key, last_ms) index", async () => {
    const stub = env.VELOCITY.getByName(`plan-${crypto.randomUUID()}`);
    await runInDurableObject(stub, async (counter: VelocityCounter, state) => {
      const observations = Array.from({ length: 50 }, (_, index) => ({ key: "clis-per-trunk:t1", value: `cli-${index}`, atMs: 1_000 * index, windowMs: 10_000 }));
      const [count] = counter.observe(observations);
      expect(count).toMatchObject({ key: "clis-per-trunk:t1", count: 10 }); // seen within (39 s, 49 s]
      // The count reads the window's whole seconds from the tallies and its first second from the sightings, both by index.
      const plan = planOf(state, DISTINCT_IN_WINDOW, "clis-per-trunk:t1", 0, 0, 1_000);
      expect(plan).toMatch(/SEARCH sighting_seconds USING (?:COVERING )?INDEX \w+ \(key=\? AND second>\?\)/);
      expect(plan).toMatch(/SEARCH sightings USING COVERING INDEX sightings_recent \(key=\? AND last_ms>\? AND last_ms<\?\)/);
    });
  });

  it("answers a batch of many keys, repeats and out-of-order times exactly as counting each observation alone would", async () => {
    // 150 CLIs and 3 trunks, each key observed many times per batch, out of time order, in two batches.
    const windowMs = 20_000;
    const observations: Observation[] = [];
    for (let index = 0; index < 1_200; index++) {
      const cli = `cli-${index % 150}`;
      const atMs = 100_000 + ((index * 7_919) % 40_000); // spread over 40 s, not in order
      observations.push({ key: `calls-per-cli:${cli}`, value: null, atMs, windowMs });
      observations.push({ key: `destinations-per-cli:${cli}`, value: `dest-${index % 13}`, atMs, windowMs });
      observations.push({ key: `clis-per-trunk:trunk-${index % 3}`, value: cli, atMs, windowMs });
    }
    const batches = [observations.slice(0, 1_800), observations.slice(1_800)];

    // The reference: every observation so far, counted over the window ending at the key's latest observation in the batch.
    const expected = (upTo: Observation[], batch: Observation[], key: string) => {
      const ofKey = upTo.filter((observation) => observation.key === key);
      const end = Math.max(...batch.filter((observation) => observation.key === key).map(({ atMs }) => atMs));
      if (ofKey[0]!.value === null) return ofKey.filter(({ atMs }) => Math.floor(atMs / 1000) > Math.floor((end - windowMs) / 1000)).length;
      const last = new Map<string, number>();
      for (const { value, atMs } of ofKey) last.set(value!, Math.max(last.get(value!) ?? 0, atMs));
      return [...last.values()].filter((atMs) => atMs > end - windowMs).length;
    };

    const stub = env.VELOCITY.getByName(`batch-${crypto.randomUUID()}`);
    await runInDurableObject(stub, async (counter: VelocityCounter) => {
      for (const [index, batch] of batches.entries()) {
        const upTo = batches.slice(0, index + 1).flat();
        const counts = counter.observe(batch);
        const keys = [...new Set(batch.map(({ key }) => key))];
        expect(counts.map(({ key }) => key).sort()).toEqual(keys.sort());
        for (const { key, count, atMs } of counts) {
          expect({ key, count }).toEqual({ key, count: expected(upTo, batch, key) });
          expect(atMs).toBe(Math.max(...batch.filter((observation) => observation.key === key).map((observation) => observation.atMs)));
        }
      }
    });
  });

  const talliesOf = (state: DurableObjectState) =>
    state.storage.sql.exec<{ key: string; second: number; count: number }>("SELECT key, second, count FROM sighting_seconds WHERE count <> 0 ORDER BY key, second").toArray();
  const talliesFromSightings = (state: DurableObjectState) =>
    state.storage.sql
      .exec<{ key: string; second: number; count: number }>("SELECT key, last_ms / 1000 AS second, COUNT(*) AS count FROM sightings GROUP BY key, last_ms / 1000 ORDER BY key, second")
      .toArray();

  it("keeps the per-second tallies equal to the sightings through new values, re-sightings and pruning", async () => {
    const stub = env.VELOCITY.getByName(`tallies-${crypto.randomUUID()}`);
    await runInDurableObject(stub, async (counter: VelocityCounter, state) => {
      const sighting = (key: string, value: string, atMs: number): Observation => ({ key, value, atMs, windowMs: 300_000 });
      // New values; a value seen again in the same second, in a later second, and out of order (an older sighting changes nothing).
      counter.observe([sighting("k:a", "v1", 10_100), sighting("k:a", "v2", 10_900), sighting("k:b", "v1", 11_000)]);
      counter.observe([sighting("k:a", "v1", 10_700), sighting("k:a", "v2", 12_500), sighting("k:a", "v1", 9_000)]);
      expect(talliesOf(state)).toEqual([
        { key: "k:a", second: 10, count: 1 },
        { key: "k:a", second: 12, count: 1 },
        { key: "k:b", second: 11, count: 1 },
      ]);
      expect(talliesOf(state)).toEqual(talliesFromSightings(state));

      // A day later the old sightings are pruned, and their seconds' tallies with them.
      counter.observe([sighting("k:c", "v1", 86_400_000 + 12_000)]);
      expect(state.storage.sql.exec("SELECT key FROM sightings ORDER BY key").toArray()).toEqual([{ key: "k:a" }, { key: "k:c" }]);
      expect(talliesOf(state)).toEqual(talliesFromSightings(state));
      expect(state.storage.sql.exec("SELECT COUNT(*) AS rows FROM sighting_seconds WHERE second < 12").one()).toEqual({ rows: 0 });
    });
  });

  it("tallies the sightings an object held before the tallies existed, once, when it starts", async () => {
    const stub = env.VELOCITY.getByName(`upgrade-${crypto.randomUUID()}`);
    await runInDurableObject(stub, async (_counter: VelocityCounter, state) => {
      // The storage as the previous version left it: sightings, and no tallies.
      state.storage.sql.exec("DROP TRIGGER sighting_added; DROP TRIGGER sighting_moved; DROP TRIGGER sighting_removed; DROP TABLE sighting_seconds;");
      for (let index = 0; index < 40; index++) {
        state.storage.sql.exec("INSERT INTO sightings (key, value, last_ms) VALUES (?, ?, ?)", "clis-per-trunk:t9", `cli-${index}`, 100_000 + index * 500);
      }
      const upgraded = new VelocityCounter(state, env);
      expect(talliesOf(state)).toEqual(talliesFromSightings(state));
      // Counted over (109.75 s, 119.75 s]: the values last seen at 110.0 s … 119.5 s.
      const [count] = upgraded.observe([{ key: "clis-per-trunk:t9", value: "cli-39", atMs: 119_750, windowMs: 10_000 }]);
      expect(count).toMatchObject({ count: 20 });
      // Starting again does not tally twice.
      new VelocityCounter(state, env);
      expect(talliesOf(state)).toEqual(talliesFromSightings(state));
    });
  });
});
