import { pruneAuditLog } from "../admin/audit-log";
import { readRetentionSettings, type RetentionSettings } from "../config";
import { pruneReports } from "../reports/store";
import { MAX_TOP_BLOCKED_CLIS, pageEntriesIn } from "./read";
import { hourOf, PAGED_DIMENSIONS, SMALL_DIMENSIONS, sqlDimensionList } from "./record";

/**
 * What stored data is kept, and for how long (issue 22 item 8; README "Stores: loss bounds and retention"):
 * - traceback statistics: hourly counters older than STATS_HOURLY_RETENTION_DAYS (31 by default, so the
 *   dashboard's 30-day view stays hourly) are rolled up into days: every action, check and carrier
 *   count, and the day's MAX_TOP_BLOCKED_CLIS most counted keys of each paged dimension (blocked CLIs).
 *   A day of spoofing from rotating CLIs keeps at most that many rows of them after;
 * - the pages of a paged dimension's past hour (one per isolate flush, migrations/0014) are merged into
 *   one page per MERGED_PAGE_KEYS keys, so a range's read costs its distinct keys, not its flushes;
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
/** Keys per merged page: about 100 kB of JSON, well under D1's 2 MB row. */
export const MERGED_PAGE_KEYS = 5_000;
/** Pages a retention run (or migrations/0014) wrote start so; all others are an isolate's flushes. */
const MERGED = "merged:";

/** The oldest hour before ?2 of dimension ?1 in `table`: one step down its key (migrations/0009, 0014). */
const oldestHourBefore = (table: string) => `SELECT MIN(hour) AS hour FROM ${table} WHERE dimension = ?1 AND hour < ?2`;
const OLDEST_HOUR_QUERIES = [
  ...SMALL_DIMENSIONS.map((dimension) => [oldestHourBefore("stats_counters"), dimension] as const),
  ...PAGED_DIMENSIONS.map((dimension) => [oldestHourBefore("stats_pages"), dimension] as const),
];
/** Day ?1, from its hours ?2 to ?3: added to what the day holds (hours counted late are rolled up by a later run). */
const ROLL_UP_SMALL_DIMENSIONS = `INSERT INTO stats_daily (dimension, day, key, count)
  SELECT dimension, ?1, key, SUM(count) FROM stats_counters WHERE dimension IN (${sqlDimensionList(SMALL_DIMENSIONS)}) AND hour BETWEEN ?2 AND ?3 GROUP BY dimension, key
  ON CONFLICT (dimension, day, key) DO UPDATE SET count = count + excluded.count`;
/** Paged dimension ?5's ?4 most counted keys of day ?1 (its hours ?2 to ?3). `WHERE true`: SQLite's upsert after a SELECT with a join needs a WHERE. */
const ROLL_UP_TOP_KEYS = `INSERT INTO stats_daily (dimension, day, key, count)
  SELECT ?5, ?1, key, SUM(count) AS total FROM (${pageEntriesIn("?5", "?2", "?3")}) WHERE true GROUP BY key ORDER BY total DESC, key LIMIT ?4
  ON CONFLICT (dimension, day, key) DO UPDATE SET count = count + excluded.count`;
const DELETE_HOURS = `DELETE FROM stats_counters WHERE dimension IN (${sqlDimensionList(SMALL_DIMENSIONS)}) AND hour BETWEEN ?1 AND ?2`;
const DELETE_PAGES = `DELETE FROM stats_pages WHERE dimension IN (${sqlDimensionList(PAGED_DIMENSIONS)}) AND hour BETWEEN ?1 AND ?2`;

/** Hours before ?1 with a page an isolate wrote and another page beside it: what a merge would shrink, oldest first, ?2 at most. */
const HOURS_TO_MERGE = `SELECT dimension, hour FROM stats_pages WHERE dimension IN (${sqlDimensionList(PAGED_DIMENSIONS)}) AND hour < ?1
  GROUP BY dimension, hour HAVING COUNT(*) > 1 AND SUM(page NOT LIKE '${MERGED}%') > 0 ORDER BY hour LIMIT ?2`;
/**
 * Dimension ?1's pages of hour ?2 summed by key into new pages ?3 0, ?3 1, … of MERGED_PAGE_KEYS keys each (written
 * into the SQL: D1 binds a number as a real, and the chunk's division must be an integer's), then the
 * pages before them deleted: one transaction, so a flush landing meanwhile is either merged or left for
 * the next run. (SQLite reads the whole SELECT before inserting into the table it reads.)
 */
const MERGE_PAGES_OF_HOUR = `INSERT INTO stats_pages (dimension, hour, page, counts)
    SELECT ?1, ?2, ?3 || chunk, json_group_object(key, count) FROM (
      SELECT key, count, (ROW_NUMBER() OVER (ORDER BY key) - 1) / ${MERGED_PAGE_KEYS} AS chunk FROM (SELECT key, SUM(count) AS count FROM (${pageEntriesIn("?1", "?2", "?2")}) GROUP BY key)
    ) GROUP BY chunk`;
const DELETE_PAGES_MERGED = "DELETE FROM stats_pages WHERE dimension = ?1 AND hour = ?2 AND page NOT LIKE ?3 || '%'";

export interface RetentionOutcome {
  /** 'YYYY-MM-DD' of each day whose hours were rolled up. */
  statsDaysRolledUp: string[];
  /** Past hours of paged dimensions whose pages were merged. */
  statsHoursMerged: number;
  auditRowsPruned: number;
  reportsPruned: number;
}

const dayOf = (epochMs: number) => new Date(epochMs).toISOString().slice(0, 10);

/** Applies the retention settings as of `nowMs`. */
export async function applyRetention(db: D1Database, { statsHourlyDays, auditDays, reportsDays }: RetentionSettings, nowMs: number): Promise<RetentionOutcome> {
  return {
    statsDaysRolledUp: await rollUpStatsBefore(db, dayOf(nowMs - statsHourlyDays * DAY_MS)),
    statsHoursMerged: await mergePagesBefore(db, hourOf(nowMs)),
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
    const oldest = await db.batch<{ hour: string | null }>(OLDEST_HOUR_QUERIES.map(([query, dimension]) => db.prepare(query).bind(dimension, firstHourlyDay)));
    const hours = oldest.flatMap(({ results }) => results.map((row) => row.hour)).filter((hour) => hour !== null);
    if (hours.length === 0) break;
    const day = hours.sort()[0]!.slice(0, 10);
    const [first, last] = [`${day}T00`, `${day}T23`];
    await db.batch([
      db.prepare(ROLL_UP_SMALL_DIMENSIONS).bind(day, first, last),
      ...PAGED_DIMENSIONS.map((dimension) => db.prepare(ROLL_UP_TOP_KEYS).bind(day, first, last, MAX_TOP_BLOCKED_CLIS, dimension)),
      db.prepare(DELETE_HOURS).bind(first, last),
      db.prepare(DELETE_PAGES).bind(first, last),
    ]);
    rolledUp.push(day);
  }
  return rolledUp;
}

/** Merges the pages of hours before `currentHour` (the hour isolates are writing stays as it is); a bounded number per run. */
async function mergePagesBefore(db: D1Database, currentHour: string): Promise<number> {
  const { results } = await db.prepare(HOURS_TO_MERGE).bind(currentHour, HOURS_MERGED_PER_RUN).all<{ dimension: string; hour: string }>();
  for (const { dimension, hour } of results) {
    const merged = `${MERGED}${crypto.randomUUID()}:`;
    await db.batch([db.prepare(MERGE_PAGES_OF_HOUR).bind(dimension, hour, merged), db.prepare(DELETE_PAGES_MERGED).bind(dimension, hour, merged)]);
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
