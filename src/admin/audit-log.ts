/**
 * The audit log (issue 4: "every change is kept in an audit log: who, when, before, after").
 * A change and its audit row commit in one D1 batch (one transaction), and the audit row is only
 * written when the change touched a row, so a lost optimistic-versioning race leaves no trace. Every
 * versioned change is conditioned on the version its `before` was read at, so `before` is exactly what
 * the change replaced.
 */
export const AUDITED_ENTITIES = ["rule", "config", "roaming", "report", "trust"] as const;
export type AuditedEntity = (typeof AUDITED_ENTITIES)[number];
/** `publish`: the origin version moved on purpose, putting in force the rules an unfinished import left (src/rules/store.ts). */
export type AuditedOperation = "create" | "update" | "expire" | "delete" | "publish";

/** Who: the authenticated operator, always (issue 22 item 10); `author` is the client's own account, when it gave one. */
export interface AuditActor {
  actor: string;
  author: string | null;
}

export interface AuditEntry extends AuditActor {
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

export interface AuditOptions {
  /** The change alters what the verdict path caches: bump the origin version that tells every isolate to reload. */
  bumpsOriginVersion: boolean;
  /**
   * Runs right after the change: a statement guarded by `changes() = 1` that records the change
   * elsewhere (a deleted rule's tombstone) and changes one row itself, so the audit insert's guard holds.
   */
  chained?: D1PreparedStatement;
  /** More writes that commit with the change, or not at all (an Idempotency-Key's stored response). */
  alongside?: D1PreparedStatement[];
}

/**
 * Runs `change`, then `chained`, then (only if the change changed exactly one row) the audit insert
 * and the origin version bump, then `alongside`, all in one transaction. Returns whether the change applied.
 */
export async function applyAudited(db: D1Database, change: D1PreparedStatement, entry: AuditEntry, options: AuditOptions): Promise<boolean> {
  const statements = [
    change,
    ...(options.chained ? [options.chained] : []),
    db
      .prepare(
        "INSERT INTO audit_log (at, actor, author, entity, entity_id, operation, before, after) SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE changes() = 1",
      )
      .bind(entry.atMs, entry.actor, entry.author, entry.entity, entry.entityId, entry.operation, asJson(entry.before), asJson(entry.after)),
  ];
  if (options.bumpsOriginVersion) statements.push(db.prepare("UPDATE origin_version SET version = version + 1 WHERE id = 1 AND changes() = 1"));
  statements.push(...(options.alongside ?? []));
  const [result] = await db.batch(statements);
  return result!.meta.changes === 1;
}

interface AuditRow {
  seq: number;
  at: number;
  actor: string;
  author: string | null;
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
    author: row.author,
    entity: row.entity,
    entityId: row.entity_id,
    operation: row.operation,
    before: row.before === null ? null : JSON.parse(row.before),
    after: row.after === null ? null : JSON.parse(row.after),
  }));
}

/**
 * Deletes the oldest audit rows written before `beforeMs`, at most `limit` of them, and says how many
 * went (AUDIT_RETENTION_DAYS, applied by src/stats/retention.ts; never without it). It walks the log
 * from its oldest row by seq, so it reads at most `limit` rows however long the log is, and a row
 * written at or after `beforeMs` stays even among old ones.
 */
export async function pruneAuditLog(db: D1Database, beforeMs: number, limit: number): Promise<number> {
  const { meta } = await db.prepare("DELETE FROM audit_log WHERE seq IN (SELECT seq FROM audit_log ORDER BY seq LIMIT ?2) AND at < ?1").bind(beforeMs, limit).run();
  return meta.changes;
}
