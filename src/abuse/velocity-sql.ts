/**
 * The velocity counters' storage, as SQL (src/abuse/velocity-counter.ts runs it in each Durable
 * Object). Kept apart from the object so `npm run bench:micro` can run the same statements on Node's SQLite.
 */

/** Events in one-second buckets per key; sightings keep each (key, value)'s latest time. */
export const VELOCITY_TABLES = `
  CREATE TABLE IF NOT EXISTS events (key TEXT NOT NULL, second INTEGER NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (key, second));
  CREATE INDEX IF NOT EXISTS events_age ON events (second);
  CREATE TABLE IF NOT EXISTS sightings (key TEXT NOT NULL, value TEXT NOT NULL, last_ms INTEGER NOT NULL, PRIMARY KEY (key, value));
  CREATE INDEX IF NOT EXISTS sightings_age ON sightings (last_ms);
  CREATE INDEX IF NOT EXISTS sightings_recent ON sightings (key, last_ms);`;
// sightings_recent: a distinct count reads the window's rows only. Without it the count walked every
// value the key had in the 24 h horizon — for a trunk, every CLI it carried that day, per flush.

/** A (key, value) seen at a moment; an older sighting than the one held changes nothing. */
export const RECORD_SIGHTING =
  "INSERT INTO sightings (key, value, last_ms) VALUES (?, ?, ?) ON CONFLICT (key, value) DO UPDATE SET last_ms = max(last_ms, excluded.last_ms)";

/**
 * Distinct values seen for a key since a moment (the window's start), counted up to a cap: the
 * count reads one index entry per value, so it stops where its answer stops mattering — one past the
 * limit the caller judges it against. A trunk's CLIs can number a hundred thousand in a window, and
 * counting all of them on every batch, from every isolate, in the one object that holds the trunk cost
 * 2.7 ms and 100 000 rows read per count (BENCHMARKS.md, fifth session).
 * Parameters: key, the moment (ms), the cap.
 */
export const DISTINCT_IN_WINDOW_UP_TO = "SELECT COUNT(*) AS count FROM (SELECT 1 FROM sightings WHERE key = ? AND last_ms > ? LIMIT ?)";

/** The same, counted in full: for an observation that names no cap. Parameters: key, the moment (ms). */
export const DISTINCT_IN_WINDOW = "SELECT COUNT(*) AS count FROM sightings WHERE key = ? AND last_ms > ?";
