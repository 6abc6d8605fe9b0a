import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import worker from "../../../src/index";
import { MAX_TOP_BLOCKED_CLIS } from "../../../src/stats/read";
import { applyRetention, MERGED_PAGE_KEYS, RETENTION_CRON } from "../../../src/stats/retention";
import wranglerToml from "../../../wrangler.toml?raw";
import { d1WithBatch, sqlOf } from "../support/d1";
import { emptyRetainedTables, entriesOf, pagesOf, rowsIn, seedBlockedHour, statsAt } from "./support";

/**
 * Issue 22 item 8: traceback statistics stay small (hours roll up into days after
 * STATS_HOURLY_RETENTION_DAYS); the audit log and fraud reports are pruned only when a retention is
 * set. The retention runs from the Worker's Cron Trigger.
 */
beforeEach(async () => {
  vi.spyOn(console, "log").mockImplementation(() => {});
  await emptyRetainedTables();
});
afterEach(() => vi.restoreAllMocks());

const NOW = Date.parse("2026-12-01T00:17:00Z");
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** The Worker's scheduled handler, as the Cron Trigger calls it, with `vars` over the test bindings. */
async function runCron(vars: Record<string, string> = {}, cron = RETENTION_CRON, scheduledTime = NOW) {
  await worker.scheduled(createScheduledController({ cron, scheduledTime }), { ...env, ...vars });
}

const statsFor = (query: string) => statsAt(NOW, query);

describe("retention: hourly statistics roll up into days after STATS_HOURLY_RETENTION_DAYS", () => {
  const OLD_DAY = "2026-10-20"; // more than 31 days before NOW
  const seedOldDay = async () => {
    await seedBlockedHour(`${OLD_DAY}T05`, "7727", 1_000);
    await seedBlockedHour(`${OLD_DAY}T17`, "7727", 1_000);
  };

  it(`keeps every count, and the day's ${MAX_TOP_BLOCKED_CLIS} most blocked CLIs, in one row per key and day`, async () => {
    await seedOldDay();
    const before = await statsFor(`from=${OLD_DAY}T00:00:00Z&to=${OLD_DAY}T23:00:00Z&top=2`);
    await runCron();

    expect(await env.DB.prepare("SELECT COUNT(*) AS rows FROM stats_pages WHERE hour LIKE ?").bind(`${OLD_DAY}%`).first("rows")).toBe(0);
    const daily = await env.DB.prepare("SELECT dimension, COUNT(*) AS rows, SUM(count) AS count FROM stats_daily WHERE day = ? GROUP BY dimension ORDER BY dimension").bind(OLD_DAY).all();
    expect(daily.results).toEqual([
      { dimension: "action", rows: 1, count: 1_001_000 },
      { dimension: "blocked-cli", rows: MAX_TOP_BLOCKED_CLIS, count: 2 * (1_000 * 1_001 - 500 * 501) / 2 },
      { dimension: "carrier", rows: 1, count: 1_001_000 },
      { dimension: "carrier-spoofed", rows: 1, count: 1_001_000 },
      { dimension: "check", rows: 1, count: 1_001_000 },
      { dimension: "total", rows: 1, count: 1_001_000 },
    ]);

    // Any range reaching the day counts it whole, and says so.
    const after = await statsFor(`from=${OLD_DAY}T10:00:00Z&to=${OLD_DAY}T11:00:00Z&top=2`);
    expect(after).toMatchObject({ from: `${OLD_DAY}T00:00:00Z`, to: `${OLD_DAY}T23:59:59Z`, total: before.total, byAction: before.byAction, topBlockedClis: before.topBlockedClis });
    expect(after.byHour).toEqual([{ hour: `${OLD_DAY}T00`, hours: 24, calls: 1_001_000, byAction: { block: 1_001_000 }, byMonitoredAction: {} }]);
  });

  it("keeps every rule's hits, enforced and monitored, whole: their keys are bounded by the rules table", async () => {
    const rules = MAX_TOP_BLOCKED_CLIS + 100;
    // One page per hour and dimension, each counting every rule once.
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?2 - 1)
       INSERT INTO stats_pages (hour, page, counts)
         SELECT hour, 'seed-' || dimension, json_object(dimension, json_group_object('rule-' || i, 1)) FROM n,
           (SELECT 'rule' AS dimension UNION ALL SELECT 'rule-monitored'), (SELECT ?1 || 'T05' AS hour UNION ALL SELECT ?1 || 'T17')
         WHERE true GROUP BY hour, dimension`,
    )
      .bind(OLD_DAY, rules)
      .run();
    await runCron();
    const daily = await env.DB.prepare("SELECT dimension, COUNT(*) AS rows, SUM(count) AS count FROM stats_daily WHERE day = ? GROUP BY dimension ORDER BY dimension").bind(OLD_DAY).all();
    expect(daily.results).toEqual([
      { dimension: "rule", rows: rules, count: 2 * rules },
      { dimension: "rule-monitored", rows: rules, count: 2 * rules },
    ]);
    expect(await env.DB.prepare("SELECT COUNT(*) AS rows FROM stats_pages WHERE hour LIKE ?").bind(`${OLD_DAY}%`).first("rows")).toBe(0);
  });

  it("leaves the hours within the retention as they are", async () => {
    await seedBlockedHour("2026-11-15T08", "7727", 10);
    await runCron({ STATS_HOURLY_RETENTION_DAYS: "31" });
    expect(await rowsIn("stats_daily")).toBe(0);
    await runCron({ STATS_HOURLY_RETENTION_DAYS: "7" });
    expect(await env.DB.prepare("SELECT COUNT(*) AS rows FROM stats_pages WHERE hour LIKE '2026-11-15%'").first("rows")).toBe(0);
    expect(await env.DB.prepare("SELECT count FROM stats_daily WHERE dimension = 'total' AND day = '2026-11-15'").first("count")).toBe(55);
  });

  it("adds hours counted after their day was rolled up to that day", async () => {
    await seedOldDay();
    await runCron();
    await seedBlockedHour(`${OLD_DAY}T23`, "7727", 2); // an isolate's flush that arrived late
    await runCron();
    expect(await env.DB.prepare("SELECT count FROM stats_daily WHERE dimension = 'total' AND day = ?").bind(OLD_DAY).first("count")).toBe(1_001_000 + 3);
    expect(await env.DB.prepare("SELECT count FROM stats_daily WHERE dimension = 'blocked-cli' AND day = ? AND key = '77270000001'").bind(OLD_DAY).first("count")).toBe(2);
  });
});

describe("retention: a past hour's pages are merged", () => {
  const PAST = "2026-11-30T12";
  const CURRENT = "2026-12-01T00";
  const KEYS = 2 * MERGED_PAGE_KEYS + 1;

  it(`into one page per ${MERGED_PAGE_KEYS} counters, summing a counter's counts across pages, with the same answers; the current hour is left as it is`, async () => {
    await seedBlockedHour(PAST, "7701", KEYS);
    // A later flush counted the first CLI again and a new one.
    await env.DB.prepare("INSERT INTO stats_pages (hour, page, counts) VALUES (?, 'late:1', ?)").bind(PAST, JSON.stringify({ total: { all: 6 }, "blocked-cli": { "77010000000": 5, "77019999999": 1 } })).run();
    await seedBlockedHour(CURRENT, "7702", 600);
    const flushPages = Math.ceil(KEYS / 250) + 2; // the blocked CLIs', the hour's other counters', the late one
    expect(await pagesOf(PAST)).toHaveLength(flushPages);
    const query = `from=${PAST}:00:00Z&to=${PAST}:59:59Z&top=3`;
    const before = await statsAt(NOW, query);
    const currentPages = await pagesOf(CURRENT);

    await runCron({});

    const merged = await pagesOf(PAST);
    expect(merged).toHaveLength(Math.ceil((KEYS + 1 + 5) / MERGED_PAGE_KEYS)); // the blocked CLIs and 5 other counters
    expect(merged.every((page) => page.startsWith("merged:"))).toBe(true);
    const sum = (KEYS * (KEYS + 1)) / 2 + 6;
    expect(await entriesOf(PAST)).toEqual({ keys: KEYS + 1, distinctKeys: KEYS + 1, count: sum });
    expect(await statsAt(NOW, query)).toEqual(before);
    expect(await env.DB.prepare(`SELECT value FROM stats_pages, json_each(stats_pages.counts, '$."blocked-cli"') WHERE hour = ? AND key = '77010000000'`).bind(PAST).first("value")).toBe(1 + 5);
    expect(await entriesOf(PAST, "total")).toEqual({ keys: 1, distinctKeys: 1, count: (KEYS * (KEYS + 1)) / 2 + 6 });
    expect(await pagesOf(CURRENT)).toEqual(currentPages);
  });

  it("merges a page that lands after the merge into the hour's merged pages on the next run, and leaves merged pages alone", async () => {
    await seedBlockedHour(PAST, "7701", KEYS);
    await runCron({});
    const merged = await pagesOf(PAST);
    expect(merged).toHaveLength(Math.ceil((KEYS + 5) / MERGED_PAGE_KEYS));
    await runCron({}, RETENTION_CRON, NOW + HOUR_MS);
    expect(await pagesOf(PAST)).toEqual(merged);

    await env.DB.prepare("INSERT INTO stats_pages (hour, page, counts) VALUES (?, 'late:2', ?)").bind(PAST, JSON.stringify({ "blocked-cli": { "77010000699": 3 } })).run();
    await runCron({}, RETENTION_CRON, NOW + 2 * HOUR_MS);
    expect(await pagesOf(PAST)).toHaveLength(merged.length);
    expect(await entriesOf(PAST)).toEqual({ keys: KEYS, distinctKeys: KEYS, count: (KEYS * (KEYS + 1)) / 2 + 3 });
  });
});

describe("retention: the audit log and fraud reports", () => {
  const seedEvidence = () =>
    env.DB.batch([
      env.DB.prepare(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60)
         INSERT INTO audit_log (at, actor, entity, entity_id, operation, before, after) SELECT ?1 - i * ?2, 'admin', 'rule', 'rule-' || i, 'create', NULL, '{}' FROM n`,
      ).bind(NOW, DAY_MS),
      env.DB.prepare(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60)
         INSERT INTO fraud_reports (id, victim, presented_cli, call_time, channel, notes, reporter, created_at)
         SELECT 'report-' || i, '77012345678', '77272501234', ?1 - i * ?2, 'call-centre', NULL, 'analyst', ?1 - i * ?2 FROM n`,
      ).bind(NOW, DAY_MS),
    ]);
  const ages = async (table: string, column: string) =>
    (await env.DB.prepare(`SELECT (?1 - ${column}) / ?2 AS days FROM ${table} ORDER BY ${column} DESC`).bind(NOW, DAY_MS).all<{ days: number }>()).results.map(({ days }) => days);

  it("are kept whole when no retention is set", async () => {
    await seedEvidence();
    await runCron();
    expect(await rowsIn("audit_log")).toBe(60);
    expect(await rowsIn("fraud_reports")).toBe(60);
  });

  it("lose what is older than AUDIT_RETENTION_DAYS and REPORTS_RETENTION_DAYS, and nothing newer", async () => {
    await seedEvidence();
    await runCron({ AUDIT_RETENTION_DAYS: "30", REPORTS_RETENTION_DAYS: "45" });
    expect(await ages("audit_log", "at")).toEqual(Array.from({ length: 30 }, (_, index) => index + 1));
    expect(await ages("fraud_reports", "created_at")).toEqual(Array.from({ length: 45 }, (_, index) => index + 1));
  });

  it("refuses a retention that is no whole number of days, naming the variable", async () => {
    await expect(runCron({ AUDIT_RETENTION_DAYS: "forever" })).rejects.toThrow("AUDIT_RETENTION_DAYS must be an integer from 1 to 36500, got 'forever'");
  });
});

describe("retention when one of its steps fails", () => {
  it("still prunes the audit log and the reports when the statistics roll-up fails, then fails the run naming the step", async () => {
    await env.DB.batch([
      env.DB.prepare(`INSERT INTO stats_pages (hour, page, counts) VALUES ('2026-09-01T05', 'isolate:1', '{"total":{"all":1}}')`),
      env.DB.prepare(`INSERT INTO audit_log (at, actor, entity, entity_id, operation, before, after) VALUES (?1, 'admin', 'rule', 'rule-old', 'create', NULL, '{}')`).bind(NOW - 40 * DAY_MS),
      env.DB.prepare(
        `INSERT INTO fraud_reports (id, victim, presented_cli, call_time, channel, notes, reporter, created_at)
         VALUES ('report-old', '77012345678', '77272501234', ?1, 'call-centre', NULL, 'analyst', ?1)`,
      ).bind(NOW - 40 * DAY_MS),
    ]);
    const db = d1WithBatch(async (statements, real) => {
      if (statements.some((statement) => /DELETE FROM stats_pages WHERE hour BETWEEN/.test(sqlOf(statement)))) throw new Error("D1_ERROR: roll-up refused");
      return real(statements);
    });
    await expect(applyRetention(db, { statsHourlyDays: 31, auditDays: 30, reportsDays: 30 }, NOW)).rejects.toThrow(
      "retention: the statistics roll-up failed (Error: D1_ERROR: roll-up refused); done: 0 days rolled up, 0 hours merged, 1 audit rows and 1 reports pruned",
    );
    expect([await rowsIn("audit_log"), await rowsIn("fraud_reports")]).toEqual([0, 0]);
    expect(await pagesOf("2026-09-01T05")).toEqual(["isolate:1"]);
  });
});

describe("retention over a long history", () => {
  it("catches up over the following runs, a bounded share each: 31 days rolled up, 48 hours merged, 20 000 audit rows pruned, oldest first", { timeout: 60_000 }, async () => {
    await env.DB.batch([
      // 40 days before the hourly retention, a page each; 50 hours within it, two isolates' pages each.
      env.DB.prepare(
        `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 39)
         INSERT INTO stats_pages (hour, page, counts) SELECT date('2026-09-01', '+' || i || ' days') || 'T05', 'isolate:1', '{"total":{"all":1}}' FROM n`,
      ),
      env.DB.prepare(
        `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 49), isolates(page) AS (VALUES ('isolate:1'), ('isolate:2'))
         INSERT INTO stats_pages (hour, page, counts) SELECT strftime('%Y-%m-%dT%H', '2026-11-25', '+' || i || ' hours'), page, '{"total":{"all":1}}' FROM n, isolates`,
      ),
      // The first hour of the first day kept hourly (31 days before NOW's day): it stays an hour.
      env.DB.prepare(`INSERT INTO stats_pages (hour, page, counts) VALUES ('2026-10-31T00', 'isolate:1', '{"total":{"all":1}}')`),
      env.DB.prepare(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 25000)
         INSERT INTO audit_log (at, actor, entity, entity_id, operation, before, after) SELECT ?1 - 40 * ?2 - i, 'admin', 'rule', 'rule-' || i, 'create', NULL, '{}' FROM n`,
      ).bind(NOW, DAY_MS),
      env.DB.prepare(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1500)
         INSERT INTO fraud_reports (id, victim, presented_cli, call_time, channel, notes, reporter, created_at)
         SELECT 'report-' || i, '77012345678', '77272501234', ?1 - 40 * ?2, 'call-centre', NULL, 'analyst', ?1 - 40 * ?2 - i FROM n`,
      ).bind(NOW, DAY_MS),
    ]);
    const days = (from: number, count: number) => Array.from({ length: count }, (_, index) => new Date(Date.parse("2026-09-01") + (from + index) * DAY_MS).toISOString().slice(0, 10));
    const settings = { statsHourlyDays: 31, auditDays: 30, reportsDays: 30 };

    expect(await applyRetention(env.DB, settings, NOW)).toEqual({ statsDaysRolledUp: days(0, 31), statsHoursMerged: 48, auditRowsPruned: 20_000, reportsPruned: 1_500 });
    expect(await applyRetention(env.DB, settings, NOW)).toEqual({ statsDaysRolledUp: days(31, 9), statsHoursMerged: 2, auditRowsPruned: 5_000, reportsPruned: 0 });
    expect(await applyRetention(env.DB, settings, NOW)).toEqual({ statsDaysRolledUp: [], statsHoursMerged: 0, auditRowsPruned: 0, reportsPruned: 0 });
    // Every count kept: 40 days', 100 pages' and the first hourly day's calls.
    const stats = await statsFor("from=2026-09-01T00:00:00Z&to=2026-11-30T23:59:59Z");
    expect(stats.total).toBe(141);
    expect(await pagesOf("2026-10-31T00")).toEqual(["isolate:1"]);
    expect([await rowsIn("audit_log"), await rowsIn("fraud_reports")]).toEqual([0, 0]);
  });
});

describe("the retention's schedule", () => {
  it("is the Cron Trigger wrangler.toml declares", () => {
    expect(wranglerToml).toMatch(new RegExp(`^crons = \\[.*"${RETENTION_CRON.replaceAll("*", "\\*")}".*\\]$`, "m"));
  });

  it("logs one line of what each run did, for the operator who set a retention to see it kept", async () => {
    await env.DB.prepare("INSERT INTO audit_log (at, actor, entity, entity_id, operation, before, after) VALUES (?, 'admin', 'rule', 'r', 'create', NULL, '{}')").bind(NOW - 10 * DAY_MS).run();
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    await runCron({ AUDIT_RETENTION_DAYS: "1" });
    const lines = log.mock.calls.map(([line]) => JSON.parse(String(line)) as Record<string, unknown>);
    expect(lines.filter(({ event }) => event === "retention")).toEqual([{ level: "info", event: "retention", statsDaysRolledUp: [], statsHoursMerged: 0, auditRowsPruned: 1, reportsPruned: 0 }]);
  });

  it("runs on its own schedule only", async () => {
    await env.DB.prepare("INSERT INTO audit_log (at, actor, entity, entity_id, operation, before, after) VALUES (?, 'admin', 'rule', 'r', 'create', NULL, '{}')").bind(NOW - 10 * DAY_MS).run();
    await runCron({ AUDIT_RETENTION_DAYS: "1" }, "*/5 * * * *");
    expect(await rowsIn("audit_log")).toBe(1);
    await runCron({ AUDIT_RETENTION_DAYS: "1" });
    expect(await rowsIn("audit_log")).toBe(0);
  });
});
