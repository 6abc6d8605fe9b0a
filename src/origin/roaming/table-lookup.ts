import { z } from "zod";
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
  })
  .strict()
  .refine((entry) => entry.status === "roaming" || !entry.visitedCountry, { path: ["visitedCountry"], message: "only a roaming subscriber has a visited country" });
export type RoamingEntryInput = z.infer<typeof roamingEntrySchema>;

interface RoamingRow {
  tn: string;
  status: "roaming" | "home" | "not-mobile";
  visited_country: string | null;
  observed_at: number;
}

const answerFromRow = (row: RoamingRow): RoamingAnswer => ({
  status: row.status,
  ...(row.visited_country ? { visitedCountry: row.visited_country } : {}),
  observedAt: row.observed_at,
  source: TABLE_SOURCE,
});

export function createTableRoamingLookup(db: D1Database): RoamingLookup {
  return {
    async lookup(tn) {
      const row = await db.prepare("SELECT * FROM roaming_status WHERE tn = ?").bind(tn).first<RoamingRow>();
      return row ? answerFromRow(row) : { status: "unknown", observedAt: null, source: TABLE_SOURCE, error: "no entry in the roaming table" };
    },
  };
}

export async function getRoamingEntry(db: D1Database, tn: string): Promise<RoamingAnswer | null> {
  const row = await db.prepare("SELECT * FROM roaming_status WHERE tn = ?").bind(tn).first<RoamingRow>();
  return row ? answerFromRow(row) : null;
}

export async function putRoamingEntry(db: D1Database, tn: string, entry: RoamingEntryInput, who: AuditActor, nowMs: number): Promise<RoamingAnswer> {
  const before = await getRoamingEntry(db, tn);
  const row: RoamingRow = { tn, status: entry.status, visited_country: entry.visitedCountry ?? null, observed_at: entry.observedAt ?? nowMs };
  const upsert = db
    .prepare("INSERT INTO roaming_status (tn, status, visited_country, observed_at) VALUES (?, ?, ?, ?) ON CONFLICT (tn) DO UPDATE SET status = excluded.status, visited_country = excluded.visited_country, observed_at = excluded.observed_at")
    .bind(row.tn, row.status, row.visited_country, row.observed_at);
  const after = answerFromRow(row);
  await applyAudited(db, upsert, { ...who, entity: "roaming", entityId: tn, operation: before ? "update" : "create", before, after, atMs: nowMs }, { bumpsOriginVersion: false });
  return after;
}

export async function deleteRoamingEntry(db: D1Database, tn: string, who: AuditActor, nowMs: number): Promise<boolean> {
  const before = await getRoamingEntry(db, tn);
  const remove = db.prepare("DELETE FROM roaming_status WHERE tn = ?").bind(tn);
  return applyAudited(db, remove, { ...who, entity: "roaming", entityId: tn, operation: "delete", before, after: null, atMs: nowMs }, { bumpsOriginVersion: false });
}
