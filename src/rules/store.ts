import { applyAudited, type AuditActor } from "../admin/audit-log";
import type { Action } from "../verdict/verdict";
import type { Rule, RuleCriteria, RuleInput } from "./rule";

/** Rules in D1 (migrations/0001). Writes are audited and versioned; the verdict path only reads `loadActiveRules`. */
interface RuleRow {
  id: string;
  criteria: string;
  action: Action;
  reason: string;
  label: string | null;
  author: string;
  expires_at: number | null;
  report_id: string | null;
  version: number;
  created_at: number;
  updated_at: number;
}

const fromRow = (row: RuleRow): Rule => ({
  id: row.id,
  criteria: JSON.parse(row.criteria) as RuleCriteria,
  action: row.action,
  reason: row.reason,
  label: row.label,
  author: row.author,
  expiresAt: row.expires_at,
  reportId: row.report_id,
  version: row.version,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

export type RuleWriteResult = { rule: Rule } | { error: "ERR_NOT_FOUND" } | { error: "ERR_VERSION_CONFLICT"; current: Rule };

export interface RuleListFilter {
  /** Only rules still matching at this instant. */
  activeAt?: number;
  /** Only rules whose CLI criterion mentions these digits. */
  cliContains?: string;
  limit: number;
  offset: number;
}

export async function loadActiveRules(db: D1Database, nowMs: number): Promise<Rule[]> {
  const { results } = await db.prepare("SELECT * FROM rules WHERE expires_at IS NULL OR expires_at > ?").bind(nowMs).all<RuleRow>();
  return results.map(fromRow);
}

export async function listRules(db: D1Database, filter: RuleListFilter): Promise<Rule[]> {
  const { results } = await db
    .prepare(
      `SELECT * FROM rules
        WHERE (?1 IS NULL OR expires_at IS NULL OR expires_at > ?1) AND (?2 IS NULL OR instr(criteria, ?2) > 0)
        ORDER BY created_at DESC, id LIMIT ?3 OFFSET ?4`,
    )
    .bind(filter.activeAt ?? null, filter.cliContains ?? null, filter.limit, filter.offset)
    .all<RuleRow>();
  return results.map(fromRow);
}

export async function getRule(db: D1Database, id: string): Promise<Rule | null> {
  const row = await db.prepare("SELECT * FROM rules WHERE id = ?").bind(id).first<RuleRow>();
  return row ? fromRow(row) : null;
}

/**
 * A new rule, authored by the authenticated operator. `alongside` gives writes that commit with it (the
 * response stored under an Idempotency-Key).
 */
export async function createRule(db: D1Database, input: RuleInput, who: AuditActor, nowMs: number, alongside: (rule: Rule) => D1PreparedStatement[] = () => []): Promise<Rule> {
  const rule: Rule = {
    id: crypto.randomUUID(),
    criteria: input.criteria,
    action: input.action,
    reason: input.reason,
    label: input.label ?? null,
    author: who.actor,
    expiresAt: input.expiresAt ?? null,
    reportId: input.reportId ?? null,
    version: 1,
    createdAt: nowMs,
    updatedAt: nowMs,
  };
  const insert = db
    .prepare(
      `INSERT INTO rules (id, criteria, action, reason, label, author, expires_at, report_id, version, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(rule.id, JSON.stringify(rule.criteria), rule.action, rule.reason, rule.label, rule.author, rule.expiresAt, rule.reportId, rule.version, rule.createdAt, rule.updatedAt);
  await applyAudited(db, insert, { ...who, entity: "rule", entityId: rule.id, operation: "create", before: null, after: rule, atMs: nowMs }, { bumpsOriginVersion: true, alongside: alongside(rule) });
  return rule;
}

/**
 * Optimistic versioning: the write names the version it was based on (`If-Match` or `version`);
 * null means "whatever is current" and is only allowed for expire and delete.
 */
export async function replaceRule(db: D1Database, id: string, input: RuleInput, basedOn: number | null, who: AuditActor, nowMs: number): Promise<RuleWriteResult> {
  return writeRule(db, id, basedOn, "update", (current) => ({
    ...current,
    criteria: input.criteria,
    action: input.action,
    reason: input.reason,
    label: input.label ?? null,
    expiresAt: input.expiresAt ?? null,
    reportId: input.reportId ?? null,
  }), who, nowMs);
}

export async function expireRule(db: D1Database, id: string, basedOn: number | null, who: AuditActor, nowMs: number): Promise<RuleWriteResult> {
  return writeRule(db, id, basedOn, "expire", (current) => ({ ...current, expiresAt: Math.min(current.expiresAt ?? nowMs, nowMs) }), who, nowMs);
}

export async function deleteRule(db: D1Database, id: string, basedOn: number | null, who: AuditActor, nowMs: number): Promise<RuleWriteResult> {
  return writeRule(db, id, basedOn, "delete", null, who, nowMs);
}

async function writeRule(
  db: D1Database,
  id: string,
  basedOn: number | null,
  operation: "update" | "expire" | "delete",
  change: ((current: Rule) => Rule) | null,
  who: AuditActor,
  nowMs: number,
): Promise<RuleWriteResult> {
  const current = await getRule(db, id);
  if (!current) return { error: "ERR_NOT_FOUND" };
  if (basedOn !== null && basedOn !== current.version) return { error: "ERR_VERSION_CONFLICT", current };
  const next = change ? { ...change(current), version: current.version + 1, updatedAt: nowMs } : null;
  const statement = next
    ? db
        .prepare("UPDATE rules SET criteria = ?, action = ?, reason = ?, label = ?, author = ?, expires_at = ?, report_id = ?, version = ?, updated_at = ? WHERE id = ? AND version = ?")
        .bind(JSON.stringify(next.criteria), next.action, next.reason, next.label, next.author, next.expiresAt, next.reportId, next.version, next.updatedAt, id, current.version)
    : db.prepare("DELETE FROM rules WHERE id = ? AND version = ?").bind(id, current.version);
  const applied = await applyAudited(db, statement, { ...who, entity: "rule", entityId: id, operation, before: current, after: next, atMs: nowMs }, { bumpsOriginVersion: true });
  if (!applied) {
    // Another writer got in between our read and our write.
    const latest = await getRule(db, id);
    return latest ? { error: "ERR_VERSION_CONFLICT", current: latest } : { error: "ERR_NOT_FOUND" };
  }
  return { rule: next ?? current };
}
