import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { recordVerdictStats } from "../../../src/stats/record";
import { fail } from "../../../src/verdict/check";
import { meteredD1 } from "../support/d1";
import { emptyRetainedTables, seedBlockedHour, statsAt } from "./support";

/**
 * Issue 22 item 8: `GET /v1/stats` aggregates in SQL and reads only the rows of its range and
 * dimensions, so answering the top N blocked CLIs does not grow with the table; and issue 19: a
 * statistics counter costs one row written.
 */
beforeEach(emptyRetainedTables);

const NOW = Date.parse("2026-12-01T00:17:00Z");

describe("GET /v1/stats: the top blocked CLIs in SQL", () => {
  it("reads the rows of its range and no other, and answers N rows, however large the table", async () => {
    await seedBlockedHour("2026-11-30T12", "7701", 100);
    const rowsReadFor = async () => {
      const { db, rowsRead } = meteredD1();
      const stats = await statsAt(NOW, "from=2026-11-30T00:00:00Z&to=2026-11-30T23:00:00Z&top=3", db);
      expect(stats.topBlockedClis).toEqual([
        { cli: "77010000099", count: 100 },
        { cli: "77010000098", count: 99 },
        { cli: "77010000097", count: 98 },
      ]);
      expect(stats.total).toBe(5_050);
      return rowsRead();
    };
    const alone = await rowsReadFor();

    for (let hour = 0; hour < 20; hour++) await seedBlockedHour(`2026-11-20T${String(hour).padStart(2, "0")}`, `7727${hour}`, 2_000);
    expect(await env.DB.prepare("SELECT COUNT(*) AS entries FROM stats_pages, json_each(stats_pages.counts)").first("entries")).toBeGreaterThan(40_000);
    // The 40 000 counts outside the range are never read; the rows inside are read a few times each (scan, group, sort).
    expect(await rowsReadFor()).toBe(alone);
    expect(alone).toBeLessThan(1_000);
  });
});

describe("statistics counters: one row each (migrations/0009)", () => {
  it("keeps the statistics' key in the order the queries read it: dimension, then hour", async () => {
    const table = await env.DB.prepare("SELECT sql FROM sqlite_master WHERE name = 'stats_counters'").first<string>("sql");
    expect(table).toMatch(/PRIMARY KEY \(dimension, hour, key\)\s*\) WITHOUT ROWID/);
  });

  it("writes one row for a new counter and one for a counter it adds to: no second copy of the key (issue 19)", async () => {
    const { db, rowsWritten } = meteredD1();
    const flushes: Promise<unknown>[] = [];
    const record = async () => {
      const entry = { action: "tag" as const, decidedBy: "origin.type", checks: [fail("origin.type", "a VoIP number")], ingress: { carrier: "kt", carrierName: "Kazakhtelecom" }, cli: "77501234567", atMs: NOW };
      recordVerdictStats(entry, { db, waitUntil: (promise) => void flushes.push(promise), timeoutMs: 5_000 });
      await Promise.all(flushes.splice(0));
    };
    await record(); // total, action, carrier, decided-by, check: five new counters
    expect(rowsWritten()).toBe(5);
    await record();
    expect(rowsWritten()).toBe(10);
  });
});
