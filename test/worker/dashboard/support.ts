import { env } from "cloudflare:workers";

/** Inserts `count` verdicts straight into the dashboard's table, request ids `old-1` … `old-<count>`, oldest first. */
export async function insertOldVerdicts(count: number): Promise<void> {
  await env.DB.prepare(
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
     INSERT INTO recent_verdicts (request_id, at, cli, destination, action, verstat, signed, attest, decided_by, failed_checks, carrier, elapsed_ms, checks)
     SELECT 'old-' || i, 0, '77000000000', NULL, 'allow', 'No-TN-Validation', 0, NULL, NULL, ',', 'OldCo', 1, '[]' FROM n`,
  )
    .bind(count)
    .run();
}
