import { hourOf, RULE_DIMENSIONS, SMALL_DIMENSIONS, sqlDimensionList, type StatsDimension, type UnboundedDimension } from "./record";

/**
 * Traceback statistics over a range of whole UTC hours, aggregated in SQL (issue 22 item 8): one batch,
 * each statement reading only the pages of the range's hours and the daily rows of its own dimensions,
 * and answering sums, not rows — the top N blocked CLIs comes back as N rows, however many CLIs were
 * blocked.
 * Hours past STATS_HOURLY_RETENTION_DAYS are rolled up into days (src/stats/retention.ts); a range that
 * reaches such a day counts the day whole, and says so in `from`/`to` and in its `byHour` entry
 * (`hours: 24`).
 */

/** The most blocked CLIs a query may list; a rolled-up day keeps as many, so one day's top N stays exact. */
export const MAX_TOP_BLOCKED_CLIS = 500;

/**
 * Every counter of `dimensions` in the pages of hours `first` to `last` (SQL parameters), as rows
 * (dimension, hour, key, count): a counter is in as many pages as flushes counted it (migrations/0014).
 */
export const pageEntriesIn = (dimensions: readonly StatsDimension[], first: string, last: string) =>
  `SELECT dimension.key AS dimension, stats_pages.hour AS hour, entry.key AS key, entry.value AS count
    FROM stats_pages, json_each(stats_pages.counts) AS dimension, json_each(dimension.value) AS entry
    WHERE stats_pages.hour BETWEEN ${first} AND ${last} AND dimension.key IN (${sqlDimensionList(dimensions)})`;

/**
 * The counters of `dimensions` in a range: the pages of its hours (?1 to ?2), and the rolled-up days it
 * reaches (?3 to ?4), each under its first hour with `hours` 24. Both tables lead their key with the
 * hour or day (migrations/0009, 0014).
 */
function countersIn(dimensions: readonly StatsDimension[]): string {
  return `SELECT dimension, hour, 1 AS hours, key, count FROM (${pageEntriesIn(dimensions, "?1", "?2")})
    UNION ALL SELECT dimension, day || 'T00', 24, key, count FROM stats_daily WHERE dimension IN (${sqlDimensionList(dimensions)}) AND day BETWEEN ?3 AND ?4`;
}

/** An unbounded dimension's ?5 most counted keys in a range (?1 to ?4 as countersIn), ties by key. */
export const topKeys = (dimension: UnboundedDimension) => `SELECT key, SUM(count) AS count FROM (${countersIn([dimension])}) GROUP BY key ORDER BY count DESC, key LIMIT ?5`;

const TOTALS_BY_KEY = `SELECT dimension, key, SUM(count) AS count FROM (${countersIn(SMALL_DIMENSIONS)}) GROUP BY dimension, key`;
const CALLS_BY_PERIOD = `SELECT hour, MAX(hours) AS hours, dimension, key, SUM(count) AS count FROM (${countersIn(["total", "action", "monitored"])})
  GROUP BY hour, dimension, key ORDER BY hour`;
const TOP_BLOCKED_CLIS = topKeys("blocked-cli");

interface KeyTotal {
  dimension: StatsDimension;
  key: string;
  count: number;
}

interface PeriodTotal extends KeyTotal {
  hour: string;
  hours: number;
}

export interface PeriodCalls {
  /** 'YYYY-MM-DDTHH': the hour, or a rolled-up day's first hour. */
  hour: string;
  /** 1, or 24 for a day past the hourly retention. */
  hours: number;
  calls: number;
  byAction: Record<string, number>;
  /** What monitored rules and policy entries would have done: verdicts by the most severe such action (the chart's "would have" series). */
  byMonitoredAction: Record<string, number>;
}

export async function readTracebackStats(db: D1Database, fromMs: number, toMs: number, top: number) {
  const fromHour = hourOf(fromMs);
  const toHour = hourOf(toMs);
  const range = [fromHour, toHour, fromHour.slice(0, 10), toHour.slice(0, 10)];
  const [totals, periods, topBlocked] = await db.batch<Record<string, unknown>>([
    db.prepare(TOTALS_BY_KEY).bind(...range),
    db.prepare(CALLS_BY_PERIOD).bind(...range),
    db.prepare(TOP_BLOCKED_CLIS).bind(...range, top),
  ]);

  const sums = (dimension: StatsDimension) => new Map((totals!.results as unknown as KeyTotal[]).filter((row) => row.dimension === dimension).map((row) => [row.key, row.count]));
  const spoofed = sums("carrier-spoofed");
  const byHour = new Map<string, PeriodCalls>();
  for (const row of periods!.results as unknown as PeriodTotal[]) {
    const period = byHour.get(row.hour) ?? { hour: row.hour, hours: row.hours, calls: 0, byAction: {}, byMonitoredAction: {} };
    if (row.dimension === "total") period.calls = row.count;
    else if (row.dimension === "monitored") period.byMonitoredAction[row.key] = row.count;
    else period.byAction[row.key] = row.count;
    period.hours = Math.max(period.hours, row.hours);
    byHour.set(row.hour, period);
  }
  const rolledUpDays = [...byHour.values()].filter((period) => period.hours === 24).map((period) => period.hour.slice(0, 10));
  const firstDay = rolledUpDays[0];
  const lastDay = rolledUpDays.at(-1);
  return {
    from: `${firstDay !== undefined && `${firstDay}T00` < fromHour ? `${firstDay}T00` : fromHour}:00:00Z`,
    to: `${lastDay !== undefined && `${lastDay}T23` > toHour ? `${lastDay}T23` : toHour}:59:59Z`,
    total: sums("total").get("all") ?? 0,
    byAction: Object.fromEntries(sums("action")),
    /** What monitored rules and policy entries would have done, not enforced: verdicts by the most severe such action. */
    byMonitoredAction: Object.fromEntries(sums("monitored")),
    byCheck: Object.fromEntries(sums("check")),
    byDecidingCheck: Object.fromEntries(sums("decided-by")),
    byCarrier: [...sums("carrier")]
      .map(([carrier, calls]) => ({ carrier, calls, spoofed: spoofed.get(carrier) ?? 0, spoofedShare: calls > 0 ? (spoofed.get(carrier) ?? 0) / calls : 0 }))
      .sort((a, b) => b.spoofedShare - a.spoofedShare || b.calls - a.calls),
    byHour: [...byHour.values()],
    topBlockedClis: (topBlocked!.results as unknown as { key: string; count: number }[]).map(({ key, count }) => ({ cli: key, count })),
  };
}

/** The rules' hits (the `rule` and `rule-monitored` dimensions) over a range, for the rule ids in the JSON array ?5. */
const RULE_HITS = `SELECT dimension, key, SUM(count) AS count FROM (${countersIn(RULE_DIMENSIONS)}) WHERE key IN (SELECT value FROM json_each(?5)) GROUP BY dimension, key`;

/** The periods the rules page shows: the current UTC hour and the 23 before it, and the 167 before it. */
export const RULE_HIT_PERIODS = { day: 24, week: 168 } as const;
export type RuleHitPeriod = keyof typeof RULE_HIT_PERIODS;

/**
 * Hits of each of `ruleIds` over the last 24 hours and the last 7 days, in whole UTC hours up to the one
 * holding `nowMs` (as `/v1/stats` counts): one statement per period, each reading the two rule
 * dimensions' counters of its range for those ids only. A day past the hourly retention counts whole.
 */
export async function readRuleHits(db: D1Database, ruleIds: readonly string[], nowMs: number) {
  const toHour = hourOf(nowMs);
  const ranges = Object.entries(RULE_HIT_PERIODS).map(([period, hours]) => {
    const fromHour = hourOf(nowMs - (hours - 1) * 3_600_000);
    return { period: period as RuleHitPeriod, fromHour, binds: [fromHour, toHour, fromHour.slice(0, 10), toHour.slice(0, 10), JSON.stringify(ruleIds)] };
  });
  const results = await db.batch<KeyTotal>(ranges.map(({ binds }) => db.prepare(RULE_HITS).bind(...binds)));
  const hits = new Map(ruleIds.map((id) => [id, { id, enforced: { day: 0, week: 0 }, monitored: { day: 0, week: 0 } }]));
  ranges.forEach(({ period }, index) => {
    for (const row of results[index]!.results) hits.get(row.key)![row.dimension === "rule" ? "enforced" : "monitored"][period] = row.count;
  });
  return {
    periods: Object.fromEntries(ranges.map(({ period, fromHour }) => [period, { from: `${fromHour}:00:00Z`, to: `${toHour}:59:59Z` }])),
    rules: [...hits.values()],
  };
}
