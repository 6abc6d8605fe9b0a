import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MAX_PENDING_OBSERVATIONS, VelocityTracker, type VelocityStore } from "../../../src/abuse/velocity";
import type { Observation } from "../../../src/abuse/velocity-window";
import { createApp } from "../../../src/app";
import { keepRecentVerdict, listRecentVerdicts, MAX_BUFFERED_CHARS, MAX_BUFFERED_VERDICTS, RECENT_VERDICTS_KEPT, type RecentVerdict } from "../../../src/dashboard/recent-verdicts";
import { recordCertificateCacheLookup } from "../../../src/metrics/record";
import { MAX_PENDING_COUNTERS, recordVerdictStats, type VerdictStatsEntry } from "../../../src/stats/record";
import { Deadline } from "../../../src/verdict/deadline";
import { d1WithBatch } from "../support/d1";
import { growthDuring, scrape } from "./support";

/**
 * Issue 22 item 6: what each store keeps in memory while its store refuses writes, and what it drops
 * and counts beyond that (README "Loss bounds"). Refused writes are retried with the next flush; the
 * buffers are capped, and everything beyond a cap is counted in shaken_background_dropped_total.
 */
beforeEach(() => void vi.spyOn(console, "error").mockImplementation(() => {}));
afterEach(() => vi.restoreAllMocks());

/** env.DB whose writes fail as a D1 outage does, while `refusing` is set; reads answer. */
function refusingDb() {
  const state = { refusing: true };
  const db = d1WithBatch((statements, real) => (state.refusing ? Promise.reject(new Error("D1_ERROR: Network connection lost.")) : real(statements)));
  return { db, state };
}

/** Background work handed to waitUntil, awaited by `settle` (what a request's execution context does). */
function backgroundWork() {
  const started: Promise<unknown>[] = [];
  return {
    waitUntil: (promise: Promise<unknown>) => void started.push(promise),
    timeoutMs: 5_000,
    settle: async () => {
      while (started.length > 0) await Promise.all(started.splice(0));
    },
  };
}

const DROPPED = (task: string) => `shaken_background_dropped_total{task="${task}"}`;

describe("traceback statistics while D1 refuses writes", () => {
  it(`hold at most ${MAX_PENDING_COUNTERS} distinct counters, count each increment that finds no room, and write the rest once D1 answers`, async () => {
    const { db, state } = refusingDb();
    const background = backgroundWork();
    const atMs = Date.parse("2026-11-27T09:30:00Z");
    const blocked = (cli: string): VerdictStatsEntry => ({ action: "block", policyMonitored: false, decidedBy: null, checks: [], ingress: { carrier: "FloodCo", carrierName: "FloodCo" }, cli, atMs });
    const clis = Array.from({ length: MAX_PENDING_COUNTERS + 5 }, (_, index) => `7727${String(index).padStart(7, "0")}`);

    const growth = await growthDuring(async () => {
      // Three shared counters (total, action, carrier) and one per blocked CLI: the last 8 CLIs find no room.
      for (const cli of clis) recordVerdictStats(blocked(cli), { db, ...background });
      await background.settle();
      state.refusing = false;
      recordVerdictStats(blocked(clis[0]!), { db, ...background });
      await background.settle();
    });

    expect(growth(DROPPED("write-behind:stats"))).toBe(8);
    // The counters are the entries of pages (migrations/0014).
    const counters = await env.DB.prepare(
      `SELECT dimension.key AS dimension, COUNT(*) AS counters, SUM(entry.value) AS calls
       FROM stats_pages, json_each(stats_pages.counts) AS dimension, json_each(dimension.value) AS entry WHERE hour = '2026-11-27T09'
       GROUP BY dimension.key ORDER BY dimension.key`,
    ).all();
    expect(counters.results).toEqual([
      { dimension: "action", counters: 1, calls: clis.length + 1 },
      { dimension: "blocked-cli", counters: MAX_PENDING_COUNTERS - 3, calls: MAX_PENDING_COUNTERS - 3 + 1 },
      { dimension: "carrier", counters: 1, calls: clis.length + 1 },
      { dimension: "total", counters: 1, calls: clis.length + 1 },
    ]);
  });
});

describe("traceback statistics D1 refused, finding the counters full when they go back", () => {
  it("count each increment of a counter that finds no room as dropped", async () => {
    const atMs = Date.parse("2026-11-27T10:30:00Z");
    const blocked = (cli: string): VerdictStatsEntry => ({ action: "block", policyMonitored: false, decidedBy: null, checks: [], ingress: { carrier: "FullCo", carrierName: "FullCo" }, cli, atMs });
    const background = backgroundWork();
    // The first write waits until the counters have filled, and is then refused.
    let refuse!: () => void;
    const db = d1WithBatch(() => new Promise<never>((_, reject) => (refuse = () => reject(new Error("D1_ERROR: Network connection lost.")))));
    const growth = await growthDuring(async () => {
      recordVerdictStats(blocked("77272509501"), { db, ...background });
      recordVerdictStats(blocked("77272509501"), { db, ...background });
      const flushed = background.settle();
      await vi.waitUntil(() => refuse !== undefined);
      // total, action and carrier again, and CLIs up to the cap: no room for 77272509501's counter when it goes back.
      for (let index = 0; index < MAX_PENDING_COUNTERS - 3; index++) recordVerdictStats(blocked(`7728${String(index).padStart(7, "0")}`), { db, ...background });
      refuse();
      await flushed;
    });
    expect(growth(DROPPED("write-behind:stats"))).toBe(2);
    // The counters kept go out once D1 answers (and leave nothing pending for the tests after).
    recordVerdictStats({ ...blocked("77272509501"), cli: null }, { db: env.DB, ...background });
    await background.settle();
    expect(await env.DB.prepare("SELECT SUM(json_extract(counts, '$.total.all')) AS calls FROM stats_pages WHERE hour = '2026-11-27T10'").first("calls")).toBe(MAX_PENDING_COUNTERS - 3 + 3);
  });
});

describe("recent verdicts while D1 refuses writes", () => {
  it(`keep the newest ${MAX_BUFFERED_VERDICTS}, count the older ones as dropped, and write them once D1 answers`, async () => {
    const { db, state } = refusingDb();
    const background = backgroundWork();
    const verdict = (index: number): RecentVerdict => ({ requestId: `loss-${index}`, atMs: 1_800_000_000_000 + index, cli: "77272509200", destination: "77012345678", action: "allow", verstat: "No-TN-Validation", signed: false, attest: null, decidedBy: null, carrier: "Kazakhtelecom", elapsedMs: 1, checks: [] });

    const growth = await growthDuring(async () => {
      for (let index = 1; index <= MAX_BUFFERED_VERDICTS + 7; index++) keepRecentVerdict(verdict(index), { db, ...background });
      await background.settle();
      state.refusing = false;
      keepRecentVerdict(verdict(MAX_BUFFERED_VERDICTS + 8), { db, ...background });
      await background.settle();
    });

    expect(growth(DROPPED("write-behind:recent-verdicts"))).toBe(8);
    const kept = (await listRecentVerdicts(env.DB, { limit: RECENT_VERDICTS_KEPT })).verdicts.filter(({ requestId }) => requestId.startsWith("loss-"));
    expect({ verdicts: kept.length, oldest: kept.at(-1)?.at }).toEqual({ verdicts: MAX_BUFFERED_VERDICTS, oldest: new Date(1_800_000_000_000 + 9).toISOString() });
  });
});

describe("recent verdicts the calling peer made large, while D1 refuses writes", () => {
  // Eight Identity headers of 4 KiB, each naming a PASSporT type of its own text, make a verdict's checks
  // some 40 KB where a call's are 2–3 KB: 2 000 of them held 80 MB of an isolate's 128 MB.
  it(`keep at most ${MAX_BUFFERED_CHARS} characters of them, the newest, counting the older ones as dropped`, async () => {
    const { db, state } = refusingDb();
    const background = backgroundWork();
    const detail = "PASSporT type 'x' is not supported (shaken, div)".replace("x", "x".repeat(40_000));
    const verdict = (index: number): RecentVerdict => ({
      requestId: `large-${index}`, atMs: 1_800_000_000_000 + index, cli: "77272509200", destination: "77012345678", action: "tag", verstat: "No-TN-Validation", signed: true, attest: null,
      decidedBy: "identity.ppt", carrier: "Kazakhtelecom", elapsedMs: 1, checks: [{ id: "identity.ppt", result: "fail", detail }],
    });
    const sent = 2 * Math.ceil(MAX_BUFFERED_CHARS / detail.length);

    const growth = await growthDuring(async () => {
      for (let index = 1; index <= sent; index++) keepRecentVerdict(verdict(index), { db, ...background });
      await background.settle();
      state.refusing = false;
      keepRecentVerdict(verdict(sent + 1), { db, ...background });
      await background.settle();
    });

    const kept = (await listRecentVerdicts(env.DB, { limit: RECENT_VERDICTS_KEPT })).verdicts.filter(({ requestId }) => requestId.startsWith("large-"));
    const keptChars = kept.reduce((sum, { checks }) => sum + JSON.stringify(checks).length, 0);
    expect(keptChars).toBeLessThanOrEqual(MAX_BUFFERED_CHARS + detail.length);
    expect(growth(DROPPED("write-behind:recent-verdicts"))).toBe(sent + 1 - kept.length);
    expect(kept[0]!.requestId).toBe(`large-${sent + 1}`);
  });
});

describe("a D1 write that never returns", () => {
  /** env.DB whose writes never settle while `hanging` is set. */
  function hangingDb() {
    const state = { hanging: true };
    const db = d1WithBatch((statements, real) => (state.hanging ? new Promise<never>(() => {}) : real(statements)));
    return { db, state };
  }
  /** Background work as backgroundWork(), with a short BACKGROUND_TIMEOUT_MS. */
  const shortBound = () => ({ ...backgroundWork(), timeoutMs: 50 });

  it("statistics: each increment of its counters is counted as dropped, and none is written again once D1 answers (it may have landed)", async () => {
    const { db, state } = hangingDb();
    const background = shortBound();
    const entry = (cli: string): VerdictStatsEntry => ({ action: "block", policyMonitored: false, decidedBy: null, checks: [], ingress: { carrier: "HangCo", carrierName: "HangCo" }, cli, atMs: Date.parse("2026-11-27T11:30:00Z") });
    const growth = await growthDuring(async () => {
      // total, action, carrier and the blocked CLI: four counters, of two increments each.
      recordVerdictStats(entry("77272509401"), { db, ...background });
      recordVerdictStats(entry("77272509401"), { db, ...background });
      await background.settle();
      state.hanging = false;
      recordVerdictStats(entry("77272509402"), { db, ...background });
      await background.settle();
    });
    // The README's loss bounds count increments: the two verdicts' counts lost, not the four counters holding them.
    expect(growth(DROPPED("write-behind:stats"))).toBe(8);
    expect(growth('shaken_background_timeouts_total{task="write-behind:stats"}')).toBe(1);
    const total = await env.DB.prepare("SELECT SUM(json_extract(counts, '$.total.all')) AS calls FROM stats_pages WHERE hour = '2026-11-27T11'").first("calls");
    expect(total).toBe(1);
  });

  it("recent verdicts: each of its verdicts is counted as dropped, and none is listed twice once D1 answers (it may have landed)", async () => {
    const { db, state } = hangingDb();
    const background = shortBound();
    const verdict = (index: number): RecentVerdict => ({ requestId: `hang-${index}`, atMs: 1_800_000_000_000 + index, cli: "77272509400", destination: "77012345678", action: "allow", verstat: "No-TN-Validation", signed: false, attest: null, decidedBy: null, carrier: "HangCo", elapsedMs: 1, checks: [] });
    const growth = await growthDuring(async () => {
      for (let index = 1; index <= 3; index++) keepRecentVerdict(verdict(index), { db, ...background });
      await background.settle();
      state.hanging = false;
      keepRecentVerdict(verdict(4), { db, ...background });
      await background.settle();
    });
    expect(growth(DROPPED("write-behind:recent-verdicts"))).toBe(3);
    const kept = (await listRecentVerdicts(env.DB, { number: "77272509400", limit: 10 })).verdicts.map(({ requestId }) => requestId);
    expect(kept).toEqual(["hang-4"]);
  });
});

describe("velocity observations while the counters refuse them", () => {
  const limit = { threshold: 1_000, windowMs: 60_000, action: "tag" as const };

  /** A counter store that refuses while `refusing` is set and otherwise keeps every observation it is sent. */
  function refusingCounters() {
    const state = { refusing: true };
    const received: Observation[] = [];
    const store: VelocityStore = {
      observe: async (_shard, observations) => {
        if (state.refusing) throw new Error("Durable Object overloaded");
        received.push(...observations);
        return observations.map(({ key, atMs }) => ({ key, atMs, count: 1, capped: false }));
      },
    };
    return { state, received, tracker: new VelocityTracker(store, { "calls-per-cli": limit }, 5_000) };
  }

  const call = (index: number) => ({ cli: `7701${String(index).padStart(7, "0")}`, destination: null, trunk: null });

  it("are sent again with the next batch: a refused batch loses nothing", async () => {
    const { state, received, tracker } = refusingCounters();
    const background = backgroundWork();
    const deadline = new Deadline(10_000, background.waitUntil);
    tracker.assess(call(1), 1_000, deadline, background.waitUntil);
    await background.settle();
    state.refusing = false;
    tracker.assess(call(2), 2_000, deadline, background.waitUntil);
    await background.settle();
    expect(received.map(({ atMs }) => atMs)).toEqual([1_000, 2_000]);
  });

  it(`hold at most the newest ${MAX_PENDING_OBSERVATIONS}, counting the older ones as dropped`, async () => {
    const { state, received, tracker } = refusingCounters();
    const background = backgroundWork();
    const deadline = new Deadline(10_000, background.waitUntil);
    const growth = await growthDuring(async () => {
      for (let index = 1; index <= MAX_PENDING_OBSERVATIONS + 3; index++) tracker.assess(call(index), index, deadline, background.waitUntil);
      await background.settle();
      state.refusing = false;
      tracker.assess(call(MAX_PENDING_OBSERVATIONS + 4), MAX_PENDING_OBSERVATIONS + 4, deadline, background.waitUntil);
      await background.settle();
    });
    expect(growth(DROPPED("velocity-flush"))).toBe(4);
    expect(received).toHaveLength(MAX_PENDING_OBSERVATIONS);
    expect(received.reduce((oldest, { atMs }) => Math.min(oldest, atMs), Infinity)).toBe(5);
  });
});

describe("metrics while D1 refuses writes", () => {
  it("keep every increment in the isolate (one entry per series, however long) and write it with the next flush", async () => {
    const HITS = "shaken_certificate_cache_hits_total";
    const app = createApp();
    const before = (await scrape(app)).get(HITS) ?? 0;
    recordCertificateCacheLookup(true);
    expect((await scrape(app, { ...env, DB: refusingDb().db })).get(HITS) ?? 0).toBe(before);
    expect((await scrape(app)).get(HITS)).toBe(before + 1);
  });
});
