-- The dashboard's recent verdicts as pages of many verdicts per row (issue 19: rows written per verdict).
-- D1 bills a row written per row, whatever its size, and recent_verdicts (0007, 0008) took one per verdict.
-- Each isolate writes a flush's verdicts as one or a few pages (src/dashboard/recent-verdicts.ts), so a
-- busy isolate writes one row for a hundred verdicts. A page keeps the seqs its verdicts had as rows:
-- its first verdict's seq is the page's key, the others follow it, so the dashboard's paging (`before`)
-- reads on as it did.
CREATE TABLE recent_verdict_pages (
  first_seq INTEGER PRIMARY KEY,     -- the seq of the page's first verdict; its verdicts are first_seq … first_seq + count − 1
  count INTEGER NOT NULL,
  verdicts TEXT NOT NULL             -- JSON array of the verdicts, oldest first, each as src/dashboard/recent-verdicts.ts RecentVerdict
);
-- Each verdict kept so far becomes a page of its own, at its seq (once, for 10 000 rows at most).
INSERT INTO recent_verdict_pages (first_seq, count, verdicts)
  SELECT seq, 1, json_array(json_object(
    'requestId', request_id, 'atMs', at, 'cli', cli, 'destination', destination, 'action', action, 'verstat', verstat,
    'signed', json(CASE signed WHEN 1 THEN 'true' ELSE 'false' END), 'attest', attest, 'decidedBy', decided_by,
    'carrier', carrier, 'elapsedMs', elapsed_ms, 'checks', json(checks)))
  FROM recent_verdicts;
DROP TABLE recent_verdicts;
