import { pruneAuditLog } from "../admin/audit-log";
import { readRetentionSettings, type RetentionSettings } from "../config";
import { pruneReports } from "../reports/store";
import { MAX_TOP_BLOCKED_CLIS, pageEntriesIn } from "./read";
import { hourOf, RULE_DIMENSIONS, SMALL_DIMENSIONS, STATS_DIMENSIONS, UNBOUNDED_DIMENSIONS, type UnboundedDimension } from "./record";

/**
 * What stored data is kept, and for how long (issue 22 item 8; README "Stores: loss bounds and retention"):
 * - traceback statistics: hourly counters older than STATS_HOURLY_RETENTION_DAYS (31 by default, so the
 *   dashboard's 30-day view stays hourly) are rolled up into days: every action, check, carrier and
 *   rule-hit count, and the day's MAX_TOP_BLOCKED_CLIS most counted keys of each unbounded dimension (blocked CLIs).
 *   A day of spoofing from rotating CLIs keeps at most that many rows of them after;
 * - a past hour's pages (one per isolate flush, migrations/0014) are merged into one page per
 *   MERGED_PAGE_KEYS counters, so a range's read costs its distinct counters, not its flushes;
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
const HOURS_MERGED_PER_RUN = 48;
/** Counters per merged page: about 100 kB of JSON, well under D1's 2 MB row. */
export const MERGED_PAGE_KEYS = 5_000;
/** Pages a retention run (or migrations/0014) wrote start so; all others are an isolate's flushes. */
const MERGED = "merged:";

/** The oldest hour with pages before ?1: one step down the key (migrations/0014). */
const OLDEST_HOUR_BEFORE = "SELECT MIN(hour) AS hour FROM stats_pages WHERE hour < ?1";
/**
 * Day ?1, from its hours ?2 to ?3: added to what the day holds (hours counted late are rolled up by a
 * later run). A rule's hits are kept whole: their keys are bounded by the rules table, not by callers.
 * `WHERE true`: SQLite's upsert after a SELECT with a join needs one.
 */
const ROLL_UP_SMALL_DIMENSIONS = `INSERT INTO stats_daily (dimension, day, key, count)
  SELECT dimension, ?1, key, SUM(count) FROM (${pageEntriesIn([...SMALL_DIMENSIONS, ...RULE_DIMENSIONS], "?2", "?3")}) WHERE true GROUP BY dimension, key
  ON CONFLICT (dimension, day, key) DO UPDATE SET count = count + excluded.count`;
/** An unbounded dimension's MAX_TOP_BLOCKED_CLIS most counted keys of day ?1 (its hours ?2 to ?3). */
const rollUpTopKeys = (dimension: UnboundedDimension) => `INSERT INTO stats_daily (dimension, day, key, count)
  SELECT dimension, ?1, key, SUM(count) AS total FROM (${pageEntriesIn([dimension], "?2", "?3")}) WHERE true GROUP BY key ORDER BY total DESC, key LIMIT ${MAX_TOP_BLOCKED_CLIS}
  ON CONFLICT (dimension, day, key) DO UPDATE SET count = count + excluded.count`;
const ROLL_UP_DAY = [ROLL_UP_SMALL_DIMENSIONS, ...UNBOUNDED_DIMENSIONS.map(rollUpTopKeys), "DELETE FROM stats_pages WHERE hour BETWEEN ?2 AND ?3"];

/** Hours before ?1 with a page an isolate wrote and another page beside it: what a merge would shrink, oldest first, ?2 at most. */
const HOURS_TO_MERGE = `SELECT hour FROM stats_pages WHERE hour < ?1 GROUP BY hour HAVING COUNT(*) > 1 AND SUM(page NOT LIKE '${MERGED}%') > 0 ORDER BY hour LIMIT ?2`;
/**
 * Hour ?1's pages summed by counter into new pages ?2 0, ?2 1, … of MERGED_PAGE_KEYS counters each
 * (written into the SQL: D1 binds a number as a real, and the chunk's division must be an integer's),
 * then the pages before them deleted: one transaction, so a flush landing meanwhile is either merged or
 * left for the next run. (SQLite reads the whole SELECT before inserting into the table it reads.)
 */
const MERGE_PAGES_OF_HOUR = `INSERT INTO stats_pages (hour, page, counts)
  SELECT ?1, ?2 || chunk, json_group_object(dimension, json(keys)) FROM (
    SELECT chunk, dimension, json_group_object(key, count) AS keys FROM (
      SELECT dimension, key, count, (ROW_NUMBER() OVER (ORDER BY dimension, key) - 1) / ${MERGED_PAGE_KEYS} AS chunk
      FROM (SELECT dimension, key, SUM(count) AS count FROM (${pageEntriesIn(STATS_DIMENSIONS, "?1", "?1")}) GROUP BY dimension, key)
    ) GROUP BY chunk, dimension
  ) GROUP BY chunk`;
const DELETE_PAGES_MERGED = "DELETE FROM stats_pages WHERE hour = ?1 AND page NOT LIKE ?2 || '%'";

export interface RetentionOutcome {
  /** 'YYYY-MM-DD' of each day whose hours were rolled up. */
  statsDaysRolledUp: string[];
  /** Past hours whose pages were merged. */
  statsHoursMerged: number;
  auditRowsPruned: number;
  reportsPruned: number;
}

const dayOf = (epochMs: number) => new Date(epochMs).toISOString().slice(0, 10);

/** Applies the retention settings as of `nowMs`. */
export async function applyRetention(db: D1Database, { statsHourlyDays, auditDays, reportsDays }: RetentionSettings, nowMs: number): Promise<RetentionOutcome> {
  // Each step runs whatever the others do: the audit log's and the reports' retention is the operator's
  // data-protection promise, and must not wait on the statistics' housekeeping. A failed step fails the
  // run afterwards, naming it and what the others did.
  const failures: string[] = [];
  const step = async <T>(name: string, run: () => Promise<T>, none: T): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      failures.push(`the ${name} failed (${String(error)})`);
      return none;
    }
  };
  const outcome: RetentionOutcome = {
    statsDaysRolledUp: await step("statistics roll-up", () => rollUpStatsBefore(db, dayOf(nowMs - statsHourlyDays * DAY_MS)), []),
    statsHoursMerged: await step("statistics pages' merge", () => mergePagesBefore(db, hourOf(nowMs)), 0),
    auditRowsPruned: auditDays === null ? 0 : await step("audit log's pruning", () => pruneInSteps((limit) => pruneAuditLog(db, nowMs - auditDays * DAY_MS, limit)), 0),
    reportsPruned: reportsDays === null ? 0 : await step("reports' pruning", () => pruneInSteps((limit) => pruneReports(db, nowMs - reportsDays * DAY_MS, limit)), 0),
  };
  if (failures.length > 0) {
    const done = `${outcome.statsDaysRolledUp.length} days rolled up, ${outcome.statsHoursMerged} hours merged, ${outcome.auditRowsPruned} audit rows and ${outcome.reportsPruned} reports pruned`;
    throw new Error(`retention: ${failures.join("; ")}; done: ${done}`);
  }
  return outcome;
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
    const oldest = await db.prepare(OLDEST_HOUR_BEFORE).bind(firstHourlyDay).first<string | null>("hour");
    if (!oldest) break;
    const day = oldest.slice(0, 10);
    await db.batch(ROLL_UP_DAY.map((statement) => db.prepare(statement).bind(day, `${day}T00`, `${day}T23`)));
    rolledUp.push(day);
  }
  return rolledUp;
}

/** Merges the pages of hours before `currentHour` (the hour isolates are writing stays as it is); a bounded number per run. */
async function mergePagesBefore(db: D1Database, currentHour: string): Promise<number> {
  const { results } = await db.prepare(HOURS_TO_MERGE).bind(currentHour, HOURS_MERGED_PER_RUN).all<{ hour: string }>();
  for (const { hour } of results) {
    const merged = `${MERGED}${crypto.randomUUID()}:`;
    await db.batch([db.prepare(MERGE_PAGES_OF_HOUR).bind(hour, merged), db.prepare(DELETE_PAGES_MERGED).bind(hour, merged)]);
  }
  return results.length;
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
