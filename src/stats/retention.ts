import { pruneAuditLog } from "../admin/audit-log";
import { readRetentionSettings, type RetentionSettings } from "../config";
import { pruneReports } from "../reports/store";
import { MAX_TOP_BLOCKED_CLIS } from "./read";
import { RULE_DIMENSIONS, SMALL_DIMENSIONS, STATS_DIMENSIONS, sqlDimensionList } from "./record";

/**
 * What stored data is kept, and for how long (issue 22 item 8; README "Stores: loss bounds and retention"):
 * - traceback statistics: hourly counters older than STATS_HOURLY_RETENTION_DAYS (31 by default, so the
 *   dashboard's 30-day view stays hourly) are rolled up into days: every action, check, carrier and
 *   rule-hit count, and the day's MAX_TOP_BLOCKED_CLIS most blocked CLIs. A day of spoofing from rotating CLIs,
 *   one row per CLI while hourly, keeps at most that many rows after;
 * - the audit log and fraud reports: only when AUDIT_RETENTION_DAYS / REPORTS_RETENTION_DAYS is set.
 *   They are evidence, so by default nothing is deleted.
 *
 * It runs from a Cron Trigger (wrangler.toml `[triggers] crons`, RETENTION_CRON, hourly), not from the
 * verdict's write path: it then runs once per schedule rather than in every isolate that happens to
 * flush, needs no coordination between isolates, costs the verdicts neither CPU nor waitUntil time nor
 * rows written (issue 19), and keeps its promise on a deployment that carries no traffic, which matters
 * for a retention an operator sets for compliance. Each run does a bounded amount of work; a first run
 * over a long history catches up over the following hours.
 */
export const RETENTION_CRON = "17 * * * *";

const DAY_MS = 86_400_000;
const DAYS_ROLLED_UP_PER_RUN = 31;
const ROWS_PRUNED_PER_STATEMENT = 1_000;
const PRUNE_STATEMENTS_PER_RUN = 20;

/** The oldest hour before ?1 of one dimension: one step down its key (migrations/0009). */
const OLDEST_HOUR_BEFORE = "SELECT MIN(hour) AS hour FROM stats_counters WHERE dimension = ?1 AND hour < ?2";
/**
 * Day ?1, from its hours ?2 to ?3: added to what the day holds (hours counted late are rolled up by a
 * later run). A rule's hits are kept whole: their keys are bounded by the rules table, not by callers.
 */
const ROLL_UP_SMALL_DIMENSIONS = `INSERT INTO stats_daily (dimension, day, key, count)
  SELECT dimension, ?1, key, SUM(count) FROM stats_counters WHERE dimension IN (${sqlDimensionList([...SMALL_DIMENSIONS, ...RULE_DIMENSIONS])}) AND hour BETWEEN ?2 AND ?3 GROUP BY dimension, key
  ON CONFLICT (dimension, day, key) DO UPDATE SET count = count + excluded.count`;
const ROLL_UP_TOP_BLOCKED_CLIS = `INSERT INTO stats_daily (dimension, day, key, count)
  SELECT 'blocked-cli', ?1, key, SUM(count) AS total FROM stats_counters WHERE dimension = 'blocked-cli' AND hour BETWEEN ?2 AND ?3 GROUP BY key ORDER BY total DESC, key LIMIT ?4
  ON CONFLICT (dimension, day, key) DO UPDATE SET count = count + excluded.count`;
const DELETE_HOURS = `DELETE FROM stats_counters WHERE dimension IN (${sqlDimensionList(STATS_DIMENSIONS)}) AND hour BETWEEN ?1 AND ?2`;

export interface RetentionOutcome {
  /** 'YYYY-MM-DD' of each day whose hours were rolled up. */
  statsDaysRolledUp: string[];
  auditRowsPruned: number;
  reportsPruned: number;
}

const dayOf = (epochMs: number) => new Date(epochMs).toISOString().slice(0, 10);

/** Applies the retention settings as of `nowMs`. */
export async function applyRetention(db: D1Database, { statsHourlyDays, auditDays, reportsDays }: RetentionSettings, nowMs: number): Promise<RetentionOutcome> {
  return {
    statsDaysRolledUp: await rollUpStatsBefore(db, dayOf(nowMs - statsHourlyDays * DAY_MS)),
    auditRowsPruned: auditDays === null ? 0 : await pruneInSteps((limit) => pruneAuditLog(db, nowMs - auditDays * DAY_MS, limit)),
    reportsPruned: reportsDays === null ? 0 : await pruneInSteps((limit) => pruneReports(db, nowMs - reportsDays * DAY_MS, limit)),
  };
}

/** The Cron Trigger's work (src/index.ts): the settings from the Worker's variables, one log line with what was done. */
export async function runScheduledRetention(env: Env, scheduledTimeMs: number): Promise<void> {
  const outcome = await applyRetention(env.DB, readRetentionSettings(env as unknown as Record<string, unknown>), scheduledTimeMs);
  console.log(JSON.stringify({ level: "info", event: "retention", ...outcome }));
}

/** Rolls up whole days before `firstHourlyDay`, oldest first; each day's roll-up is one transaction. */
async function rollUpStatsBefore(db: D1Database, firstHourlyDay: string): Promise<string[]> {
  const rolledUp: string[] = [];
  while (rolledUp.length < DAYS_ROLLED_UP_PER_RUN) {
    const oldest = await db.batch<{ hour: string | null }>(STATS_DIMENSIONS.map((dimension) => db.prepare(OLDEST_HOUR_BEFORE).bind(dimension, firstHourlyDay)));
    const hours = oldest.flatMap(({ results }) => results.map((row) => row.hour)).filter((hour) => hour !== null);
    if (hours.length === 0) break;
    const day = hours.sort()[0]!.slice(0, 10);
    const [first, last] = [`${day}T00`, `${day}T23`];
    await db.batch([
      db.prepare(ROLL_UP_SMALL_DIMENSIONS).bind(day, first, last),
      db.prepare(ROLL_UP_TOP_BLOCKED_CLIS).bind(day, first, last, MAX_TOP_BLOCKED_CLIS),
      db.prepare(DELETE_HOURS).bind(first, last),
    ]);
    rolledUp.push(day);
  }
  return rolledUp;
}

/** Runs a bounded delete until it finds fewer rows than it may take, or the run's share is used. */
async function pruneInSteps(prune: (limit: number) => Promise<number>): Promise<number> {
  let pruned = 0;
  for (let step = 0; step < PRUNE_STATEMENTS_PER_RUN; step++) {
    const deleted = await prune(ROWS_PRUNED_PER_STATEMENT);
    pruned += deleted;
    if (deleted < ROWS_PRUNED_PER_STATEMENT) break;
  }
  return pruned;
}
