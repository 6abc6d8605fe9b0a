-- Traceback statistics of the dimensions whose keys are not a small fixed set, as pages (issue 19:
-- rows written per verdict). stats_counters (0009) took a row per (hour, dimension, key): a flush of an
-- isolate that blocked 200 distinct CLIs wrote 200 rows, and mixed traffic spent most of its rows on it.
-- Now a flush writes each such dimension's counts of an hour as one page (src/stats/record.ts
-- PAGED_DIMENSIONS), a JSON object {key: count} of up to 250 keys; readers sum the pages' entries in SQL
-- with json_each (src/stats/read.ts), and the hourly retention run merges a past hour's pages into a
-- few and rolls days up into stats_daily as before (src/stats/retention.ts).
CREATE TABLE stats_pages (
  dimension TEXT NOT NULL,           -- src/stats/record.ts PAGED_DIMENSIONS
  hour TEXT NOT NULL,                -- 'YYYY-MM-DDTHH' (UTC)
  page TEXT NOT NULL,                -- unique per writer: an isolate's id and flush sequence, or a retention run's merge
  counts TEXT NOT NULL,              -- JSON object: key → count
  PRIMARY KEY (dimension, hour, page)
) WITHOUT ROWID;

-- The blocked CLIs counted so far become pages: one per hour and 5 000 keys, named as the retention's
-- merge names its pages (src/stats/retention.ts MERGED), so the readers need not know the old rows.
INSERT INTO stats_pages (dimension, hour, page, counts)
  SELECT dimension, hour, 'merged:0014:' || chunk, json_group_object(key, count)
  FROM (SELECT dimension, hour, key, count, (ROW_NUMBER() OVER (PARTITION BY hour ORDER BY key) - 1) / 5000 AS chunk
        FROM stats_counters WHERE dimension = 'blocked-cli')
  GROUP BY dimension, hour, chunk;
DELETE FROM stats_counters WHERE dimension = 'blocked-cli';
