import { describe, expect, it, vi } from "vitest";
import { keepRecentVerdict, type RecentVerdict } from "../../../src/dashboard/recent-verdicts";
import { WRITE_BEHIND_LINGER_MS } from "../../../src/lib/write-behind";
import { recordVerdictStats, type VerdictStatsEntry } from "../../../src/stats/record";
import { d1WithBatch } from "../support/d1";
import { withFakeTimeAndQuietErrors } from "../support/fake-time";

/**
 * A flush runs in the waitUntil of the verdict that started it, and the runtime lets a waitUntil run for
 * a bounded time only: a flush keeps writing what arrives meanwhile for 10 s at most (src/lib/write-behind.ts),
 * and the next verdict starts the next. On a busy isolate a verdict arrives during every D1 write; a store
 * that drained its buffer in a loop of its own then never returned while traffic lasted, one small batch per
 * round trip, and held its flush (and the slot every later flush waits on) past any bound. Timers and the
 * clock are fake: each D1 write takes 1 s of the clock, and a verdict arrives during it.
 */
const WRITE_MS = 1_000;
/** Traffic stops after this many writes, so that a flush that never ends still ends the test. */
const BUSY_WRITES = 200;
const SPAN_MS = 10_000;

withFakeTimeAndQuietErrors();

/**
 * A D1 whose every write takes WRITE_MS and meets a verdict arriving meanwhile (`arrive`), for BUSY_WRITES
 * writes. Answers: when each write began, and which flush (by the order flushes were handed to waitUntil) was running.
 */
function busyIsolate(arrive: (background: { db: D1Database; waitUntil: (flush: Promise<unknown>) => void; timeoutMs: number }) => void) {
  const flushes: Promise<unknown>[] = [];
  const ended: boolean[] = [];
  const writes: { atMs: number; flush: number }[] = [];
  const db = d1WithBatch(async (statements) => {
    writes.push({ atMs: Date.now(), flush: flushes.length - 1 });
    if (writes.length < BUSY_WRITES) arrive(background);
    vi.setSystemTime(Date.now() + WRITE_MS);
    return statements.map(() => ({ success: true, results: [], meta: { rows_read: 1, rows_written: 1 } }) as unknown as D1Result);
  });
  const background = {
    db,
    waitUntil: (flush: Promise<unknown>) => {
      const index = flushes.push(flush) - 1;
      ended[index] = false;
      void flush.finally(() => (ended[index] = true));
    },
    timeoutMs: 5_000,
  };
  return { background, flushes, ended, writes };
}

const statsEntry = (atMs: number): VerdictStatsEntry => ({ action: "allow", policyMonitored: false, decidedBy: null, checks: [], ingress: { carrier: "BusyCo", carrierName: "BusyCo" }, cli: "77272509300", atMs });
const recentVerdict = (atMs: number): RecentVerdict => ({ requestId: `busy-${atMs}`, atMs, cli: "77272509300", destination: "77012345678", action: "allow", verstat: "No-TN-Validation", signed: false, attest: null, decidedBy: null, carrier: "BusyCo", elapsedMs: 1, checks: [] });

describe("a flush on a busy isolate, a verdict arriving during each D1 write", () => {
  for (const [store, record] of [
    ["traceback statistics", (background: Parameters<Parameters<typeof busyIsolate>[0]>[0]) => recordVerdictStats(statsEntry(Date.now()), background)],
    ["recent verdicts", (background: Parameters<Parameters<typeof busyIsolate>[0]>[0]) => keepRecentVerdict(recentVerdict(Date.now()), background)],
  ] as const) {
    it(`${store}: writes for at most 10 s, lingers between writes, and leaves what arrives after to the next verdict's flush`, async () => {
      const { background, ended, writes } = busyIsolate(record);
      const startedAtMs = Date.now();
      record(background);
      await vi.advanceTimersByTimeAsync(SPAN_MS + WRITE_BEHIND_LINGER_MS);
      expect(ended[0]).toBe(true);
      const first = writes.filter(({ flush }) => flush === 0);
      expect(Math.max(...first.map(({ atMs }) => atMs - startedAtMs))).toBeLessThan(SPAN_MS + WRITE_BEHIND_LINGER_MS);
      // A write per linger: what arrived during a write waited for the next linger's batch, and the flush wrote it.
      expect(first.length).toBeLessThanOrEqual(SPAN_MS / (WRITE_MS + WRITE_BEHIND_LINGER_MS) + 1);
      expect(first.length).toBeGreaterThan(1);

      // What arrived during the flush's last write is the next verdict's flush's to write.
      const written = writes.length;
      record(background);
      await vi.advanceTimersByTimeAsync(WRITE_BEHIND_LINGER_MS);
      expect(writes.length).toBeGreaterThan(written);
      expect(writes.at(-1)!.flush).toBe(1);
    });
  }
});
