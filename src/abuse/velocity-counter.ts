import { DurableObject } from "cloudflare:workers";

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
}

/** A counter's value over its window ending at `atMs`, the latest observation of its key. */
export interface Count {
  key: string;
  count: number;
  atMs: number;
}

/** No configured window is longer (src/config.ts caps windows at a day); rows older than this count for nothing. */
const HORIZON_MS = 86_400_000;

/** Distinct values seen for a key since a moment (the window's start). */
export const DISTINCT_IN_WINDOW = "SELECT COUNT(*) AS count FROM sightings WHERE key = ? AND last_ms > ?";

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
    ctx.storage.sql.exec(
      `CREATE TABLE IF NOT EXISTS events (key TEXT NOT NULL, second INTEGER NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (key, second));
       CREATE INDEX IF NOT EXISTS events_age ON events (second);
       CREATE TABLE IF NOT EXISTS sightings (key TEXT NOT NULL, value TEXT NOT NULL, last_ms INTEGER NOT NULL, PRIMARY KEY (key, value));
       CREATE INDEX IF NOT EXISTS sightings_age ON sightings (last_ms);
       CREATE INDEX IF NOT EXISTS sightings_recent ON sightings (key, last_ms);`,
      // sightings_recent: a distinct count reads the window's rows only. Without it the count walked every
      // value the key had in the 24 h horizon — for a trunk, every CLI it carried that day, per flush.
    );
  }

  observe(observations: Observation[]): Count[] {
    if (observations.length === 0) return [];
    const sql = this.ctx.storage.sql;
    const latest = new Map<string, Observation>();
    for (const observation of observations) {
      if (observation.value === null) {
        sql.exec("INSERT INTO events (key, second, count) VALUES (?, ?, 1) ON CONFLICT (key, second) DO UPDATE SET count = count + 1", observation.key, Math.floor(observation.atMs / 1000));
      } else {
        sql.exec("INSERT INTO sightings (key, value, last_ms) VALUES (?, ?, ?) ON CONFLICT (key, value) DO UPDATE SET last_ms = max(last_ms, excluded.last_ms)", observation.key, observation.value, observation.atMs);
      }
      const known = latest.get(observation.key);
      if (!known || known.atMs <= observation.atMs) latest.set(observation.key, observation);
    }
    const counts = [...latest.values()].map(({ key, value, atMs, windowMs }) => ({ key, atMs, count: value === null ? this.events(key, atMs, windowMs) : this.distinct(key, atMs, windowMs) }));
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

  private distinct(key: string, atMs: number, windowMs: number): number {
    return this.ctx.storage.sql.exec<CountRow>(DISTINCT_IN_WINDOW, key, atMs - windowMs).one().count;
  }
}
