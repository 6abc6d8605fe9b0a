-- recent_verdicts (0007) as a plain rowid table, without the two indexes (issue 6: rows written per verdict).
-- D1 bills every row a statement writes, index entries included, and this table takes a row per verdict:
-- - the indexes on (cli, seq) and (carrier, seq) were written with every row and deleted with it, yet the
--   dashboard's only query (src/dashboard/recent-verdicts.ts) cannot use them: its filters are optional
--   parameters, so SQLite scans the table newest first in either case, over at most RECENT_VERDICTS_KEPT
--   rows;
-- - AUTOINCREMENT wrote sqlite_sequence on every INSERT. Without it a new row's seq is the largest seq
--   plus one; the prune deletes the oldest rows only and never the newest, so seq still only grows and
--   the dashboard's paging (seq < ?) is unchanged.
-- Rows an INSERT writes per verdict, as D1 counts them: 3–4 (the row, two index entries, and
-- sqlite_sequence once per statement) → 1. The prune's DELETE counts 1 per row either way
-- (test/worker/dashboard/recent-verdicts-storage.test.ts).
CREATE TABLE recent_verdicts_keyed (
  seq INTEGER PRIMARY KEY,
  request_id TEXT NOT NULL,
  at INTEGER NOT NULL,               -- epoch ms
  cli TEXT,                          -- canonical TN of the presented CLI
  destination TEXT,                  -- canonical TN of the first called number
  action TEXT NOT NULL,
  verstat TEXT NOT NULL,
  signed INTEGER NOT NULL,           -- 1 when the call carried an Identity header
  attest TEXT,                       -- attestation of a signed call, verified or not
  decided_by TEXT,
  failed_checks TEXT NOT NULL,       -- ',id1,id2,' so one LIKE finds a check
  carrier TEXT NOT NULL,             -- ingress carrier name, '(unknown)' when unclassified
  elapsed_ms REAL NOT NULL,
  checks TEXT NOT NULL               -- JSON: the verdict's checks with their evidence
);
INSERT INTO recent_verdicts_keyed (seq, request_id, at, cli, destination, action, verstat, signed, attest, decided_by, failed_checks, carrier, elapsed_ms, checks)
  SELECT seq, request_id, at, cli, destination, action, verstat, signed, attest, decided_by, failed_checks, carrier, elapsed_ms, checks FROM recent_verdicts;
DROP TABLE recent_verdicts;
ALTER TABLE recent_verdicts_keyed RENAME TO recent_verdicts;
