import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { COUNTERS_PER_BATCH, recordVerdictStats, type VerdictStatsEntry } from "../../../src/stats/record";
import migration0014 from "../../../migrations/0014_stats_pages.sql?raw";
import { meteredD1 } from "../support/d1";
import { emptyRetainedTables, entriesOf, pagesOf, statsAt } from "./support";

/**
 * Issue 19 (rows written per verdict on mixed traffic): the blocked CLIs, whose keys are not a small
 * fixed set, are written as pages of many keys per row (migrations/0014), and read, merged and rolled up
 * with the same meaning the row per (hour, CLI) had.
 */
beforeEach(emptyRetainedTables);

const NOW = Date.parse("2026-12-01T00:17:00Z");
const HOUR_MS = 3_600_000;

const blocked = (cli: string, atMs: number): VerdictStatsEntry => ({ action: "block", policyMonitored: false, decidedBy: null, checks: [], ingress: { carrier: "TransitCo", carrierName: "TransitCo" }, cli, atMs });

/** Records `entries` as one isolate does between two flushes, and waits for the flush. */
async function recordFlush(entries: VerdictStatsEntry[], db: D1Database = env.DB) {
  const flushes: Promise<unknown>[] = [];
  for (const entry of entries) recordVerdictStats(entry, { db, waitUntil: (promise) => void flushes.push(promise), timeoutMs: 5_000 });
  while (flushes.length > 0) await Promise.all(flushes.splice(0));
}

describe("statistics: a flush writes pages of counters, not a row per blocked CLI", () => {
  it(`writes N distinct blocked CLIs of an hour and its other counters in (N + 3) / ${COUNTERS_PER_BATCH} rows`, async () => {
    const clis = Array.from({ length: 1_000 }, (_, index) => `7727${String(index).padStart(7, "0")}`);
    const { db, rowsWritten } = meteredD1();
    await recordFlush(clis.map((cli) => blocked(cli, NOW)), db);
    // The 1 003 counters (total, action, carrier and the CLIs) go out in batches of COUNTERS_PER_BATCH, each one page.
    expect(rowsWritten()).toBe(Math.ceil((clis.length + 3) / COUNTERS_PER_BATCH));
    expect(await entriesOf("2026-12-01T00")).toEqual({ keys: clis.length, distinctKeys: clis.length, count: clis.length });
  });

  it("answers the top blocked CLIs of a range by summing each CLI over the pages of every flush and hour", async () => {
    const [first, second, third] = ["77272500001", "77272500002", "77272500003"];
    await recordFlush([blocked(first!, NOW - HOUR_MS), blocked(second!, NOW - HOUR_MS)]);
    await recordFlush([blocked(first!, NOW - HOUR_MS), blocked(third!, NOW)]);
    await recordFlush([blocked(first!, NOW), blocked(third!, NOW), blocked(third!, NOW)]);
    expect(await pagesOf("2026-11-30T23")).toHaveLength(2);

    const lastHour = await statsAt(NOW, "from=2026-11-30T23:00:00Z&to=2026-11-30T23:59:59Z&top=5");
    expect(lastHour.topBlockedClis).toEqual([
      { cli: first, count: 2 },
      { cli: second, count: 1 },
    ]);
    const bothHours = await statsAt(NOW, "from=2026-11-30T23:00:00Z&to=2026-12-01T00:59:59Z&top=2");
    expect(bothHours.topBlockedClis).toEqual([
      { cli: first, count: 3 },
      { cli: third, count: 3 },
    ]);
    expect(bothHours.total).toBe(7);
  });
});

describe("statistics: what a verdict counts in its hour", () => {
  /** Every counter of `hour`'s pages, as `dimension key` → count. */
  async function countersOf(hour: string) {
    const { results } = await env.DB.prepare(
      `SELECT dimension.key AS dimension, entry.key AS key, SUM(entry.value) AS count
       FROM stats_pages, json_each(stats_pages.counts) AS dimension, json_each(dimension.value) AS entry WHERE hour = ? GROUP BY dimension.key, entry.key`,
    )
      .bind(hour)
      .all<{ dimension: string; key: string; count: number }>();
    return Object.fromEntries(results.map(({ dimension, key, count }) => [`${dimension} ${key}`, count]));
  }
  const rules = (...listed: { id: string; mode: string }[]) => ({ id: "rules.operator", result: "fail" as const, evidence: { matched: listed.length, rules: listed } });

  it("counts each verdict once in total, by action, carrier and deciding check, each failed check once, and what monitoring would have done", async () => {
    await recordFlush([
      // Spoofed: a failed origin check, blocked, so its CLI is counted; the check failed twice is counted once.
      { action: "block", policyMonitored: false, decidedBy: "cli.allocated", checks: [{ id: "cli.allocated", result: "fail" }, { id: "cli.allocated", result: "fail" }, { id: "identity.present", result: "pass" }], ingress: { carrier: "tc", carrierName: "TransitCo" }, cli: "77272500001", atMs: NOW },
      // Failed, but no spoofing check: no spoofed count. Tagged, so no blocked CLI. Monitored rules would have blocked.
      { action: "tag", policyMonitored: false, decidedBy: null, checks: [{ id: "passport.signature", result: "fail" }], ingress: { carrier: "tc", carrierName: null }, cli: "77272500002", atMs: NOW, monitored: [{ by: "r-1", action: "tag", reason: "" }, { by: "r-2", action: "block", reason: "" }] },
      // Blocked without a CLI; no carrier known; monitoring that would have allowed is nothing to count.
      { action: "block", policyMonitored: false, decidedBy: "stir.tn-validation-failed", checks: [], ingress: { carrier: null, carrierName: null }, cli: null, atMs: NOW, monitored: [{ by: "r-3", action: "allow", reason: "" }] },
    ]);
    expect(await countersOf("2026-12-01T00")).toEqual({
      "total all": 3,
      "action block": 2,
      "action tag": 1,
      "monitored block": 1,
      "carrier TransitCo": 1,
      "carrier tc": 1,
      "carrier (unknown)": 1,
      "decided-by cli.allocated": 1,
      "decided-by stir.tn-validation-failed": 1,
      "check cli.allocated": 1,
      "check passport.signature": 1,
      "carrier-spoofed TransitCo": 1,
      "blocked-cli 77272500001": 1,
    });
  });

  it("counts an operator rule's hits apart as enforced or monitored: by its own mode, by a monitored finding of it, or by POLICY_MODE=monitor", async () => {
    await recordFlush([
      { action: "block", policyMonitored: false, decidedBy: "rules.operator", checks: [rules({ id: "r-enforced", mode: "enforce" }, { id: "r-own-monitor", mode: "monitor" }, { id: "r-listed", mode: "enforce" })], monitored: [{ by: "r-listed", action: "block", reason: "" }], ingress: { carrier: "tc", carrierName: "TransitCo" }, cli: null, atMs: NOW },
      { action: "allow", policyMonitored: true, decidedBy: null, checks: [rules({ id: "r-enforced", mode: "enforce" })], ingress: { carrier: "tc", carrierName: "TransitCo" }, cli: null, atMs: NOW },
    ]);
    expect(Object.fromEntries(Object.entries(await countersOf("2026-12-01T00")).filter(([counter]) => counter.startsWith("rule")))).toEqual({
      "rule r-enforced": 1,
      "rule-monitored r-enforced": 1,
      "rule-monitored r-own-monitor": 1,
      "rule-monitored r-listed": 1,
    });
  });
});

describe("migrations/0014: the counters kept before it", () => {
  /** The migration's statements after its CREATE TABLE: what it does with the rows it finds. */
  const conversion = migration0014
    .replace(/--.*$/gm, "")
    .split(";")
    .map((statement) => statement.trim())
    .filter((statement) => statement !== "" && !statement.startsWith("CREATE TABLE"));

  it("become pages of at most 5 000 counters per hour, with the same counts, and the old table goes", async () => {
    // stats_counters as migrations/0009 left it.
    await env.DB.prepare(
      "CREATE TABLE stats_counters (dimension TEXT NOT NULL, hour TEXT NOT NULL, key TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (dimension, hour, key)) WITHOUT ROWID",
    ).run();
    await env.DB.batch([
      env.DB.prepare(
        `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 5999)
         INSERT INTO stats_counters (dimension, hour, key, count) SELECT 'blocked-cli', '2026-11-30T12', '7701' || printf('%07d', i), i + 1 FROM n`,
      ),
      env.DB.prepare("INSERT INTO stats_counters (dimension, hour, key, count) VALUES ('blocked-cli', '2026-11-30T13', '77020000000', 4), ('total', '2026-11-30T13', 'all', 4), ('total', '2026-11-30T12', 'all', 18003000)"),
    ]);

    await env.DB.batch(conversion.map((statement) => env.DB.prepare(statement)));

    expect(await pagesOf("2026-11-30T12")).toEqual(["merged:0014:0", "merged:0014:1"]);
    expect(await entriesOf("2026-11-30T12")).toEqual({ keys: 6_000, distinctKeys: 6_000, count: (6_000 * 6_001) / 2 });
    expect(await env.DB.prepare("SELECT COUNT(*) AS tables FROM sqlite_master WHERE name = 'stats_counters'").first("tables")).toBe(0);
    const after = await statsAt(NOW, "from=2026-11-30T12:00:00Z&to=2026-11-30T13:59:59Z&top=3");
    expect(after.total).toBe(18_003_004);
    expect(after.byHour.map(({ hour, calls }) => ({ hour, calls }))).toEqual([
      { hour: "2026-11-30T12", calls: 18_003_000 },
      { hour: "2026-11-30T13", calls: 4 },
    ]);
    expect(after.topBlockedClis).toEqual([
      { cli: "77010005999", count: 6_000 },
      { cli: "77010005998", count: 5_999 },
      { cli: "77010005997", count: 5_998 },
    ]);
  });
});
