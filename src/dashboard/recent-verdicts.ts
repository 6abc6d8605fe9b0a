import { TimeoutError, type BackgroundWork } from "../lib/timeout";
import { WriteBehind, type BoundedCall } from "../lib/write-behind";
import { d1Rows } from "../lib/storage-rows";
import { recordBackgroundDrops, recordBackgroundTimeout, recordStoreRows } from "../metrics/record";
import type { Check } from "../verdict/check";
import type { Action, Attestation, Verstat } from "../verdict/verdict";

/**
 * The dashboard's recent verdicts with their evidence (migrations/0007, rebuilt by 0008): the newest
 * RECENT_VERDICTS_KEPT, for the analyst looking up what happened to a reported call. Rows are
 * buffered per isolate and written after the responses in write-behind batches (src/lib/write-behind.ts).
 * Once the table holds RECENT_VERDICTS_KEPT rows, each new verdict takes over the oldest row (upsertRows).
 */
export interface RecentVerdict {
  requestId: string;
  atMs: number;
  cli: string | null;
  destination: string | null;
  action: Action;
  verstat: Verstat;
  signed: boolean;
  attest: Attestation | null;
  decidedBy: string | null;
  carrier: string;
  elapsedMs: number;
  checks: Check[];
}

export const RECENT_VERDICTS_KEPT = 10_000;
/** While D1 is slow or unreachable the buffer keeps the newest rows only, so memory stays bounded; the rest are dropped and counted. */
export const MAX_BUFFERED_VERDICTS = 2_000;
const ROWS_PER_BATCH = 50;
const TASK = "write-behind:recent-verdicts";

const buffered: RecentVerdict[] = [];
let db: D1Database | null = null;
const writer = new WriteBehind({ pending: () => buffered.length, write: (bounded) => writeBuffered(db!, bounded) }, 500, TASK, recordBackgroundTimeout);

/** Keeps the newest MAX_BUFFERED_VERDICTS, counting the older ones as dropped. */
function trimToNewest() {
  const excess = buffered.length - MAX_BUFFERED_VERDICTS;
  if (excess <= 0) return;
  recordBackgroundDrops(TASK, excess);
  buffered.splice(0, excess);
}

export function keepRecentVerdict(verdict: RecentVerdict, deps: BackgroundWork & { db: D1Database }): void {
  buffered.push(verdict);
  trimToNewest();
  db = deps.db;
  writer.schedule(deps);
}

const COLUMNS = ["request_id", "at", "cli", "destination", "action", "verstat", "signed", "attest", "decided_by", "failed_checks", "carrier", "elapsed_ms", "checks"] as const;
const ROWS_PER_INSERT = Math.floor(100 / COLUMNS.length);

/**
 * Rows for `count` verdicts, each taking the next seq after the newest, as an `INSERT` with a prune would
 * place them. The row that this insert's prune would delete (seq − RECENT_VERDICTS_KEPT) is taken over
 * instead: moved to the new seq with the new verdict in it. D1 counts that as 1 row written, against 2
 * for an insert and a delete. A verdict that has no such row yet (the table is still filling) is
 * inserted. Which case applies is decided for all rows before any is written (SQLite computes an
 * `INSERT … SELECT` that reads its own table in full first), so the rows of one statement never see
 * each other.
 */
const upsertRows = (count: number) => {
  const incoming = Array.from({ length: count }, (_, k) => `(${k}, ${COLUMNS.map(() => "?").join(", ")})`).join(", ");
  return `WITH incoming (k, ${COLUMNS.join(", ")}) AS (VALUES ${incoming}),
      placed AS MATERIALIZED (SELECT incoming.*, newest.seq + 1 + k AS seq FROM incoming, (SELECT COALESCE(MAX(seq), 0) AS seq FROM recent_verdicts) AS newest)
    INSERT INTO recent_verdicts (seq, ${COLUMNS.join(", ")})
      SELECT CASE WHEN EXISTS (SELECT 1 FROM recent_verdicts WHERE recent_verdicts.seq = placed.seq - ${RECENT_VERDICTS_KEPT}) THEN placed.seq - ${RECENT_VERDICTS_KEPT} ELSE placed.seq END,
             ${COLUMNS.join(", ")}
        FROM placed WHERE true
      ON CONFLICT (seq) DO UPDATE SET seq = excluded.seq + ${RECENT_VERDICTS_KEPT}, ${COLUMNS.map((column) => `${column} = excluded.${column}`).join(", ")}`;
};
/** The statement for each group size a flush can send (1 to ROWS_PER_INSERT), built once. */
const UPSERT_ROWS = Array.from({ length: ROWS_PER_INSERT + 1 }, (_, count) => (count === 0 ? "" : upsertRows(count)));

const failedCheckIds = (checks: Check[]) => [...new Set(checks.filter((check) => check.result === "fail").map((check) => check.id))];

/**
 * Writes the buffer batch by batch. A batch D1 refused goes back in front of the buffer for the next
 * flush; a batch whose call timed out may still land, so it is not written again (it would take two
 * rows) and is counted as dropped.
 */
async function writeBuffered(database: D1Database, bounded: BoundedCall): Promise<boolean> {
  // While the table is filling, rows are inserted; the prune keeps it at its size then, and deletes nothing once rows are taken over.
  const prune = database.prepare("DELETE FROM recent_verdicts WHERE seq <= (SELECT MAX(seq) FROM recent_verdicts) - ?").bind(RECENT_VERDICTS_KEPT);
  while (buffered.length > 0) {
    const batch = buffered.splice(0, ROWS_PER_BATCH);
    const rows: D1PreparedStatement[] = [];
    // Several rows per statement (D1 binds at most 100 parameters to a statement): a statement per row made
    // decoding the batch's per-statement results a measurable share of a verdict's CPU.
    for (let start = 0; start < batch.length; start += ROWS_PER_INSERT) {
      const group = batch.slice(start, start + ROWS_PER_INSERT);
      const values = group.flatMap((v) => [v.requestId, v.atMs, v.cli, v.destination, v.action, v.verstat, v.signed ? 1 : 0, v.attest, v.decidedBy, `,${failedCheckIds(v.checks).join(",")},`, v.carrier, v.elapsedMs, JSON.stringify(v.checks)]);
      rows.push(database.prepare(UPSERT_ROWS[group.length]!).bind(...values));
    }
    try {
      // The prune rides on the last batch of the flush only. A batch is one transaction: the seqs its
      // statements compute from the newest row cannot interleave with another isolate's.
      recordStoreRows("recent-verdicts", d1Rows(await bounded(database.batch(buffered.length === 0 ? [...rows, prune] : rows))));
    } catch (error) {
      if (error instanceof TimeoutError) recordBackgroundDrops(TASK, batch.length);
      else {
        buffered.unshift(...batch);
        trimToNewest();
      }
      console.error(JSON.stringify({ level: "error", event: "recent-verdicts-write-failed", error: String(error), verdicts: batch.length, kept: !(error instanceof TimeoutError) }));
      return false;
    }
  }
  return true;
}

export interface RecentVerdictFilter {
  /** Canonical TN, matched against the CLI and the called number. */
  number?: string;
  carrier?: string;
  /** A check id that failed. */
  check?: string;
  action?: Action;
  signed?: boolean;
  limit: number;
  beforeSeq?: number;
}

interface RecentVerdictRow {
  seq: number;
  request_id: string;
  at: number;
  cli: string | null;
  destination: string | null;
  action: Action;
  verstat: Verstat;
  signed: number;
  attest: Attestation | null;
  decided_by: string | null;
  failed_checks: string;
  carrier: string;
  elapsed_ms: number;
  checks: string;
}

export async function listRecentVerdicts(db: D1Database, filter: RecentVerdictFilter) {
  const { results } = await db
    .prepare(
      `SELECT * FROM recent_verdicts
        WHERE (?1 IS NULL OR cli = ?1 OR destination = ?1) AND (?2 IS NULL OR carrier = ?2)
          AND (?3 IS NULL OR failed_checks LIKE '%,' || ?3 || ',%') AND (?4 IS NULL OR action = ?4)
          AND (?5 IS NULL OR signed = ?5) AND (?6 IS NULL OR seq < ?6)
        ORDER BY seq DESC LIMIT ?7`,
    )
    .bind(filter.number ?? null, filter.carrier ?? null, filter.check ?? null, filter.action ?? null, filter.signed === undefined ? null : Number(filter.signed), filter.beforeSeq ?? null, filter.limit)
    .all<RecentVerdictRow>();
  return results.map((row) => ({
    seq: row.seq,
    requestId: row.request_id,
    at: new Date(row.at).toISOString(),
    cli: row.cli,
    destination: row.destination,
    action: row.action,
    verstat: row.verstat,
    signed: row.signed === 1,
    attest: row.attest,
    decidedBy: row.decided_by,
    failedChecks: row.failed_checks.split(",").filter(Boolean),
    carrier: row.carrier,
    elapsedMs: row.elapsed_ms,
    checks: JSON.parse(row.checks) as Check[],
  }));
}
