import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { recordVerdictStats } from "../../../src/stats/record";
import { fail } from "../../../src/verdict/check";
import { meteredD1 } from "../support/d1";
import { emptyRetainedTables, entriesOf, seedBlockedHour, statsAt } from "./support";

/**
 * Issue 22 item 8: `GET /v1/stats` aggregates in SQL and reads only the rows of its range and
 * dimensions, so answering the top N blocked CLIs does not grow with the table; and issue 19: a
 * flush of statistics costs one row written per hour and 250 counters.
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
    expect(await env.DB.prepare(`SELECT COUNT(*) AS entries FROM stats_pages, json_each(stats_pages.counts, '$."blocked-cli"')`).first("entries")).toBeGreaterThan(40_000);
    // The 40 000 counts outside the range are never read; the rows inside are read a few times each (scan, group, sort).
    expect(await rowsReadFor()).toBe(alone);
    expect(alone).toBeLessThan(1_000);
  });
});

describe("statistics pages: one row per flush (migrations/0014)", () => {
  it("keeps the pages' key in the order the queries read it: hour first, without a second copy of the key", async () => {
    const table = await env.DB.prepare("SELECT sql FROM sqlite_master WHERE name = 'stats_pages'").first<string>("sql");
    expect(table).toMatch(/PRIMARY KEY \(hour, page\)\s*\) WITHOUT ROWID/);
  });

  it("writes one row for a flush's counters, new ones and ones it adds to alike (issue 19)", async () => {
    const { db, rowsWritten } = meteredD1();
    const flushes: Promise<unknown>[] = [];
    const record = async () => {
      const entry = { action: "tag" as const, policyMonitored: false, decidedBy: "origin.type", checks: [fail("origin.type", "a VoIP number")], ingress: { carrier: "kt", carrierName: "Kazakhtelecom" }, cli: "77501234567", atMs: NOW };
      recordVerdictStats(entry, { db, waitUntil: (promise) => void flushes.push(promise), timeoutMs: 5_000 });
      await Promise.all(flushes.splice(0));
    };
    await record(); // total, action, carrier, decided-by, check: five counters, one page
    expect(rowsWritten()).toBe(1);
    await record();
    expect(rowsWritten()).toBe(2);
    expect(await entriesOf("2026-12-01T00", "total")).toEqual({ keys: 2, distinctKeys: 1, count: 2 });
  });
});
