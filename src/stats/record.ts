import { ORIGIN_CHECK_IDS } from "../origin/check-ids";
import { ruleHitsOf } from "../origin/checks/operator-rules";
import type { ClassifiedIngress } from "../origin/ingress";
import type { Check } from "../verdict/check";
import { wouldHaveAction } from "../verdict/policy";
import type { Action, MonitoredAction } from "../verdict/verdict";
import { TimeoutError, type BackgroundWork } from "../lib/timeout";
import { WriteBehind, type BoundedCall } from "../lib/write-behind";
import { d1Rows } from "../lib/storage-rows";
import { recordBackgroundDrops, recordBackgroundTimeout, recordStoreRows } from "../metrics/record";

/**
 * Traceback statistics (issue 4; cli-spoofing.md §3 check 10 and §4 "log the check id, the evidence and
 * the ingress carrier"): counters per UTC hour, by action, failed check, deciding check, ingress
 * carrier, spoofed calls per carrier, and blocked CLIs. Counting happens in memory; the isolate's
 * counts go to D1 in one write-behind batch (src/lib/write-behind.ts) after the responses, as one page
 * per hour holding every counter of the batch (migrations/0014, issue 19): a row per counter cost mixed
 * traffic nearly a row per verdict, one per blocked CLI and a dozen per flush for the rest.
 */
export interface VerdictStatsEntry {
  action: Action;
  /** The verdict's monitored findings: counted apart, as what would have been done. */
  monitored?: MonitoredAction[];
  /** POLICY_MODE=monitor: no operator rule was enforced, an allowing one (which lists nothing under `monitored`) included. */
  policyMonitored: boolean;
  decidedBy: string | null;
  checks: Check[];
  ingress: Pick<ClassifiedIngress, "carrier" | "carrierName">;
  /** Canonical TN of the presented CLI, when there was one. */
  cli: string | null;
  atMs: number;
}

/**
 * What is counted per hour. `monitored` counts the verdicts that monitored rules or policy entries
 * would have acted on, by the most severe action they would have taken. `rule` counts, by rule id, the
 * verdicts an operator rule matched and was enforced on (deciding or not: a match is a hit),
 * `rule-monitored` those it matched in monitor mode (its own, or POLICY_MODE=monitor).
 */
export const STATS_DIMENSIONS = ["total", "action", "monitored", "check", "decided-by", "carrier", "carrier-spoofed", "blocked-cli", "rule", "rule-monitored"] as const;
export type StatsDimension = (typeof STATS_DIMENSIONS)[number];
/**
 * The dimensions whose keys are not a small fixed set: a rolled-up day keeps only its most counted keys
 * of these (src/stats/retention.ts), and /v1/stats lists their top N (src/stats/read.ts topKeys). A new
 * such dimension is added here.
 */
export const UNBOUNDED_DIMENSIONS = ["blocked-cli"] as const satisfies readonly StatsDimension[];
export type UnboundedDimension = (typeof UNBOUNDED_DIMENSIONS)[number];
/** Hits per rule, keyed by rule id: bounded by the rules table, not by callers, so a day keeps every key; read by id (src/stats/read.ts readRuleHits). */
export const RULE_DIMENSIONS = ["rule", "rule-monitored"] as const satisfies readonly StatsDimension[];
/** The dimensions whose keys form a small fixed set (actions, check ids, carriers): a day keeps every key. */
export const SMALL_DIMENSIONS = STATS_DIMENSIONS.filter((dimension) => !([...UNBOUNDED_DIMENSIONS, ...RULE_DIMENSIONS] as readonly string[]).includes(dimension));
/** `'total', 'action'`: dimensions as an SQL IN list (the constants above, never input). */
export const sqlDimensionList = (dimensions: readonly StatsDimension[]) => dimensions.map((dimension) => `'${dimension}'`).join(", ");

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

const TASK = "write-behind:stats";
const pending = new Map<string, number>();
const SEPARATOR = "\u0000";
/** Counters per D1 batch (one transaction): what a write that times out can take with it, and so the most a page holds. */
export const COUNTERS_PER_BATCH = 250;
/**
 * Batches one write takes at most: the write-behind checks its 10 s span between writes, so with a D1 slow
 * but inside BACKGROUND_TIMEOUT_MS a write of every waiting counter (up to 40 batches) would hold its flush,
 * and the slot every later flush waits on, for minutes, past what the runtime lets a waitUntil run.
 */
const BATCHES_PER_WRITE = 4;
/** Distinct counters waiting for D1 are capped (a D1 outage with many blocked CLIs cannot grow memory); the rest are counted as dropped. */
export const MAX_PENDING_COUNTERS = 10_000;
let db: D1Database | null = null;

const writer = new WriteBehind({ pending: () => pending.size, write: (bounded) => flushPending(db!, bounded) }, 1_000, TASK, recordBackgroundTimeout);

/**
 * Adds to a waiting counter, or starts one while fewer than MAX_PENDING_COUNTERS wait; otherwise the
 * increment is dropped and counted. Drops are counted in increments (README "Loss bounds"): a refused
 * counter going back may carry many verdicts' counts.
 */
function keep(id: string, increment: number) {
  const current = pending.get(id);
  if (current === undefined && pending.size >= MAX_PENDING_COUNTERS) recordBackgroundDrops(TASK, increment);
  else pending.set(id, (current ?? 0) + increment);
}

/** A counter's id: its dimension, hour and key. */
const count = (hour: string, dimension: StatsDimension, key: string) => keep([dimension, hour, key].join(SEPARATOR), 1);

export function recordVerdictStats(entry: VerdictStatsEntry, deps: BackgroundWork & { db: D1Database }): void {
  const hour = hourOf(entry.atMs);
  const carrier = entry.ingress.carrierName ?? entry.ingress.carrier ?? UNKNOWN_CARRIER;
  const failed = entry.checks.filter((check) => check.result === "fail").map((check) => check.id);
  count(hour, "total", "all");
  count(hour, "action", entry.action);
  const wouldHave = wouldHaveAction(entry.monitored);
  if (wouldHave) count(hour, "monitored", wouldHave);
  count(hour, "carrier", carrier);
  if (entry.decidedBy) count(hour, "decided-by", entry.decidedBy);
  for (const id of new Set(failed)) count(hour, "check", id);
  if (failed.some((id) => SPOOFING_CHECKS.has(id))) count(hour, "carrier-spoofed", carrier);
  if (entry.action === "block" && entry.cli) count(hour, "blocked-cli", entry.cli);
  for (const hit of ruleHitsOf(entry.checks, entry.monitored, entry.policyMonitored)) count(hour, hit.monitored ? "rule-monitored" : "rule", hit.ruleId);
  db = deps.db;
  writer.schedule(deps);
}

const INSERT_PAGE = "INSERT INTO stats_pages (hour, page, counts) VALUES (?, ?, ?)";

/**
 * A page's id, unique without asking D1: the isolate's random id (drawn on the first flush: Workers
 * refuse random values at startup) and the flush's sequence. A refused page's counts are written again
 * under a new id.
 */
let writerId: string | null = null;
let pagesWritten = 0;
const nextPageId = () => `${(writerId ??= crypto.randomUUID())}:${++pagesWritten}`;

/** A batch's statements: one page per hour, {dimension: {key: count}} (migrations/0014). */
function batchStatements(database: D1Database, batch: [string, number][]): D1PreparedStatement[] {
  const pages = new Map<string, Record<string, Record<string, number>>>();
  for (const [id, increment] of batch) {
    const [dimension, hour, key] = id.split(SEPARATOR) as [StatsDimension, string, string];
    const page = pages.get(hour) ?? {};
    (page[dimension] ??= {})[key] = increment;
    pages.set(hour, page);
  }
  return [...pages].map(([hour, counts]) => database.prepare(INSERT_PAGE).bind(hour, nextPageId(), JSON.stringify(counts)));
}

/**
 * Writes the counters that waited when the write began, at most BATCHES_PER_WRITE batches of them, batch by batch (the first in the map, which
 * keeps them in the order they started). A counter started meanwhile waits for the write-behind's next
 * batch: one verdict during each write on a busy isolate starts a few, and a write that took them too would
 * never end while traffic lasts, holding its flush past the span src/lib/write-behind.ts bounds it to.
 * Counts D1 refused go back into the pending map, for the next flush; a batch whose call timed out may
 * still land, so it is not written again (a count is never added twice) and is counted as dropped.
 */
async function flushPending(database: D1Database, bounded: BoundedCall): Promise<boolean> {
  for (let waiting = Math.min(pending.size, COUNTERS_PER_BATCH * BATCHES_PER_WRITE); waiting > 0 && pending.size > 0; ) {
    const batch: [string, number][] = [];
    for (const entry of pending) {
      if (batch.push(entry) === Math.min(COUNTERS_PER_BATCH, waiting)) break;
    }
    waiting -= batch.length;
    for (const [id] of batch) pending.delete(id);
    try {
      recordStoreRows("stats", d1Rows(await bounded(database.batch(batchStatements(database, batch)))));
    } catch (error) {
      if (error instanceof TimeoutError) recordBackgroundDrops(TASK, batch.reduce((increments, [, increment]) => increments + increment, 0));
      else for (const [id, increment] of batch) keep(id, increment);
      console.error(JSON.stringify({ level: "error", event: "stats-write-failed", error: String(error), counters: batch.length, kept: !(error instanceof TimeoutError) }));
      return false;
    }
  }
  return true;
}
