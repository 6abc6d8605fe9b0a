import { describe, expect, it, vi } from "vitest";
import { WRITE_BEHIND_LINGER_MS } from "../../../src/lib/write-behind";
import { recordVerdictStats, type VerdictStatsEntry } from "../../../src/stats/record";
import { d1WithBatch } from "../support/d1";
import { withFakeTimeAndQuietErrors } from "../support/fake-time";

/**
 * The statistics' write-behind against a D1 slow but inside BACKGROUND_TIMEOUT_MS: no call is abandoned,
 * so only the write's own size bounds how long a flush holds its slot (the write-behind checks its 10 s
 * span between writes). A file of its own: the statistics' writer is the isolate's, and another test's
 * flush must not hold it. Timers and the clock are fake.
 */
const SPAN_MS = 10_000;

withFakeTimeAndQuietErrors();

const statsEntry = (atMs: number, carrier: string): VerdictStatsEntry => ({ action: "allow", policyMonitored: false, decidedBy: null, checks: [], ingress: { carrier, carrierName: carrier }, cli: "77272509300", atMs });

describe("a flush against a D1 slow within the background timeout", () => {
  it("traceback statistics: a write takes at most 1 000 counters, so a flush holds its slot for its 10 s span and one write more, not for every counter waiting", async () => {
    const SLOW_WRITE_MS = 4_900; // under BACKGROUND_TIMEOUT_MS (5 000): never abandoned
    const starts: number[] = [];
    const db = d1WithBatch(async (statements) => {
      starts.push(Date.now());
      vi.setSystemTime(Date.now() + SLOW_WRITE_MS);
      return statements.map(() => ({ success: true, results: [], meta: { rows_read: 1, rows_written: 1 } }) as unknown as D1Result);
    });
    const flushes: Promise<unknown>[] = [];
    const background = { db, waitUntil: (flush: Promise<unknown>) => void flushes.push(flush), timeoutMs: 5_000 };
    const startedAtMs = Date.now();
    // 3 000 carriers, a counter each: 13 batches of 250, 64 s of this D1 if one write took them all.
    for (let index = 0; index < 3_000; index++) recordVerdictStats(statsEntry(startedAtMs, `Slow${index}`), background);
    expect(flushes).toHaveLength(1);
    let ended = false;
    void flushes[0]!.finally(() => (ended = true));
    await vi.advanceTimersByTimeAsync(WRITE_BEHIND_LINGER_MS);
    expect(ended).toBe(true);
    const lastStart = Math.max(...starts) - startedAtMs;
    expect(lastStart).toBeLessThan(SPAN_MS + 4 * SLOW_WRITE_MS);
    // What it left waits for the next verdict's flush.
    const written = starts.length;
    recordVerdictStats(statsEntry(Date.now(), "SlowCo"), background);
    await vi.advanceTimersByTimeAsync(WRITE_BEHIND_LINGER_MS);
    expect(flushes).toHaveLength(2);
    expect(starts.length).toBeGreaterThan(written);
  });
});
