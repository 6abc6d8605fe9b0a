import * as z from "zod";
import { applyAudited, type AuditActor } from "../../admin/audit-log";
import type { RoamingAnswer, RoamingLookup } from "./lookup";

/**
 * Roaming status kept in D1 (migrations/0004) and maintained through the admin API: for operators
 * without a live HLR/HSS or CAMARA feed, and for tests. No row means nobody knows: `unknown`.
 */
export const TABLE_SOURCE = "table";

export const roamingEntrySchema = z
  .object({
    status: z.enum(["roaming", "home", "not-mobile"]),
    visitedCountry: z.string().regex(/^[A-Z]{2}$/, "expected an ISO 3166 alpha-2 code").nullable().optional(),
    observedAt: z.iso.datetime({ offset: true }).transform((iso) => Date.parse(iso)).optional(),
    author: z.string().trim().min(1).max(128).optional(),
    version: z.number().int().min(0).optional(),
  })
  .strict()
  .refine((entry) => entry.status === "roaming" || !entry.visitedCountry, { path: ["visitedCountry"], message: "only a roaming subscriber has a visited country" });
export type RoamingEntryInput = z.infer<typeof roamingEntrySchema>;

interface RoamingRow {
  tn: string;
  status: "roaming" | "home" | "not-mobile";
  visited_country: string | null;
  observed_at: number;
  version: number;
}

const answerFromRow = (row: RoamingRow): RoamingAnswer => ({
  status: row.status,
  ...(row.visited_country ? { visitedCountry: row.visited_country } : {}),
  observedAt: row.observed_at,
  source: TABLE_SOURCE,
});

/** What the table answers for a number: its entry's status, or unknown when it has no entry. */
export const tableAnswer = (entry: RoamingAnswer | null): RoamingAnswer => entry ?? { status: "unknown", observedAt: null, source: TABLE_SOURCE, error: "no entry in the roaming table" };

export function createTableRoamingLookup(db: D1Database): RoamingLookup {
  return {
    async lookup(tn) {
      const row = await db.prepare("SELECT * FROM roaming_status WHERE tn = ?").bind(tn).first<RoamingRow>();
      return tableAnswer(row ? answerFromRow(row) : null);
    },
  };
}

/** A roaming table row as the admin API shows it: the answer, and the version a write must name. */
export type RoamingEntry = RoamingAnswer & { tn: string; version: number };

const entryFromRow = (row: RoamingRow): RoamingEntry => ({ tn: row.tn, ...answerFromRow(row), version: row.version });

export async function getRoamingEntry(db: D1Database, tn: string): Promise<RoamingEntry | null> {
  const row = await db.prepare("SELECT * FROM roaming_status WHERE tn = ?").bind(tn).first<RoamingRow>();
  return row ? entryFromRow(row) : null;
}

/** Entries by number, after `afterTn` (paging: the last number of the page before), at most `limit`. */
export async function listRoamingEntries(db: D1Database, afterTn: string, limit: number): Promise<RoamingEntry[]> {
  const { results } = await db.prepare("SELECT * FROM roaming_status WHERE tn > ? ORDER BY tn LIMIT ?").bind(afterTn, limit).all<RoamingRow>();
  return results.map(entryFromRow);
}

export type RoamingWriteResult = { entry: RoamingEntry } | { error: "ERR_NOT_FOUND" } | { error: "ERR_VERSION_CONFLICT"; current: RoamingEntry | null };

const conflictWith = async (db: D1Database, tn: string): Promise<RoamingWriteResult> => ({ error: "ERR_VERSION_CONFLICT", current: await getRoamingEntry(db, tn) });

/**
 * Writes an entry (issue 22 item 9). `basedOn` is the version the client read (If-Match; 0: no entry
 * yet); without one, the version read here. Either way the write only applies to that version, so of
 * two concurrent writers one gets a conflict, and the audit row's `before` is what the write replaced.
 */
export async function putRoamingEntry(db: D1Database, tn: string, input: RoamingEntryInput, basedOn: number | undefined, who: AuditActor, nowMs: number): Promise<RoamingWriteResult> {
  const current = await getRoamingEntry(db, tn);
  const currentVersion = current?.version ?? 0;
  if (basedOn !== undefined && basedOn !== currentVersion) return { error: "ERR_VERSION_CONFLICT", current };
  const row: RoamingRow = { tn, status: input.status, visited_country: input.visitedCountry ?? null, observed_at: input.observedAt ?? nowMs, version: currentVersion + 1 };
  const write = current
    ? db
        .prepare("UPDATE roaming_status SET status = ?, visited_country = ?, observed_at = ?, version = ? WHERE tn = ? AND version = ?")
        .bind(row.status, row.visited_country, row.observed_at, row.version, tn, currentVersion)
    : db.prepare("INSERT INTO roaming_status (tn, status, visited_country, observed_at, version) VALUES (?, ?, ?, ?, ?) ON CONFLICT (tn) DO NOTHING").bind(tn, row.status, row.visited_country, row.observed_at, row.version);
  const entry = entryFromRow(row);
  const applied = await applyAudited(db, write, { ...who, entity: "roaming", entityId: tn, operation: current ? "update" : "create", before: current, after: entry, atMs: nowMs }, { bumpsOriginVersion: false });
  return applied ? { entry } : conflictWith(db, tn);
}

/** Deletes an entry, at `basedOn` when given (If-Match), else at the version read here. */
export async function deleteRoamingEntry(db: D1Database, tn: string, basedOn: number | undefined, who: AuditActor, nowMs: number): Promise<RoamingWriteResult> {
  const current = await getRoamingEntry(db, tn);
  if (!current) return { error: "ERR_NOT_FOUND" };
  if (basedOn !== undefined && basedOn !== current.version) return { error: "ERR_VERSION_CONFLICT", current };
  const remove = db.prepare("DELETE FROM roaming_status WHERE tn = ? AND version = ?").bind(tn, current.version);
  const applied = await applyAudited(db, remove, { ...who, entity: "roaming", entityId: tn, operation: "delete", before: current, after: null, atMs: nowMs }, { bumpsOriginVersion: false });
  return applied ? { entry: current } : conflictWith(db, tn);
}
