import { applyAudited, type AuditActor } from "../admin/audit-log";
import type { RuleCursor } from "../rules/store";
import type { FraudReport, FraudReportInput } from "./report";

/** Fraud reports in D1 (migrations/0002). */
interface ReportRow {
  id: string;
  victim: string;
  presented_cli: string;
  call_time: number;
  channel: string;
  notes: string | null;
  reporter: string;
  created_at: number;
}

const fromRow = (row: ReportRow): FraudReport => ({
  id: row.id,
  victim: row.victim,
  presentedCli: row.presented_cli,
  callTime: row.call_time,
  channel: row.channel,
  notes: row.notes,
  reporter: row.reporter,
  createdAt: row.created_at,
});

/**
 * Files a report, audited (issue 22 item 12) in the same transaction. `alongside` gives writes that
 * commit with it (the response stored under an Idempotency-Key).
 */
export async function createReport(db: D1Database, input: FraudReportInput, who: AuditActor, nowMs: number, alongside: (report: FraudReport) => D1PreparedStatement[] = () => []): Promise<FraudReport> {
  const report: FraudReport = {
    id: crypto.randomUUID(),
    victim: input.victim,
    presentedCli: input.presentedCli,
    callTime: input.time,
    channel: input.channel,
    notes: input.notes ?? null,
    reporter: input.reporter ?? who.actor,
    createdAt: nowMs,
  };
  const insert = db
    .prepare("INSERT INTO fraud_reports (id, victim, presented_cli, call_time, channel, notes, reporter, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
    .bind(report.id, report.victim, report.presentedCli, report.callTime, report.channel, report.notes, report.reporter, report.createdAt);
  await applyAudited(db, insert, { ...who, entity: "report", entityId: report.id, operation: "create", before: null, after: report, atMs: nowMs }, { bumpsOriginVersion: false, alongside: alongside(report) });
  return report;
}

export async function getReport(db: D1Database, id: string): Promise<FraudReport | null> {
  const row = await db.prepare("SELECT * FROM fraud_reports WHERE id = ?").bind(id).first<ReportRow>();
  return row ? fromRow(row) : null;
}

/** `after`: only the reports after this place in the listing's order (newest first, then by id), where the last page ended. */
export async function listReports(db: D1Database, filter: { presentedCli?: string; sinceMs?: number; limit: number; offset: number; after?: RuleCursor }): Promise<FraudReport[]> {
  const { results } = await db
    .prepare(
      `SELECT * FROM fraud_reports WHERE (?1 IS NULL OR presented_cli = ?1) AND (?2 IS NULL OR created_at >= ?2)
          AND (?5 IS NULL OR created_at < ?5 OR (created_at = ?5 AND id > ?6))
        ORDER BY created_at DESC, id LIMIT ?3 OFFSET ?4`,
    )
    .bind(filter.presentedCli ?? null, filter.sinceMs ?? null, filter.limit, filter.offset, filter.after?.createdAt ?? null, filter.after?.id ?? null)
    .all<ReportRow>();
  return results.map(fromRow);
}

/**
 * Deletes the oldest fraud reports made before `beforeMs`, at most `limit` of them, and says how many
 * went (REPORTS_RETENTION_DAYS, applied by src/stats/retention.ts; never without it). The index on
 * created_at finds them. A rule made from a pruned report keeps its reportId.
 */
export async function pruneReports(db: D1Database, beforeMs: number, limit: number): Promise<number> {
  const { meta } = await db
    .prepare("DELETE FROM fraud_reports WHERE id IN (SELECT id FROM fraud_reports WHERE created_at < ?1 ORDER BY created_at LIMIT ?2)")
    .bind(beforeMs, limit)
    .run();
  return meta.changes;
}
