import { ORIGIN_CHECK_IDS } from "../origin/check-ids";
import type { ClassifiedIngress } from "../origin/ingress";
import type { Check } from "../verdict/check";
import type { Action } from "../verdict/verdict";
import { WriteBehind } from "../lib/write-behind";

/**
 * Traceback statistics (issue 4; cli-spoofing.md §3 check 10 and §4 "log the check id, the evidence and
 * the ingress carrier"): counters per UTC hour, by action, failed check, deciding check, ingress
 * carrier, spoofed calls per carrier, and blocked CLIs. Counting happens in memory; the isolate's
 * counts go to D1 in one write-behind batch (src/lib/write-behind.ts) after the responses.
 */
export interface VerdictStatsEntry {
  action: Action;
  decidedBy: string | null;
  checks: Check[];
  ingress: Pick<ClassifiedIngress, "carrier" | "carrierName">;
  /** Canonical TN of the presented CLI, when there was one. */
  cli: string | null;
  atMs: number;
}

export type StatsDimension = "total" | "action" | "check" | "decided-by" | "carrier" | "carrier-spoofed" | "blocked-cli";

/** Failed checks that mean the presented CLI was not the caller's to present. */
const SPOOFING_CHECKS: ReadonlySet<string> = new Set([
  ORIGIN_CHECK_IDS.format,
  ORIGIN_CHECK_IDS.allocated,
  ORIGIN_CHECK_IDS.type,
  ORIGIN_CHECK_IDS.doNotOriginate,
  ORIGIN_CHECK_IDS.nationalOnInternational,
  ORIGIN_CHECK_IDS.roaming,
  ORIGIN_CHECK_IDS.ownNumberOffNet,
  ORIGIN_CHECK_IDS.operatorRules,
]);

export const UNKNOWN_CARRIER = "(unknown)";
export const hourOf = (epochMs: number) => new Date(epochMs).toISOString().slice(0, 13);

const pending = new Map<string, number>();
const SEPARATOR = "\u0000";
const STATEMENTS_PER_BATCH = 50;
/** Distinct counters waiting for D1 are capped (a D1 outage with many blocked CLIs cannot grow memory); the rest are counted as dropped. */
const MAX_PENDING_COUNTERS = 10_000;
let dropped = 0;
let db: D1Database | null = null;

const writer = new WriteBehind({ pending: () => pending.size, write: () => flushPending(db!) }, 1_000);

function count(hour: string, dimension: StatsDimension, key: string) {
  const id = [hour, dimension, key].join(SEPARATOR);
  const current = pending.get(id);
  if (current === undefined && pending.size >= MAX_PENDING_COUNTERS) dropped++;
  else pending.set(id, (current ?? 0) + 1);
}

export function recordVerdictStats(entry: VerdictStatsEntry, deps: { db: D1Database; waitUntil: (promise: Promise<unknown>) => void }): void {
  const hour = hourOf(entry.atMs);
  const carrier = entry.ingress.carrierName ?? entry.ingress.carrier ?? UNKNOWN_CARRIER;
  const failed = entry.checks.filter((check) => check.result === "fail").map((check) => check.id);
  count(hour, "total", "all");
  count(hour, "action", entry.action);
  count(hour, "carrier", carrier);
  if (entry.decidedBy) count(hour, "decided-by", entry.decidedBy);
  for (const id of new Set(failed)) count(hour, "check", id);
  if (failed.some((id) => SPOOFING_CHECKS.has(id))) count(hour, "carrier-spoofed", carrier);
  if (entry.action === "block" && entry.cli) count(hour, "blocked-cli", entry.cli);
  db = deps.db;
  writer.schedule(deps.waitUntil);
}

/** Writes batch by batch; counts that fail to write go back into the pending map. */
async function flushPending(database: D1Database): Promise<boolean> {
  if (dropped > 0) {
    console.error(JSON.stringify({ level: "error", event: "stats-counts-dropped", dropped, because: `more than ${MAX_PENDING_COUNTERS} distinct counters waited for D1` }));
    dropped = 0;
  }
  while (pending.size > 0) {
    const batch = [...pending].slice(0, STATEMENTS_PER_BATCH);
    for (const [id] of batch) pending.delete(id);
    try {
      await database.batch(
        batch.map(([id, increment]) => {
          const [hour, dimension, key] = id.split(SEPARATOR);
          return database
            .prepare("INSERT INTO stats_counters (hour, dimension, key, count) VALUES (?, ?, ?, ?) ON CONFLICT (hour, dimension, key) DO UPDATE SET count = count + excluded.count")
            .bind(hour, dimension, key, increment);
        }),
      );
    } catch (error) {
      for (const [id, increment] of batch) pending.set(id, (pending.get(id) ?? 0) + increment);
      console.error("traceback statistics write failed; counts kept for the next flush", error);
      return false;
    }
  }
  return true;
}
