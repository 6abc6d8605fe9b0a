-- Traceback statistics that stay small and answer in SQL (issue 22 item 8).
--
-- stats_counters (0005) rebuilt WITHOUT ROWID, with the dimension first in its primary key:
-- - GET /v1/stats aggregates in SQL, one dimension at a time (src/stats/read.ts). Each dimension's rows
--   of a range are one stretch of the key, so the top N blocked CLIs reads the blocked-CLI rows of the
--   range and no other (0005's key began with the hour: every dimension's rows of each hour in turn);
-- - a new counter writes 1 row instead of 2: the rowid table kept its primary key in a second index.
CREATE TABLE stats_counters_keyed (
  dimension TEXT NOT NULL,           -- src/stats/record.ts STATS_DIMENSIONS
  hour TEXT NOT NULL,                -- 'YYYY-MM-DDTHH' (UTC)
  key TEXT NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (dimension, hour, key)
) WITHOUT ROWID;
INSERT INTO stats_counters_keyed (dimension, hour, key, count) SELECT dimension, hour, key, count FROM stats_counters;
DROP TABLE stats_counters;
ALTER TABLE stats_counters_keyed RENAME TO stats_counters;

-- Whole days past STATS_HOURLY_RETENTION_DAYS, rolled up from stats_counters by the hourly retention job
-- (src/stats/retention.ts): every key of the dimensions with a small fixed set of keys, and the day's
-- most blocked CLIs only (TOP_CLIS_KEPT_PER_DAY), so a day of rotating spoofed CLIs keeps a bounded
-- number of rows once it is past the hourly retention.
CREATE TABLE stats_daily (
  dimension TEXT NOT NULL,
  day TEXT NOT NULL,                 -- 'YYYY-MM-DD' (UTC)
  key TEXT NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (dimension, day, key)
) WITHOUT ROWID;
