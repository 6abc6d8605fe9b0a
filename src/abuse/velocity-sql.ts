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
// sightings_recent: the count reads the window's first, partial second through it. Without it the
// count walked every value the key had in the 24 h horizon — for a trunk, every CLI it carried that day.

/** A (key, value) seen at a moment (whole ms); an older sighting than the one held changes nothing. */
export const RECORD_SIGHTING =
  "INSERT INTO sightings (key, value, last_ms) VALUES (?, ?, ?) ON CONFLICT (key, value) DO UPDATE SET last_ms = max(last_ms, excluded.last_ms)";

/**
 * Distinct values seen for a key since a moment (the window's start), exact to the millisecond: the
 * whole seconds after it from the per-second tallies, the rest of its own second from the sightings.
 * Reads at most one row per second of the window plus one second's sightings, however many values the
 * key has. A trunk's CLIs can number a hundred thousand in a window; counting them row by row took
 * milliseconds per count, on every batch from every isolate, in the one object that holds the trunk
 * (BENCHMARKS.md, fifth session).
 * Parameters: key, the moment's second, the moment (ms), the start of the next second (ms).
 */
export const DISTINCT_IN_WINDOW = `SELECT
  (SELECT COALESCE(SUM(count), 0) FROM sighting_seconds WHERE key = ?1 AND second > ?2)
  + (SELECT COUNT(*) FROM sightings WHERE key = ?1 AND last_ms > ?3 AND last_ms < ?4) AS count`;

/**
 * sighting_seconds tallies, per key and second, the values whose latest sighting falls in that second.
 * SQLite keeps it in step with the sightings through these triggers, in the statement that changes
 * them: no path can update one without the other.
 */
export const SIGHTING_TALLIES = `
  CREATE TABLE IF NOT EXISTS sighting_seconds (key TEXT NOT NULL, second INTEGER NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (key, second));
  CREATE INDEX IF NOT EXISTS sighting_seconds_age ON sighting_seconds (second);
  CREATE TRIGGER IF NOT EXISTS sighting_added AFTER INSERT ON sightings BEGIN
    INSERT INTO sighting_seconds (key, second, count) VALUES (NEW.key, NEW.last_ms / 1000, 1) ON CONFLICT (key, second) DO UPDATE SET count = count + 1;
  END;
  CREATE TRIGGER IF NOT EXISTS sighting_moved AFTER UPDATE OF last_ms ON sightings WHEN OLD.last_ms / 1000 <> NEW.last_ms / 1000 BEGIN
    UPDATE sighting_seconds SET count = count - 1 WHERE key = OLD.key AND second = OLD.last_ms / 1000;
    INSERT INTO sighting_seconds (key, second, count) VALUES (NEW.key, NEW.last_ms / 1000, 1) ON CONFLICT (key, second) DO UPDATE SET count = count + 1;
  END;
  CREATE TRIGGER IF NOT EXISTS sighting_removed AFTER DELETE ON sightings BEGIN
    UPDATE sighting_seconds SET count = count - 1 WHERE key = OLD.key AND second = OLD.last_ms / 1000;
  END;`;

/** Whether this storage has the tallies yet (an object created by an earlier version has not). */
export const HAS_TALLIES = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sighting_seconds'";

/** The tallies of sightings recorded before the triggers existed. */
export const TALLY_EXISTING_SIGHTINGS =
  "INSERT INTO sighting_seconds (key, second, count) SELECT key, last_ms / 1000, COUNT(*) FROM sightings GROUP BY key, last_ms / 1000";
