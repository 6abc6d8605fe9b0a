import { DurableObject } from "cloudflare:workers";
import { createdWithRowid } from "../lib/durable-sql";
import {
  DISTINCT_IN_WINDOW,
  DISTINCT_IN_WINDOW_UP_TO,
  EVENTS_IN_WINDOW,
  RECORD_EVENT,
  RECORD_SIGHTING,
  SWEEP_START,
  SWEEPS,
  type SweepPosition,
  type SweepStatements,
  VELOCITY_TABLES,
  VELOCITY_TABLES_FROM_ROWID,
} from "./velocity-sql";

/**
 * One event for a sliding-window counter. `value` null counts events (calls per CLI); a value counts
 * distinct values (destinations per CLI, CLIs per trunk).
 */
export interface Observation {
  /** `<counter>:<subject>`, e.g. `calls-per-cli:77272501234`. */
  key: string;
  value: string | null;
  atMs: number;
  windowMs: number;
  /**
   * For distinct counts: the count at which counting may stop (the limit plus one), since past it the
   * verdict is the same. Absent: counted in full.
   */
  countUpTo?: number;
}

/** A counter's value over its window ending at `atMs`, the latest observation of its key. */
export interface Count {
  key: string;
  count: number;
  atMs: number;
  /** Counting stopped at the observation's `countUpTo`: there are at least `count`. */
  capped: boolean;
}

/** No configured window is longer (src/config.ts caps windows at a day); rows older than this count for nothing. */
const HORIZON_MS = 86_400_000;
/**
 * Rows a sweep step visits in each table, per observation in the batch: an observation adds at most
 * one row to a table, so a step visits twice what the batch can have added, and a pass over a table
 * outruns its growth (a table holds at most about twice its horizon's rows). The step scales with
 * the batch, not with the table: an object takes many small batches, and rows read are billed too.
 */
const SWEEP_ROWS_PER_OBSERVATION = 2;
/** The sweep's positions are kept in storage this often (batch time), so a restarted object goes on from near where it stopped. */
const SWEEP_SAVED_EVERY_MS = 60_000;
const SWEEP_STORAGE_KEY = "velocity-sweep";

interface CountRow extends Record<string, SqlStorageValue> {
  count: number;
}

interface BoundaryRow extends Record<string, SqlStorageValue> {
  key: string;
  rest: string | number;
}

interface Sweep {
  events: SweepPosition;
  sightings: SweepPosition;
}

const isPosition = (value: unknown): value is SweepPosition =>
  Array.isArray(value) && value.length === 2 && typeof value[0] === "string" && (typeof value[1] === "string" || typeof value[1] === "number");
const storedSweep = (value: unknown): Sweep => {
  const sweep = value as Partial<Sweep> | undefined;
  return { events: isPosition(sweep?.events) ? sweep.events : SWEEP_START, sightings: isPosition(sweep?.sightings) ? sweep.sightings : SWEEP_START };
};

/**
 * Sliding-window counters for velocity and rotation detection (cli-spoofing.md §3 check 11). Events
 * are counted in one-second buckets (exact to the second, bounded storage per key) and distinct values
 * by their last sighting; each batch is applied and answered with the keys' current counts in one
 * request, so the isolate learns the counts from the update it sends anyway. Each batch also takes one
 * step of a sweep through both tables that deletes rows past the horizon (src/abuse/velocity-sql.ts
 * says why there is no index on age).
 */
export class VelocityCounter extends DurableObject {
  private readonly sweep: Sweep;
  private sweepSavedAtMs = Number.NEGATIVE_INFINITY;

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    ctx.storage.transactionSync(() => sql.exec(createdWithRowid(sql, "events") ? VELOCITY_TABLES_FROM_ROWID : VELOCITY_TABLES));
    this.sweep = storedSweep(ctx.storage.kv.get(SWEEP_STORAGE_KEY));
  }

  observe(observations: Observation[]): Count[] {
    if (observations.length === 0) return [];
    const sql = this.ctx.storage.sql;
    const latest = new Map<string, Observation>();
    for (const observation of observations) {
      if (observation.value === null) {
        sql.exec(RECORD_EVENT, observation.key, Math.floor(observation.atMs / 1000));
      } else {
        sql.exec(RECORD_SIGHTING, observation.key, observation.value, observation.atMs);
      }
      const known = latest.get(observation.key);
      if (!known || known.atMs <= observation.atMs) latest.set(observation.key, observation);
    }
    const counts = [...latest.values()].map(({ key, value, atMs, windowMs, countUpTo }): Count => {
      if (value === null) return { key, atMs, count: this.events(key, atMs, windowMs), capped: false };
      const count = this.distinct(key, atMs, windowMs, countUpTo);
      return { key, atMs, count, capped: countUpTo !== undefined && count >= countUpTo };
    });
    this.sweepOld(Math.max(...counts.map(({ atMs }) => atMs)), SWEEP_ROWS_PER_OBSERVATION * observations.length);
    return counts;
  }

  /** Events in the window's seconds: (atMs − windowMs, atMs], to the second. */
  private events(key: string, atMs: number, windowMs: number): number {
    return this.ctx.storage.sql.exec<CountRow>(EVENTS_IN_WINDOW, key, Math.floor((atMs - windowMs) / 1000)).one().count;
  }

  /** One step of each table's sweep: the next `rows` rows in key order, those past the horizon deleted. */
  private sweepOld(newestMs: number, rows: number): void {
    const cutoffMs = newestMs - HORIZON_MS;
    this.sweep.events = this.sweepStep(SWEEPS.events, this.sweep.events, rows, Math.floor(cutoffMs / 1000));
    this.sweep.sightings = this.sweepStep(SWEEPS.sightings, this.sweep.sightings, rows, cutoffMs);
    if (newestMs - this.sweepSavedAtMs >= SWEEP_SAVED_EVERY_MS) {
      this.ctx.storage.kv.put(SWEEP_STORAGE_KEY, this.sweep);
      this.sweepSavedAtMs = newestMs;
    }
  }

  private sweepStep(statements: SweepStatements, from: SweepPosition, rows: number, cutoff: number): SweepPosition {
    const sql = this.ctx.storage.sql;
    const boundary = sql.exec<BoundaryRow>(statements.boundary, ...from, rows - 1).toArray()[0];
    sql.exec(statements.delete, ...from, rows, cutoff);
    return boundary ? [boundary.key, boundary.rest] : SWEEP_START;
  }

  /** Values whose latest sighting is after the window's start (atMs − windowMs), up to `countUpTo`. */
  private distinct(key: string, atMs: number, windowMs: number, countUpTo: number | undefined): number {
    const sql = this.ctx.storage.sql;
    if (countUpTo === undefined || !Number.isSafeInteger(countUpTo) || countUpTo < 1) return sql.exec<CountRow>(DISTINCT_IN_WINDOW, key, atMs - windowMs).one().count;
    return sql.exec<CountRow>(DISTINCT_IN_WINDOW_UP_TO, key, atMs - windowMs, countUpTo).one().count;
  }
}
