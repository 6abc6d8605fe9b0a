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
 * Rows the sweep visits in a table per observation of that table's kind: an observation adds at most
 * one row, so the sweep visits twice what can have been added, and a pass over a table outruns its
 * growth (a table holds at most about twice its horizon's rows). What the sweep reads scales with
 * the traffic, not with the table: an object takes many small batches, and rows read are billed too.
 */
const SWEEP_ROWS_PER_OBSERVATION = 2;
/** A step runs once this many rows are owed to a table's sweep, so each statement's own cost is shared by many rows. */
const SWEEP_STEP_ROWS = 256;
/** The sweep's positions are kept in storage at most this often (batch time), once a step has moved them, so a restarted object goes on from near where it stopped. */
const SWEEP_SAVED_EVERY_MS = 60_000;

interface CountRow {
  count: number;
}

interface BoundaryRow {
  key: string;
  rest: string | number;
}

type SweptTable = keyof typeof SWEEPS;
/** Where each table's sweep stands, as kept across restarts. */
export type Sweep = Record<SweptTable, SweepPosition>;

const isPosition = (value: unknown): value is SweepPosition =>
  Array.isArray(value) && value.length === 2 && typeof value[0] === "string" && (typeof value[1] === "string" || typeof value[1] === "number");
const storedSweep = (value: unknown): Sweep => {
  const sweep = value as Partial<Sweep> | undefined;
  return { events: isPosition(sweep?.events) ? sweep.events : SWEEP_START, sightings: isPosition(sweep?.sightings) ? sweep.sightings : SWEEP_START };
};

/**
 * What the counters need from SQLite: a Durable Object's `ctx.storage.sql` (src/abuse/velocity-counter.ts),
 * or Node's, where `npm run bench:micro` runs the same code.
 */
export interface VelocitySql {
  run(query: string, ...bindings: (string | number)[]): void;
  rows<Row>(query: string, ...bindings: (string | number)[]): Row[];
}

/** Where the sweep's positions are kept across restarts (the object's key-value storage). */
export interface SweepStorage {
  get(): unknown;
  put(sweep: Sweep): void;
}

/**
 * Sliding-window counters for velocity and rotation detection (cli-spoofing.md §3 check 11), over the
 * tables of src/abuse/velocity-sql.ts. Events are counted in one-second buckets (exact to the second,
 * bounded storage per key) and distinct values by their last sighting; each batch is applied and
 * answered with the keys' current counts, so the isolate learns the counts from the update it sends
 * anyway. Batches also owe rows to a sweep through both tables that deletes rows past the horizon
 * (velocity-sql.ts says why there is no index on age).
 */
export class VelocityTables {
  private readonly sweep: Sweep;
  /** Rows each table's sweep owes since its last step (kept in memory: a restart forgets fewer than a step's worth). */
  private readonly sweepOwed: Record<SweptTable, number> = { events: 0, sightings: 0 };
  private sweepSavedAtMs = Number.NEGATIVE_INFINITY;
  /** A step ran since the positions were last saved: saving them otherwise would write the same row again. */
  private sweepMoved = false;

  constructor(
    private readonly sql: VelocitySql,
    private readonly saved: SweepStorage,
  ) {
    this.sweep = storedSweep(saved.get());
  }

  observe(observations: Observation[]): Count[] {
    if (observations.length === 0) return [];
    const latest = new Map<string, Observation>();
    for (const observation of observations) {
      if (observation.value === null) {
        this.sql.run(RECORD_EVENT, observation.key, Math.floor(observation.atMs / 1000));
        this.sweepOwed.events += SWEEP_ROWS_PER_OBSERVATION;
      } else {
        this.sql.run(RECORD_SIGHTING, observation.key, observation.value, observation.atMs);
        this.sweepOwed.sightings += SWEEP_ROWS_PER_OBSERVATION;
      }
      const known = latest.get(observation.key);
      if (!known || known.atMs <= observation.atMs) latest.set(observation.key, observation);
    }
    const counts = [...latest.values()].map(({ key, value, atMs, windowMs, countUpTo }): Count => {
      if (value === null) return { key, atMs, count: this.events(key, atMs, windowMs), capped: false };
      const count = this.distinct(key, atMs, windowMs, countUpTo);
      return { key, atMs, count, capped: countUpTo !== undefined && count >= countUpTo };
    });
    this.sweepOld(Math.max(...counts.map(({ atMs }) => atMs)));
    return counts;
  }

  /** Events in the window's seconds: (atMs − windowMs, atMs], to the second. */
  private events(key: string, atMs: number, windowMs: number): number {
    return this.sql.rows<CountRow>(EVENTS_IN_WINDOW, key, Math.floor((atMs - windowMs) / 1000))[0]!.count;
  }

  /** Values whose latest sighting is after the window's start (atMs − windowMs), up to `countUpTo`. */
  private distinct(key: string, atMs: number, windowMs: number, countUpTo: number | undefined): number {
    if (countUpTo === undefined || !Number.isSafeInteger(countUpTo) || countUpTo < 1) return this.sql.rows<CountRow>(DISTINCT_IN_WINDOW, key, atMs - windowMs)[0]!.count;
    return this.sql.rows<CountRow>(DISTINCT_IN_WINDOW_UP_TO, key, atMs - windowMs, countUpTo)[0]!.count;
  }

  /** A step of each table's sweep that is owed a step's worth of rows: the rows it visits that are past the horizon are deleted. */
  private sweepOld(newestMs: number): void {
    const cutoffMs = newestMs - HORIZON_MS;
    const cutoffs: Record<SweptTable, number> = { events: Math.floor(cutoffMs / 1000), sightings: cutoffMs };
    for (const table of ["events", "sightings"] as const) {
      if (this.sweepOwed[table] < SWEEP_STEP_ROWS) continue;
      this.sweep[table] = this.sweepStep(SWEEPS[table], this.sweep[table], this.sweepOwed[table], cutoffs[table]);
      this.sweepOwed[table] = 0;
      this.sweepMoved = true;
    }
    if (this.sweepMoved && newestMs - this.sweepSavedAtMs >= SWEEP_SAVED_EVERY_MS) {
      this.saved.put(this.sweep);
      this.sweepSavedAtMs = newestMs;
      this.sweepMoved = false;
    }
  }

  private sweepStep(statements: SweepStatements, from: SweepPosition, rows: number, cutoff: number): SweepPosition {
    const [boundary] = this.sql.rows<BoundaryRow>(statements.boundary, ...from, rows - 1);
    if (!boundary) {
      this.sql.run(statements.deleteRest, ...from, cutoff);
      return SWEEP_START;
    }
    this.sql.run(statements.deleteTo, ...from, boundary.key, boundary.rest, cutoff);
    return [boundary.key, boundary.rest];
  }
}
