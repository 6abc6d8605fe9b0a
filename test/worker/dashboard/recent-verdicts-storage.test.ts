import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { keepRecentVerdict, listRecentVerdicts, RECENT_VERDICTS_KEPT, type RecentVerdict } from "../../../src/dashboard/recent-verdicts";
import { meteredD1 } from "../support/d1";
import { insertOldVerdicts } from "./support";

const verdict = (index: number): RecentVerdict => ({
  requestId: `storage-${index}`,
  atMs: 1_800_000_000_000 + index,
  cli: "77272509100",
  destination: "77012345678",
  action: "allow",
  verstat: "No-TN-Validation",
  signed: false,
  attest: null,
  decidedBy: null,
  carrier: "Kazakhtelecom",
  elapsedMs: 0.5,
  checks: [],
});

async function keep(db: D1Database, verdicts: RecentVerdict[]) {
  const flushes: Promise<unknown>[] = [];
  for (const each of verdicts) keepRecentVerdict(each, { db, waitUntil: (promise) => void flushes.push(promise), timeoutMs: 5_000 });
  await Promise.all(flushes);
}

describe("recent verdicts: what the table costs per verdict", () => {
  it("writes one row per verdict: no index entries, no sequence row", async () => {
    await env.DB.prepare("DELETE FROM recent_verdicts").run();
    const { db, rowsWritten } = meteredD1();
    await keep(db, Array.from({ length: 20 }, (_, index) => verdict(index)));
    expect(rowsWritten()).toBe(20); // the prune found nothing to delete: the table holds fewer than it keeps
    const schema = await env.DB.prepare("SELECT type, name FROM sqlite_master WHERE tbl_name = 'recent_verdicts'").all<{ type: string; name: string }>();
    expect(schema.results).toEqual([{ type: "table", name: "recent_verdicts" }]);
    const sequence = await env.DB.prepare("SELECT COUNT(*) AS count FROM sqlite_sequence WHERE name = 'recent_verdicts'").first<{ count: number }>();
    expect(sequence?.count).toBe(0);
  });

  it("answers the dashboard's query by reading the table newest first, as it did with the indexes", async () => {
    const plan = await env.DB.prepare(
      `EXPLAIN QUERY PLAN SELECT * FROM recent_verdicts
        WHERE (?1 IS NULL OR cli = ?1 OR destination = ?1) AND (?2 IS NULL OR carrier = ?2)
          AND (?3 IS NULL OR failed_checks LIKE '%,' || ?3 || ',%') AND (?4 IS NULL OR action = ?4)
          AND (?5 IS NULL OR signed = ?5) AND (?6 IS NULL OR seq < ?6)
        ORDER BY seq DESC LIMIT ?7`,
    )
      .bind("77272509100", "Kazakhtelecom", null, null, null, null, 50)
      .all<{ detail: string }>();
    expect(plan.results.map(({ detail }) => detail)).toEqual(["SCAN recent_verdicts"]);
  });

  it("takes over the oldest row for each new verdict once the table is full: 1 row written per verdict, not 2, and paging holds", async () => {
    await env.DB.prepare("DELETE FROM recent_verdicts").run();
    await insertOldVerdicts(RECENT_VERDICTS_KEPT);
    const before = (await env.DB.prepare("SELECT MAX(seq) AS seq FROM recent_verdicts").first<{ seq: number }>())!.seq;
    const { db, rowsWritten } = meteredD1();
    await keep(db, [verdict(1), verdict(2), verdict(3)]);
    expect(rowsWritten()).toBe(3); // an insert and the prune's delete wrote 3 + 3

    const newest = await listRecentVerdicts(env.DB, { limit: 4 });
    expect(newest.map(({ requestId }) => requestId)).toEqual(["storage-3", "storage-2", "storage-1", `old-${RECENT_VERDICTS_KEPT}`]);
    expect(newest.map(({ seq }) => seq)).toEqual([before + 3, before + 2, before + 1, before]);
    expect(newest[0]).toMatchObject({ cli: "77272509100", carrier: "Kazakhtelecom", action: "allow", elapsedMs: 0.5, checks: [] });
    const nextPage = await listRecentVerdicts(env.DB, { limit: 2, beforeSeq: before + 1 });
    expect(nextPage.map(({ requestId }) => requestId)).toEqual([`old-${RECENT_VERDICTS_KEPT}`, `old-${RECENT_VERDICTS_KEPT - 1}`]);
    expect(await table()).toEqual(expectedAfter(Array.from({ length: RECENT_VERDICTS_KEPT }, (_, index) => oldRow(index + 1)), [1, 2, 3]));
  });

  it("keeps exactly the rows an insert and a prune would keep, while filling, over gaps and across statements and batches", async () => {
    await env.DB.prepare("DELETE FROM recent_verdicts").run();
    await insertOldVerdicts(RECENT_VERDICTS_KEPT - 5);
    // Gaps: rows an operator deleted, one of them the next to be taken over.
    await env.DB.prepare("DELETE FROM recent_verdicts WHERE seq IN (1, 2, 40, 41)").run();
    let expected = (await table());
    let next = 0;
    const { db, rowsWritten } = meteredD1();
    for (const count of [3, 9, 1, 60, 7]) {
      const verdicts = Array.from({ length: count }, () => verdict(++next));
      const written = rowsWritten();
      await keep(db, verdicts);
      expected = expectedAfter(expected, verdicts.map((_, index) => next - count + 1 + index));
      expect(await table()).toEqual(expected);
      // Never more than one row per verdict, and the prune's deletes only while the table is filling.
      expect(rowsWritten() - written).toBeLessThanOrEqual(count + 5);
    }
    // Once full, every verdict wrote one row.
    const written = rowsWritten();
    await keep(db, Array.from({ length: 20 }, () => verdict(++next)));
    expect(rowsWritten() - written).toBe(20);
  });
});

type Row = { seq: number; request_id: string };
const table = async () => (await env.DB.prepare("SELECT seq, request_id FROM recent_verdicts ORDER BY seq").all<Row>()).results;
const oldRow = (index: number): Row => ({ seq: index, request_id: `old-${index}` });
/** What the earlier INSERT and prune left: each verdict at the next seq, then only the newest RECENT_VERDICTS_KEPT seqs. */
function expectedAfter(rows: Row[], verdictIndexes: number[]): Row[] {
  const all = [...rows];
  for (const index of verdictIndexes) all.push({ seq: (all.at(-1)?.seq ?? 0) + 1, request_id: `storage-${index}` });
  const newest = all.at(-1)!.seq;
  return all.filter(({ seq }) => seq > newest - RECENT_VERDICTS_KEPT);
}
