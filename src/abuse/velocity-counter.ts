import { DurableObject } from "cloudflare:workers";
import { DISTINCT_IN_WINDOW, DISTINCT_IN_WINDOW_UP_TO, RECORD_SIGHTING, VELOCITY_TABLES } from "./velocity-sql";

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

interface CountRow extends Record<string, SqlStorageValue> {
  count: number;
}

/**
 * Sliding-window counters for velocity and rotation detection (cli-spoofing.md §3 check 11). Events
 * are counted in one-second buckets (exact to the second, bounded storage per key) and distinct values
 * by their last sighting; each batch is applied and answered with the keys' current counts in one
 * request, so the isolate learns the counts from the update it sends anyway.
 */
export class VelocityCounter extends DurableObject {
  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    ctx.storage.sql.exec(VELOCITY_TABLES);
  }

  observe(observations: Observation[]): Count[] {
    if (observations.length === 0) return [];
    const sql = this.ctx.storage.sql;
    const latest = new Map<string, Observation>();
    for (const observation of observations) {
      if (observation.value === null) {
        sql.exec("INSERT INTO events (key, second, count) VALUES (?, ?, 1) ON CONFLICT (key, second) DO UPDATE SET count = count + 1", observation.key, Math.floor(observation.atMs / 1000));
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
    const newest = Math.max(...counts.map(({ atMs }) => atMs));
    sql.exec("DELETE FROM events WHERE second < ?", Math.floor((newest - HORIZON_MS) / 1000));
    sql.exec("DELETE FROM sightings WHERE last_ms < ?", newest - HORIZON_MS);
    return counts;
  }

  /** Events in the window's seconds: (atMs − windowMs, atMs], to the second. */
  private events(key: string, atMs: number, windowMs: number): number {
    const since = Math.floor((atMs - windowMs) / 1000);
    return this.ctx.storage.sql.exec<CountRow>("SELECT COALESCE(SUM(count), 0) AS count FROM events WHERE key = ? AND second > ?", key, since).one().count;
  }

  /** Values whose latest sighting is after the window's start (atMs − windowMs), up to `countUpTo`. */
  private distinct(key: string, atMs: number, windowMs: number, countUpTo: number | undefined): number {
    const sql = this.ctx.storage.sql;
    if (countUpTo === undefined || !Number.isSafeInteger(countUpTo) || countUpTo < 1) return sql.exec<CountRow>(DISTINCT_IN_WINDOW, key, atMs - windowMs).one().count;
    return sql.exec<CountRow>(DISTINCT_IN_WINDOW_UP_TO, key, atMs - windowMs, countUpTo).one().count;
  }
}
