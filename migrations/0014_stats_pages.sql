-- Traceback statistics as pages (issue 19: rows written per verdict). stats_counters (0009) took a row
-- per (dimension, hour, key) in every flush: an isolate flush that blocked 200 distinct CLIs wrote 200
-- rows, and every flush wrote a dozen more for the actions, checks and carriers, so mixed traffic spent
-- most of its rows on statistics. Now a flush writes each hour's counters as one page: a JSON object
-- {dimension: {key: count}} of up to 250 counters (src/stats/record.ts). Readers sum the pages' entries
-- in SQL with json_each (src/stats/read.ts); the hourly retention run merges a past hour's pages into a
-- few and rolls days up into stats_daily as before (src/stats/retention.ts).
CREATE TABLE stats_pages (
  hour TEXT NOT NULL,                -- 'YYYY-MM-DDTHH' (UTC)
  page TEXT NOT NULL,                -- unique per writer: an isolate's id and flush sequence, or a retention run's merge
  counts TEXT NOT NULL,              -- JSON object: dimension (src/stats/record.ts STATS_DIMENSIONS) → key → count
  PRIMARY KEY (hour, page)
) WITHOUT ROWID;

-- The counters kept so far become pages: one per hour and 5 000 counters, named as the retention's merge
-- names its pages (src/stats/retention.ts MERGED), so the readers need not know the old rows.
INSERT INTO stats_pages (hour, page, counts)
  SELECT hour, 'merged:0014:' || chunk, json_group_object(dimension, json(keys)) FROM (
    SELECT hour, chunk, dimension, json_group_object(key, count) AS keys FROM (
      SELECT hour, dimension, key, count, (ROW_NUMBER() OVER (PARTITION BY hour ORDER BY dimension, key) - 1) / 5000 AS chunk FROM stats_counters
    ) GROUP BY hour, chunk, dimension
  ) GROUP BY hour, chunk;
DROP TABLE stats_counters;
