/**
 * The velocity counters' storage, as SQL: src/abuse/velocity-tables.ts runs it, in each Durable Object
 * (src/abuse/velocity-counter.ts) and, for `npm run bench:micro`, on Node's SQLite.
 *
 * Cloudflare's SQLite storage bills every row a statement writes, index entries included, at a
 * thousand times a row read, and these tables take a write on every call. So each table is keyed by
 * its primary key alone (WITHOUT ROWID: no separate rowid B-tree beside the key's index) and carries
 * only the index a count reads. Old rows are removed by a sweep that walks the primary key (SWEEPS),
 * not through an index on age that every write would also update.
 * Rows written per statement, as the storage counts them (test/worker/abuse/velocity-storage.test.ts):
 *
 * | statement                     | rowid tables with age indexes | as below |
 * | ----------------------------- | ----------------------------: | -------: |
 * | event, a new second           | 3                             | 1        |
 * | event, the same second again  | 1                             | 1        |
 * | sighting, a new value         | 4                             | 2        |
 * | sighting, seen again later    | 3                             | 2        |
 * | sighting, seen again earlier  | 3                             | 0        |
 */

/**
 * Events in one-second buckets per key; sightings keep each (key, value)'s latest time. The indexes on
 * age are dropped here too: an object that ran an earlier version after this one (a rollback) created
 * them on these tables, and would otherwise keep paying for them.
 */
export const VELOCITY_TABLES = `
  DROP INDEX IF EXISTS events_age;
  DROP INDEX IF EXISTS sightings_age;
  CREATE TABLE IF NOT EXISTS events (key TEXT NOT NULL, second INTEGER NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (key, second)) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS sightings (key TEXT NOT NULL, value TEXT NOT NULL, last_ms INTEGER NOT NULL, PRIMARY KEY (key, value)) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS sightings_recent ON sightings (key, last_ms);`;
// sightings_recent: a distinct count reads the window's rows only. Without it the count walked every
// value the key had in the 24 h horizon — for a trunk, every CLI it carried that day, per flush.

/**
 * The tables as an object created before they were keyed this way holds them (until the sixth
 * session: BENCHMARKS.md): rowid tables, and an index on age for each. Kept for the test of the move
 * below and for bench:micro's comparison.
 */
export const ROWID_VELOCITY_TABLES = `
  CREATE TABLE events (key TEXT NOT NULL, second INTEGER NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (key, second));
  CREATE INDEX events_age ON events (second);
  CREATE TABLE sightings (key TEXT NOT NULL, value TEXT NOT NULL, last_ms INTEGER NOT NULL, PRIMARY KEY (key, value));
  CREATE INDEX sightings_age ON sightings (last_ms);
  CREATE INDEX sightings_recent ON sightings (key, last_ms);`;

/** For an object with ROWID_VELOCITY_TABLES: their rows moved into the tables above, once. */
export const VELOCITY_TABLES_FROM_ROWID = `
  DROP INDEX IF EXISTS sightings_recent;
  ALTER TABLE events RENAME TO events_rowid;
  ALTER TABLE sightings RENAME TO sightings_rowid;
  ${VELOCITY_TABLES}
  INSERT INTO events (key, second, count) SELECT key, second, count FROM events_rowid;
  INSERT INTO sightings (key, value, last_ms) SELECT key, value, last_ms FROM sightings_rowid;
  DROP TABLE events_rowid;
  DROP TABLE sightings_rowid;`;

/** One more call for a key in a second. */
export const RECORD_EVENT = "INSERT INTO events (key, second, count) VALUES (?, ?, 1) ON CONFLICT (key, second) DO UPDATE SET count = count + 1";

/** A (key, value) seen at a moment. An older sighting than the one held changes nothing, and writes nothing. */
export const RECORD_SIGHTING =
  "INSERT INTO sightings (key, value, last_ms) VALUES (?, ?, ?) ON CONFLICT (key, value) DO UPDATE SET last_ms = excluded.last_ms WHERE excluded.last_ms > last_ms";

/** Events in the window's seconds. Parameters: key, the second before the window's first. */
export const EVENTS_IN_WINDOW = "SELECT COALESCE(SUM(count), 0) AS count FROM events WHERE key = ? AND second > ?";

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

/** Where a sweep stands in a table: the primary key of the last row it visited. */
export type SweepPosition = [key: string, rest: string | number];
/** Before every row: keys are never empty, and any key sorts after ''. */
export const SWEEP_START: SweepPosition = ["", ""];

/**
 * One step of a table's sweep, over the next rows in primary-key order after a position:
 * - `boundary`: the primary key of the step's last row, none when fewer rows follow the position
 *   (parameters: position, rows − 1);
 * - `deleteTo`: the rows past the horizon up to the boundary (parameters: position, boundary, cutoff);
 * - `deleteRest`: the same to the table's end, after which the sweep starts over (parameters:
 *   position, cutoff).
 *
 * Each names the primary key's index (SQLite calls a WITHOUT ROWID table's key
 * sqlite_autoindex_<table>_1). Left to itself the planner serves a range on (key, value) from
 * sightings_recent, whose entries are smaller, and reads every value of the position's key — a
 * hundred thousand for a big trunk — on every step.
 */
export interface SweepStatements {
  boundary: string;
  deleteTo: string;
  deleteRest: string;
}

/** `rest`: the primary key's second column; `age`: the column compared with the cutoff. */
const sweepOf = (table: string, rest: string, age: string): SweepStatements => {
  const byKey = `${table} INDEXED BY sqlite_autoindex_${table}_1 WHERE (key, ${rest}) > (?, ?)`;
  return {
    boundary: `SELECT key, ${rest} AS rest FROM ${byKey} ORDER BY key, ${rest} LIMIT 1 OFFSET ?`,
    deleteTo: `DELETE FROM ${byKey} AND (key, ${rest}) <= (?, ?) AND ${age} < ?`,
    deleteRest: `DELETE FROM ${byKey} AND ${age} < ?`,
  };
};

/** The sweep of each table; `cutoff` is in the table's age unit (seconds for events, ms for sightings). */
export const SWEEPS = {
  events: sweepOf("events", "second", "second"),
  sightings: sweepOf("sightings", "value", "last_ms"),
} as const;
