import { applyAudited, type AuditActor } from "../admin/audit-log";
import { yieldToEventLoop } from "../lib/yield";
import type { Action, EnforcementMode } from "../verdict/verdict";
import { KeyedRuleIndexBuilder, numberKey, ruleIdHash } from "./keyed-index";
import { RuleMatcherBuilder, type KeyedCriterion, type RuleBase, type RuleChanges } from "./matcher";
import type { Rule, RuleCriteria, RuleInput } from "./rule";

/**
 * Rules in D1 (migrations/0001, 0012). Writes are audited and versioned, and stamp each rule with the
 * origin version they bump to; the verdict path reads a compiled base (`loadRuleBase`), the changes
 * since (`loadRuleChanges`), and the rules on a number the keyed index hit (`readKeyedRules`) — each
 * only the published rules: an import's batch that does not publish stamps its rows with the version
 * it would bump to and moves nothing, and until the version moves no isolate enforces them.
 */
interface RuleRow {
  id: string;
  criteria: string;
  action: Action;
  mode: EnforcementMode;
  reason: string;
  label: string | null;
  author: string;
  expires_at: number | null;
  report_id: string | null;
  version: number;
  created_at: number;
  updated_at: number;
  /** Only where the query selects it (`PUBLISHED`): 1 or 0. */
  published?: number;
}

const fromRow = (row: RuleRow): Rule => ({
  id: row.id,
  criteria: JSON.parse(row.criteria) as RuleCriteria,
  action: row.action,
  mode: row.mode,
  reason: row.reason,
  label: row.label,
  author: row.author,
  expiresAt: row.expires_at,
  reportId: row.report_id,
  version: row.version,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

/**
 * A rule is published once the origin version has reached the version it was stamped with
 * (`changed_version`): then every isolate enforces it, within the refresh interval. A row of an import
 * whose publishing batch has not come is not, until the next change that moves the version.
 */
const PUBLISHED = "changed_version <= (SELECT version FROM origin_version WHERE id = 1)";

/** A rule as the admin API lists it: with whether it is published, and so enforced anywhere. */
export type ListedRule = Rule & { published: boolean };

const listedFromRow = (row: RuleRow): ListedRule => ({ ...fromRow(row), published: row.published === 1 });

export type RuleWriteResult = { rule: Rule } | { error: "ERR_NOT_FOUND" } | { error: "ERR_VERSION_CONFLICT"; current: Rule };

export interface RuleListFilter {
  /** Only rules still matching at this instant. */
  activeAt?: number;
  /** Only the published rules (true), or only those not yet published (false). */
  published?: boolean;
  /** Only rules whose CLI criterion mentions these digits, or whose CLI prefix or range covers them. */
  cliContains?: string;
  limit: number;
  /** Skip this many (offset paging: a rule deleted meanwhile shifts the pages, so one may be missed). */
  offset: number;
  /** Only rules after this one in the listing's order (cursor paging: stable while rules change). */
  after?: RuleCursor;
}

/** A place in the listing's order (newest first, then by id): where the last page ended. */
export interface RuleCursor {
  createdAt: number;
  id: string;
}

const CURSOR = /^(\d{1,15})_([A-Za-z0-9._-]{1,128})$/;

/** The cursor as the API passes it, `<createdAt>_<id>`; null when the text is none. */
export function parseRuleCursor(text: string): RuleCursor | null {
  const match = CURSOR.exec(text);
  return match ? { createdAt: Number(match[1]), id: match[2]! } : null;
}

export const ruleCursorOf = (rule: Pick<Rule, "createdAt" | "id">): string => `${rule.createdAt}_${rule.id}`;

/** Every wait a compile makes on the store goes through this: a bound on it (src/origin/snapshot.ts). */
export type StoreWait = <T>(pending: Promise<T>) => Promise<T>;

/** Rows per page: small enough that one page's compile is a few milliseconds of the isolate's time. */
const WHOLE_PAGE_ROWS = 500;
const KEYED_PAGE_ROWS = 5_000;
const KEY_COLUMNS: Record<KeyedCriterion, string> = { cli: "cli_key", destination: "destination_key" };

/**
 * Compiles the rules in force at `atMs` and published at `version` into a base, page by page, so that
 * neither the rows nor the compile of a million rules sits in the isolate at once: rules held whole
 * in pages by id (migrations/0012's partial index), exact-number rules by key, in the order the keyed
 * index keeps them. Between pages the isolate yields a turn of its event loop, so that requests arriving and
 * timers due (a verdict's deadline) are served: a chain of store answers that come back at once (as
 * a local D1 answers) would otherwise hold them all until the last page. `version` is the origin
 * version read before the first page: a rule stamped after it (changed while the pages are read, or
 * not yet published) is left out, and is among the changes since it once published.
 */
export async function loadRuleBase(db: D1Database, version: number, atMs: number, wait: StoreWait): Promise<RuleBase> {
  const whole = new RuleMatcherBuilder();
  const wholeRules: Rule[] = [];
  for (let after = ""; ; ) {
    const { results } = await wait(
      db
        .prepare("SELECT * FROM rules WHERE cli_key IS NULL AND destination_key IS NULL AND id > ?1 AND (expires_at IS NULL OR expires_at > ?2) AND changed_version <= ?4 ORDER BY id LIMIT ?3")
        .bind(after, atMs, WHOLE_PAGE_ROWS, version)
        .all<RuleRow>(),
    );
    for (const row of results) {
      const rule = fromRow(row);
      whole.add(rule);
      wholeRules.push(rule);
    }
    if (results.length < WHOLE_PAGE_ROWS) break;
    after = results[results.length - 1]!.id;
    await yieldToEventLoop();
  }
  const keyed = { cli: await loadKeyedIndex(db, "cli", version, atMs, wait), destination: await loadKeyedIndex(db, "destination", version, atMs, wait) };
  return { version, whole: whole.build(), wholeRules, keyed };
}

async function loadKeyedIndex(db: D1Database, criterion: KeyedCriterion, version: number, atMs: number, wait: StoreWait) {
  const column = KEY_COLUMNS[criterion];
  const index = new KeyedRuleIndexBuilder();
  const page = db.prepare(
    `SELECT ${column}, action, mode, expires_at, id, rowid FROM rules
      WHERE ${column} IS NOT NULL AND (${column}, rowid) > (?1, ?2) AND (expires_at IS NULL OR expires_at > ?3) AND changed_version <= ?5
      ORDER BY ${column}, rowid LIMIT ?4`,
  );
  for (let afterKey = 0, afterRow = 0; ; ) {
    const rows = await wait(page.bind(afterKey, afterRow, atMs, KEYED_PAGE_ROWS, version).raw<[key: number, action: Action, mode: EnforcementMode, expiresAt: number | null, id: string, rowid: number]>());
    for (const [key, action, mode, expiresAt, id] of rows) index.append(key, { action, mode, expiresAt, idHash: ruleIdHash(id) });
    if (rows.length < KEYED_PAGE_ROWS) return index.build();
    [afterKey, , , , , afterRow] = rows[rows.length - 1]!;
    await yieldToEventLoop();
  }
}

/**
 * The rules published since origin version `since` (as they are now, expired or not) and the ids of
 * those deleted since; null when there are more than `limit` of either, which a new base answers better.
 * Published as the store is when read, not as at the snapshot's version: a rule rewritten while a base
 * was compiled is left out of the base and must be here, and a deletion is always published.
 */
export async function loadRuleChanges(db: D1Database, since: number, limit: number, wait: StoreWait): Promise<RuleChanges | null> {
  const [written, removed] = await wait(
    db.batch([
      db.prepare(`SELECT * FROM rules WHERE changed_version > ?1 AND ${PUBLISHED} ORDER BY changed_version LIMIT ?2`).bind(since, limit + 1),
      db.prepare("SELECT id FROM rule_tombstones WHERE changed_version > ?1 LIMIT ?2").bind(since, limit + 1),
    ]),
  );
  const rows = (written!.results ?? []) as RuleRow[];
  const removedIds = ((removed!.results ?? []) as { id: string }[]).map(({ id }) => id);
  if (rows.length > limit || removedIds.length > limit) return null;
  return { rules: rows.map(fromRow), removedIds };
}

/**
 * The published rules, as they are now, whose only criterion is exactly this number (what a keyed-index
 * hit reads). Published as the store is now, in the same query, rather than at the snapshot's version:
 * a rule rewritten since the snapshot is enforced as rewritten, not dropped until the next reload.
 */
export async function readKeyedRules(db: D1Database, criterion: KeyedCriterion, tn: string): Promise<Rule[]> {
  const key = numberKey(tn);
  if (key === null) return [];
  const { results } = await db.prepare(`SELECT * FROM rules WHERE ${KEY_COLUMNS[criterion]} = ?1 AND ${PUBLISHED}`).bind(key).all<RuleRow>();
  return results.map(fromRow);
}

/**
 * A rule the searched digits are about: its CLI criterion names them, or its CLI prefix or range covers
 * them. A reported number is searched whole, and the prefix rule blocking it names other digits.
 */
const CLI_FILTER = `(?2 IS NULL OR instr(criteria, ?2) > 0
  OR substr(?2, 1, length(criteria ->> '$.cli.prefix')) = criteria ->> '$.cli.prefix'
  OR (length(?2) = length(criteria ->> '$.cli.from') AND ?2 BETWEEN criteria ->> '$.cli.from' AND criteria ->> '$.cli.to'))`;
/** The listing's filters; after a cursor, `created_at <= ?6` lets the index (migration 0015) start the page where the last one ended. */
const LIST_FILTERS = `(?1 IS NULL OR expires_at IS NULL OR expires_at > ?1) AND ${CLI_FILTER} AND (?5 IS NULL OR (${PUBLISHED}) = ?5)`;
const LIST_ORDER = "ORDER BY created_at DESC, id LIMIT ?3 OFFSET ?4";
const LISTED = `SELECT *, ${PUBLISHED} AS published FROM rules`;
const LIST_RULES = `${LISTED} WHERE ${LIST_FILTERS} ${LIST_ORDER}`;
const LIST_RULES_AFTER = `${LISTED} WHERE created_at <= ?6 AND (created_at < ?6 OR id > ?7) AND ${LIST_FILTERS} ${LIST_ORDER}`;

export async function listRules(db: D1Database, filter: RuleListFilter): Promise<ListedRule[]> {
  const { activeAt = null, cliContains = null, limit, offset, after } = filter;
  const published = filter.published === undefined ? null : Number(filter.published);
  const statement =
    after === undefined
      ? db.prepare(LIST_RULES).bind(activeAt, cliContains, limit, offset, published)
      : db.prepare(LIST_RULES_AFTER).bind(activeAt, cliContains, limit, offset, published, after.createdAt, after.id);
  const { results } = await statement.all<RuleRow>();
  return results.map(listedFromRow);
}

export async function getRule(db: D1Database, id: string): Promise<Rule | null> {
  const row = await db.prepare("SELECT * FROM rules WHERE id = ?").bind(id).first<RuleRow>();
  return row ? fromRow(row) : null;
}

/** A rule as `GET /v1/admin/rules/{id}` shows it: with whether it is published. */
export async function getListedRule(db: D1Database, id: string): Promise<ListedRule | null> {
  const row = await db.prepare(`${LISTED} WHERE id = ?`).bind(id).first<RuleRow>();
  return row ? listedFromRow(row) : null;
}

/**
 * The origin version the write's batch bumps to, which the rows it changes are stamped with: an isolate
 * that compiled its base at version B reads every row stamped after B as a change.
 */
const NEXT_ORIGIN_VERSION = "(SELECT version + 1 FROM origin_version WHERE id = 1)";

/** A rule as written (or previewed): its author is the authenticated operator who wrote it (issue 22 item 10). */
export function newRule(id: string, input: RuleInput, who: AuditActor, nowMs: number): Rule {
  return {
    id,
    criteria: input.criteria,
    action: input.action,
    mode: input.mode ?? "enforce",
    reason: input.reason,
    label: input.label ?? null,
    author: who.actor,
    expiresAt: input.expiresAt ?? null,
    reportId: input.reportId ?? null,
    version: 1,
    createdAt: nowMs,
    updatedAt: nowMs,
  };
}

/**
 * A new rule, authored by the authenticated operator. `alongside` gives writes that commit with it (the
 * response stored under an Idempotency-Key).
 */
export async function createRule(db: D1Database, input: RuleInput, who: AuditActor, nowMs: number, alongside: (rule: Rule) => D1PreparedStatement[] = () => []): Promise<Rule> {
  const rule = newRule(crypto.randomUUID(), input, who, nowMs);
  const insert = db
    .prepare(
      `INSERT INTO rules (id, criteria, action, mode, reason, label, author, expires_at, report_id, version, created_at, updated_at, changed_version)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ${NEXT_ORIGIN_VERSION})`,
    )
    .bind(rule.id, JSON.stringify(rule.criteria), rule.action, rule.mode, rule.reason, rule.label, rule.author, rule.expiresAt, rule.reportId, rule.version, rule.createdAt, rule.updatedAt);
  await applyAudited(db, insert, { ...who, entity: "rule", entityId: rule.id, operation: "create", before: null, after: rule, atMs: nowMs }, { bumpsOriginVersion: true, alongside: alongside(rule) });
  return rule;
}

/** The most rules one import request carries: within the admin API's 1 MiB body. */
export const MAX_IMPORT_BATCH = 1_000;

export interface ImportOutcome {
  /** Every rule of the batch, by position: the one written now, or the one an earlier attempt wrote. */
  ids: string[];
  created: number;
  /** The origin version after a publishing batch; null when the batch did not publish. */
  publishedVersion: number | null;
}

/** The audit log's id for a publish: it changes no one rule, but the version every rule is published against. */
const PUBLICATION_ENTITY_ID = "origin-version";

/**
 * Writes a batch of an import in one transaction, each rule audited, with no version bump unless
 * `publish`: an import of many batches moves the origin version once, at its end, so isolates compile
 * its rules once instead of after every line (issue 22 item 7). A rule's id derives from the import's
 * id and its position in the import, so a batch sent again (after an answer lost to a timeout, or a
 * resumed import overlapping the last one) writes nothing twice.
 */
export async function importRules(db: D1Database, importId: string, batch: { position: number; input: RuleInput }[], who: AuditActor, nowMs: number, publish: boolean): Promise<ImportOutcome> {
  const rules = await Promise.all(batch.map(async ({ position, input }) => newRule(await importedRuleId(importId, position), input, who, nowMs)));
  const rows = JSON.stringify(rules);
  const statements = [
    // Audited first: the rows not yet in the table are the ones the next statement creates.
    db
      .prepare(
        `INSERT INTO audit_log (at, actor, author, entity, entity_id, operation, before, after)
         SELECT ?1, ?3, ?4, 'rule', value ->> 'id', 'create', NULL, value FROM json_each(?2)
          WHERE NOT EXISTS (SELECT 1 FROM rules WHERE rules.id = value ->> 'id')`,
      )
      .bind(nowMs, rows, who.actor, who.author),
    db
      .prepare(
        `INSERT INTO rules (id, criteria, action, mode, reason, label, author, expires_at, report_id, version, created_at, updated_at, changed_version)
         SELECT value ->> 'id', value -> 'criteria', value ->> 'action', value ->> 'mode', value ->> 'reason', value ->> 'label', value ->> 'author', value ->> 'expiresAt',
                value ->> 'reportId', value ->> 'version', value ->> 'createdAt', value ->> 'updatedAt', ${NEXT_ORIGIN_VERSION}
           FROM json_each(?1) WHERE true
         ON CONFLICT (id) DO NOTHING`,
      )
      .bind(rows),
  ];
  if (publish) {
    // Audited as a publish too, as POST /v1/admin/rules/publish is: it puts in force whatever the store
    // holds unpublished, this batch's rules and any an abandoned import left, even with no rules of its own.
    statements.push(
      db
        .prepare(
          `INSERT INTO audit_log (at, actor, author, entity, entity_id, operation, before, after)
           SELECT ?1, ?2, ?3, 'rule', ?4, 'publish',
                  json_object('version', version, 'unpublished', (SELECT count(*) FROM rules WHERE changed_version > origin_version.version)),
                  json_object('version', version + 1, 'unpublished', 0)
             FROM origin_version WHERE id = 1`,
        )
        .bind(nowMs, who.actor, who.author, PUBLICATION_ENTITY_ID),
      db.prepare("UPDATE origin_version SET version = version + 1 WHERE id = 1 RETURNING version"),
    );
  }
  const results = await db.batch<{ version: number }>(statements);
  return { ids: rules.map((rule) => rule.id), created: results[1]!.meta.changes, publishedVersion: publish ? (results[3]!.results[0]?.version ?? null) : null };
}

/** The origin version, and how many rules are stamped after it: those no isolate enforces yet. */
export interface Publication {
  version: number;
  unpublished: number;
}

/** Tries before a publish gives up on a version that other writes keep moving. */
const PUBLISH_ATTEMPTS = 3;

/**
 * Moves the origin version, which publishes every rule not yet published (an import whose publishing
 * batch never came), audited with the version and the count before and after. The move is made only
 * from the version the count was read at, so the audit row says what this publish put in force; when
 * another write moved it meanwhile (publishing them itself), the count is read again. Null when other
 * writes moved it at every attempt.
 */
export async function publishRules(db: D1Database, who: AuditActor, nowMs: number): Promise<Publication | null> {
  for (let attempt = 0; attempt < PUBLISH_ATTEMPTS; attempt++) {
    const before = (await db
      .prepare("SELECT version, (SELECT count(*) FROM rules WHERE changed_version > origin_version.version) AS unpublished FROM origin_version WHERE id = 1")
      .first<Publication>())!;
    const after: Publication = { version: before.version + 1, unpublished: 0 };
    const bump = db.prepare("UPDATE origin_version SET version = version + 1 WHERE id = 1 AND version = ?1").bind(before.version);
    const entry = { ...who, entity: "rule", entityId: PUBLICATION_ENTITY_ID, operation: "publish", before, after, atMs: nowMs } as const;
    if (await applyAudited(db, bump, entry, { bumpsOriginVersion: false })) return after;
  }
  return null;
}

/** A UUID-shaped id (RFC 9562 version 8, name-based) from SHA-256 of the import's id and the rule's position in it. */
async function importedRuleId(importId: string, position: number): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${importId}:${position}`)));
  digest[6] = (digest[6]! & 0x0f) | 0x80;
  digest[8] = (digest[8]! & 0x3f) | 0x80;
  const hex = [...digest.slice(0, 16)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
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
    // A replacement that leaves the mode out keeps it: a monitored rule is enforced only when a write says so.
    mode: input.mode ?? current.mode,
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
        .prepare(
          `UPDATE rules SET criteria = ?, action = ?, mode = ?, reason = ?, label = ?, author = ?, expires_at = ?, report_id = ?, version = ?, updated_at = ?, changed_version = ${NEXT_ORIGIN_VERSION}
            WHERE id = ? AND version = ?`,
        )
        .bind(JSON.stringify(next.criteria), next.action, next.mode, next.reason, next.label, next.author, next.expiresAt, next.reportId, next.version, next.updatedAt, id, current.version)
    : db.prepare("DELETE FROM rules WHERE id = ? AND version = ?").bind(id, current.version);
  // A deleted rule leaves a tombstone, so an isolate whose base still holds it drops it with the next changes it reads.
  const tombstone = next
    ? undefined
    : db
        .prepare(
          `INSERT INTO rule_tombstones (id, changed_version) SELECT ?1, version + 1 FROM origin_version WHERE id = 1 AND changes() = 1
           ON CONFLICT (id) DO UPDATE SET changed_version = excluded.changed_version`,
        )
        .bind(id);
  const applied = await applyAudited(db, statement, { ...who, entity: "rule", entityId: id, operation, before: current, after: next, atMs: nowMs }, { bumpsOriginVersion: true, chained: tombstone });
  if (!applied) {
    // Another writer got in between our read and our write.
    const latest = await getRule(db, id);
    return latest ? { error: "ERR_VERSION_CONFLICT", current: latest } : { error: "ERR_NOT_FOUND" };
  }
  return { rule: next ?? current };
}
