-- Prometheus counters (issue 7 "Metrics and logs"), summed across isolates: each isolate counts in
-- memory and adds its increments here in batches after responding (src/metrics/isolate-counters.ts);
-- GET /metrics reads the sums. Histograms are stored as their cumulative _bucket, _sum and _count series.
CREATE TABLE metric_counters (
  name TEXT NOT NULL,                -- series name, e.g. 'shaken_verdicts_total', 'shaken_x5u_fetch_duration_seconds_bucket'
  labels TEXT NOT NULL,              -- rendered label set, e.g. 'action="block"'; '' when unlabelled
  value REAL NOT NULL,
  PRIMARY KEY (name, labels)
);
