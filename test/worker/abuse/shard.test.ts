import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { VELOCITY_SHARDS, velocityShardOf } from "../../../src/abuse/shard";
import { VelocityTracker, type VelocityStore } from "../../../src/abuse/velocity";
import type { VelocityCounter } from "../../../src/abuse/velocity-counter";
import type { Count, Observation } from "../../../src/abuse/velocity-window";
import { Deadline } from "../../../src/verdict/deadline";

describe("velocity shard choice", () => {
  it("is stable for a key and names one of the shards", () => {
    expect(velocityShardOf("cli:77012345678")).toBe(velocityShardOf("cli:77012345678"));
    expect(velocityShardOf("cli:77012345678")).toMatch(/^shard-[0-9a-f]$/);
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
        return observations.map(({ key, atMs }) => ({ key, atMs, count: 1, capped: false }));
      },
    };
    const tracker = new VelocityTracker(store, { "calls-per-cli": { threshold: 10, windowMs: 60_000, action: "tag" } }, 5_000);
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

describe("velocity counts", () => {
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
        const { counts } = await counter.observe(batch);
        const keys = [...new Set(batch.map(({ key }) => key))];
        expect(counts.map(({ key }) => key).sort()).toEqual(keys.sort());
        for (const { key, count, atMs } of counts) {
          expect({ key, count }).toEqual({ key, count: expected(upTo, batch, key) });
          expect(atMs).toBe(Math.max(...batch.filter((observation) => observation.key === key).map((observation) => observation.atMs)));
        }
      }
    });
  });

  it("stops a distinct count at countUpTo, and keeps no more of a key's values than a count that stops there reads", async () => {
    const stub = env.VELOCITY.getByName(`cap-${crypto.randomUUID()}`);
    await runInDurableObject(stub, async (counter: VelocityCounter) => {
      const values = Array.from({ length: 5_000 }, (_, index) => ({ key: "clis-per-trunk:big", value: `cli-${index}`, atMs: 100_000 + index, windowMs: 300_000 }));
      expect((await counter.observe(values)).counts).toEqual([{ key: "clis-per-trunk:big", atMs: 104_999, count: 5_000, capped: false }]);
      const at = 105_000;
      expect((await counter.observe([{ key: "clis-per-trunk:big", value: "cli-0", atMs: at, windowMs: 300_000, countUpTo: 1_001 }])).counts).toEqual([{ key: "clis-per-trunk:big", atMs: at, count: 1_001, capped: true }]);
      // The limit raised: the values the lower cap let go would count in this window, so the count says "at least".
      expect((await counter.observe([{ key: "clis-per-trunk:big", value: "cli-1", atMs: at, windowMs: 300_000, countUpTo: 5_001 }])).counts).toEqual([{ key: "clis-per-trunk:big", atMs: at, count: 1_002, capped: true }]);
      // Once the window has moved past them, the count is exact again: cli-0, cli-1 and cli-2.
      const later = at + 300_000 - 1;
      expect((await counter.observe([{ key: "clis-per-trunk:big", value: "cli-2", atMs: later, windowMs: 300_000, countUpTo: 5_001 }])).counts).toEqual([{ key: "clis-per-trunk:big", atMs: later, count: 3, capped: false }]);
    });
  });
});

describe("velocity counts stopped at the limit", () => {
  const trunkLimit = (threshold: number) => ({ "clis-per-trunk": { threshold, windowMs: 300_000, action: "tag" as const }, "calls-per-cli": { threshold, windowMs: 60_000, action: "tag" as const } });
  const call = { cli: "77012345678", destination: null, trunk: "intl-9" };

  async function trackerAnswering(threshold: number, answer: (observation: Observation) => Count) {
    const sent: Observation[] = [];
    const store: VelocityStore = {
      async observe(_shard, observations) {
        sent.push(...observations);
        return observations.map(answer);
      },
    };
    const tracker = new VelocityTracker(store, trunkLimit(threshold), 5_000);
    const background: Promise<unknown>[] = [];
    const deadline = new Deadline(10_000, (promise) => void background.push(promise));
    tracker.assess(call, 1_000, deadline, (promise) => void background.push(promise));
    await Promise.all(background);
    const judged = tracker.assess(call, 1_001, deadline, () => {});
    return { sent, check: (id: string) => judged.checks.find((check) => check.id === id)! };
  }

  it("asks for distinct counts up to one past the limit, and for event counts in full", async () => {
    const { sent } = await trackerAnswering(1_000, ({ key, atMs }) => ({ key, atMs, count: 1, capped: false }));
    expect(sent.find(({ key }) => key.startsWith("clis-per-trunk:"))).toMatchObject({ countUpTo: 1_001 });
    expect(sent.find(({ key }) => key.startsWith("calls-per-cli:"))).not.toHaveProperty("countUpTo");
  });

  it("flags a capped count as more than the limit, and says it was capped", async () => {
    const { check } = await trackerAnswering(1_000, ({ key, atMs, countUpTo }) => ({ key, atMs, count: countUpTo ?? 1, capped: countUpTo !== undefined }));
    expect(check("velocity.clis-per-trunk")).toMatchObject({
      result: "fail",
      detail: "more than 1000 distinct caller IDs on this ingress trunk within 300 s (limit 1000)",
      evidence: { subject: "intl-9", count: 1_001, countCapped: true, threshold: 1_000 },
    });
  });

  it("judges nothing on a count capped below the current limit (the limit was raised since)", async () => {
    const { check } = await trackerAnswering(1_000, ({ key, atMs }) => ({ key, atMs, count: 11, capped: true }));
    expect(check("velocity.clis-per-trunk")).toMatchObject({ result: "skip", detail: "no count against the current limit yet" });
  });
});
