import { env } from "cloudflare:workers";
import { listRecentVerdicts, RECENT_VERDICTS_KEPT } from "../../../src/dashboard/recent-verdicts";

/**
 * Inserts `count` verdicts straight into the dashboard's pages after the newest, request ids `old-1` …
 * `old-<count>` (at seqs 1 … count in an empty table), oldest first, `perPage` verdicts a page (1: as
 * migrations/0011 moved the earlier rows).
 */
export async function insertOldVerdicts(count: number, perPage = 1): Promise<void> {
  await env.DB.prepare(
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1),
       base AS MATERIALIZED (SELECT COALESCE(MAX(first_seq + count), 1) - 1 AS seq FROM recent_verdict_pages)
     INSERT INTO recent_verdict_pages (first_seq, count, verdicts)
       SELECT (SELECT seq FROM base) + MIN(i), COUNT(*), json_group_array(json_object('requestId', 'old-' || i, 'atMs', 0, 'cli', '77000000000', 'destination', NULL, 'action', 'allow',
           'verstat', 'No-TN-Validation', 'signed', json('false'), 'attest', NULL, 'decidedBy', NULL, 'carrier', 'OldCo', 'elapsedMs', 1, 'checks', json('[]')))
         FROM (SELECT i FROM n ORDER BY i) GROUP BY (i - 1) / CAST(?2 AS INTEGER)`,
  )
    .bind(count, perPage)
    .run();
}

/** `count` pages of one verdict each, seqs 1 … count, each verdict with a check detail of `chars` characters; the oldest's CLI is 77000000001. */
export const insertLargePages = (count: number, chars: number) =>
  env.DB.prepare(
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
     INSERT INTO recent_verdict_pages (first_seq, count, verdicts)
       SELECT i, 1, json_array(json_object('requestId', 'large-' || i, 'atMs', 0, 'cli', CASE i WHEN 1 THEN '77000000001' ELSE '77000000000' END, 'destination', NULL,
           'action', 'allow', 'verstat', 'No-TN-Validation', 'signed', json('true'), 'attest', NULL, 'decidedBy', NULL, 'carrier', 'LargeCo', 'elapsedMs', 1,
           'checks', json_array(json_object('id', 'x5u.fetch', 'result', 'fail', 'detail', substr(replace(hex(zeroblob((?2 + 1) / 2)), '0', 'x'), 1, ?2)))))
         FROM n`,
  )
    .bind(count, chars)
    .run();

/** Every verdict the dashboard lists, newest first, as seq and request id. */
export async function listedVerdicts(): Promise<{ seq: number; requestId: string }[]> {
  return (await listRecentVerdicts(env.DB, { limit: RECENT_VERDICTS_KEPT + 1 })).verdicts.map(({ seq, requestId }) => ({ seq, requestId }));
}
