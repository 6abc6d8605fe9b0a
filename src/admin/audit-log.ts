/**
 * The audit log (issue 4: "every change is kept in an audit log: who, when, before, after").
 * A change and its audit row commit in one D1 batch (one transaction), and the audit row is only
 * written when the change touched a row, so a lost optimistic-versioning race leaves no trace.
 */
export type AuditedEntity = "rule" | "config" | "roaming";
export type AuditedOperation = "create" | "update" | "expire" | "delete";

export interface AuditEntry {
  actor: string;
  entity: AuditedEntity;
  entityId: string;
  operation: AuditedOperation;
  before: unknown;
  after: unknown;
  atMs: number;
}

export interface AuditRecord extends Omit<AuditEntry, "atMs"> {
  seq: number;
  at: string;
}

const asJson = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));

/**
 * Runs `change`, then (only if it changed exactly one row) the audit insert and, when the change
 * alters what the verdict path caches, the origin version bump that tells every isolate to reload.
 * `alongside` runs right after the change: a statement guarded by `changes() = 1` that records the
 * change elsewhere (a deleted rule's tombstone) and changes one row itself. Returns whether the change applied.
 */
export async function applyAudited(
  db: D1Database,
  change: D1PreparedStatement,
  entry: AuditEntry,
  options: { bumpsOriginVersion: boolean; alongside?: D1PreparedStatement },
): Promise<boolean> {
  const statements = [
    change,
    ...(options.alongside ? [options.alongside] : []),
    db
      .prepare(
        "INSERT INTO audit_log (at, actor, entity, entity_id, operation, before, after) SELECT ?, ?, ?, ?, ?, ?, ? WHERE changes() = 1",
      )
      .bind(entry.atMs, entry.actor, entry.entity, entry.entityId, entry.operation, asJson(entry.before), asJson(entry.after)),
  ];
  if (options.bumpsOriginVersion) statements.push(db.prepare("UPDATE origin_version SET version = version + 1 WHERE id = 1 AND changes() = 1"));
  const [result] = await db.batch(statements);
  return result!.meta.changes === 1;
}

interface AuditRow {
  seq: number;
  at: number;
  actor: string;
  entity: AuditedEntity;
  entity_id: string;
  operation: AuditedOperation;
  before: string | null;
  after: string | null;
}

export async function listAudit(db: D1Database, filter: { entity?: string; entityId?: string; limit: number; beforeSeq?: number }): Promise<AuditRecord[]> {
  const { results } = await db
    .prepare(
      `SELECT * FROM audit_log
        WHERE (?1 IS NULL OR entity = ?1) AND (?2 IS NULL OR entity_id = ?2) AND (?3 IS NULL OR seq < ?3)
        ORDER BY seq DESC LIMIT ?4`,
    )
    .bind(filter.entity ?? null, filter.entityId ?? null, filter.beforeSeq ?? null, filter.limit)
    .all<AuditRow>();
  return results.map((row) => ({
    seq: row.seq,
    at: new Date(row.at).toISOString(),
    actor: row.actor,
    entity: row.entity,
    entityId: row.entity_id,
    operation: row.operation,
    before: row.before === null ? null : JSON.parse(row.before),
    after: row.after === null ? null : JSON.parse(row.after),
  }));
}
