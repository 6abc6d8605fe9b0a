-- The dashboard's recent verdicts with their evidence (issue 7 "Dashboard"): a bounded window, written
-- in batches after responding and pruned to the newest rows by the same batch (src/dashboard/recent-verdicts.ts).
CREATE TABLE recent_verdicts (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
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
CREATE INDEX recent_verdicts_cli ON recent_verdicts (cli, seq);
CREATE INDEX recent_verdicts_carrier ON recent_verdicts (carrier, seq);
