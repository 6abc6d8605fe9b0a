-- Traceback statistics (issue 4): verdict counters per UTC hour and dimension, batched from each
-- isolate off the verdict's critical path (src/stats/record.ts).
CREATE TABLE stats_counters (
  hour TEXT NOT NULL,                -- 'YYYY-MM-DDTHH' (UTC)
  dimension TEXT NOT NULL,           -- 'total' | 'action' | 'check' | 'carrier' | 'carrier-spoofed' | 'blocked-cli'
  key TEXT NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (hour, dimension, key)
);
