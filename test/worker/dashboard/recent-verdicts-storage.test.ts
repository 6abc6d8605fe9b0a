import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { keepRecentVerdict, listRecentVerdicts, MAX_CHARS_PER_READ, PAGE_VERDICTS, RECENT_VERDICTS_KEPT, type RecentVerdict } from "../../../src/dashboard/recent-verdicts";
import { meteredD1 } from "../support/d1";
import { insertLargePages, insertOldVerdicts, listedVerdicts } from "./support";

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

/** Keeps the verdicts as one burst of calls does (one write-behind flush), and waits for the writes. */
async function keep(db: D1Database, verdicts: RecentVerdict[]) {
  const flushes: Promise<unknown>[] = [];
  for (const each of verdicts) keepRecentVerdict(each, { db, waitUntil: (promise) => void flushes.push(promise), timeoutMs: 5_000 });
  await Promise.all(flushes);
}

const emptyPages = () => env.DB.prepare("DELETE FROM recent_verdict_pages").run();
const pageCount = async () => (await env.DB.prepare("SELECT COUNT(*) AS pages FROM recent_verdict_pages").first<{ pages: number }>())!.pages;

describe("recent verdicts: pages of many verdicts per row (issue 19)", () => {
  it("writes a flush's verdicts as one row, each verdict listed with its own seq", async () => {
    await emptyPages();
    const { db, rowsWritten } = meteredD1();
    await keep(db, Array.from({ length: 20 }, (_, index) => verdict(index + 1)));
    expect(rowsWritten()).toBe(1);
    expect(await listedVerdicts()).toEqual(Array.from({ length: 20 }, (_, index) => ({ seq: 20 - index, requestId: `storage-${20 - index}` })));
    const schema = await env.DB.prepare("SELECT type, name FROM sqlite_master WHERE tbl_name = 'recent_verdict_pages'").all<{ type: string; name: string }>();
    expect(schema.results).toEqual([{ type: "table", name: "recent_verdict_pages" }]);
  });

  it(`starts a new page every ${PAGE_VERDICTS} verdicts`, async () => {
    await emptyPages();
    const { db, rowsWritten } = meteredD1();
    await keep(db, Array.from({ length: PAGE_VERDICTS + 1 }, (_, index) => verdict(index + 1)));
    expect([rowsWritten(), await pageCount()]).toEqual([2, 2]);
    expect((await listedVerdicts()).length).toBe(PAGE_VERDICTS + 1);
  });

  it("starts a new page before 256 KiB of verdicts, and gives a verdict larger than that a page alone", async () => {
    await emptyPages();
    const sized = (index: number, chars: number): RecentVerdict => ({ ...verdict(index), checks: [{ id: "identity.ppt", result: "fail", detail: "x".repeat(chars) }] });
    // 100 KB, 100 KB, 100 KB (past 256 KiB with the first two), 300 KB, 1 KB.
    await keep(env.DB, [sized(1, 100_000), sized(2, 100_000), sized(3, 100_000), sized(4, 300_000), sized(5, 1_000)]);
    const pages = await env.DB.prepare("SELECT first_seq, count FROM recent_verdict_pages ORDER BY first_seq").all<{ first_seq: number; count: number }>();
    expect(pages.results).toEqual([
      { first_seq: 1, count: 2 },
      { first_seq: 3, count: 1 },
      { first_seq: 4, count: 1 },
      { first_seq: 5, count: 1 },
    ]);
    expect((await listedVerdicts()).map(({ requestId }) => requestId)).toEqual(["storage-5", "storage-4", "storage-3", "storage-2", "storage-1"]);
  });

  it("reads the pages newest first by their key", async () => {
    const plan = await env.DB.prepare(`EXPLAIN QUERY PLAN SELECT first_seq, verdicts FROM recent_verdict_pages WHERE first_seq < ? ORDER BY first_seq DESC LIMIT 4`).bind(100).all<{ detail: string }>();
    expect(plan.results.map(({ detail }) => detail)).toEqual(["SEARCH recent_verdict_pages USING INTEGER PRIMARY KEY (rowid<?)"]);
  });

  it("takes over the oldest page once it is past the newest verdicts kept: 1 row written per page, not 2, and paging holds", { timeout: 60_000 }, async () => {
    await emptyPages();
    await insertOldVerdicts(RECENT_VERDICTS_KEPT, 3);
    const { db, rowsWritten } = meteredD1();
    await keep(db, [verdict(1), verdict(2), verdict(3)]);
    expect(rowsWritten()).toBe(1); // an insert and the prune's delete of the oldest page would be 2
    expect(await pageCount()).toBe(Math.ceil(RECENT_VERDICTS_KEPT / 3));

    const { verdicts: newest } = await listRecentVerdicts(env.DB, { limit: 4 });
    expect(newest.map(({ requestId }) => requestId)).toEqual(["storage-3", "storage-2", "storage-1", `old-${RECENT_VERDICTS_KEPT}`]);
    const next = RECENT_VERDICTS_KEPT + 1;
    expect(newest.map(({ seq }) => seq)).toEqual([next + 2, next + 1, next, next - 1]);
    expect(newest[0]).toMatchObject({ cli: "77272509100", carrier: "Kazakhtelecom", action: "allow", elapsedMs: 0.5, checks: [], failedChecks: [], at: new Date(1_800_000_000_003).toISOString() });
    const { verdicts: nextPage } = await listRecentVerdicts(env.DB, { limit: 2, beforeSeq: next });
    expect(nextPage.map(({ requestId }) => requestId)).toEqual([`old-${RECENT_VERDICTS_KEPT}`, `old-${RECENT_VERDICTS_KEPT - 1}`]);
    const listed = await listedVerdicts();
    expect(listed).toHaveLength(RECENT_VERDICTS_KEPT);
    expect(listed.at(-1)).toEqual({ seq: 4, requestId: "old-4" });
  });

  it("lists exactly the newest verdicts kept, whatever the pages hold, while filling, over gaps and across flushes", { timeout: 60_000 }, async () => {
    await emptyPages();
    await insertOldVerdicts(RECENT_VERDICTS_KEPT - 5, 7);
    // A gap: a page an operator deleted, the next to be taken over among them.
    await env.DB.prepare("DELETE FROM recent_verdict_pages WHERE first_seq IN (1, 43)").run();
    let expected = await listedVerdicts();
    let next = 0;
    let seq = RECENT_VERDICTS_KEPT - 5;
    const { db, rowsWritten } = meteredD1();
    for (const count of [3, 9, 1, 60, 7, 300]) {
      const verdicts = Array.from({ length: count }, () => verdict(++next));
      const written = rowsWritten();
      await keep(db, verdicts);
      expected = [...verdicts.map((each) => ({ seq: ++seq, requestId: each.requestId })).reverse(), ...expected].filter((listed) => listed.seq > seq - RECENT_VERDICTS_KEPT);
      expect(await listedVerdicts()).toEqual(expected);
      // A row per page, and the prune's deletes of the pages wholly past the newest kept.
      expect(rowsWritten() - written).toBeLessThanOrEqual(Math.ceil(count / PAGE_VERDICTS) + Math.ceil(count / 7) + 1);
      // Only the oldest page may hold verdicts past the newest kept.
      const { stored, oldestPage } = (await env.DB.prepare("SELECT SUM(count) AS stored, (SELECT count FROM recent_verdict_pages ORDER BY first_seq LIMIT 1) AS oldestPage FROM recent_verdict_pages").first<{ stored: number; oldestPage: number }>())!;
      expect(stored).toBeLessThanOrEqual(RECENT_VERDICTS_KEPT + oldestPage - 1);
    }
  });
});

/** env.DB, with the characters of page JSON each query read out of recent_verdict_pages. */
function charsPerRead() {
  const reads: number[] = [];
  const db = new Proxy(env.DB, {
    get(target, property) {
      if (property !== "prepare") return Reflect.get(target, property, target) as unknown;
      return (sql: string) => {
        const statement = target.prepare(sql);
        return {
          bind: (...values: unknown[]) => ({
            all: async <T>() => {
              const result = await statement.bind(...values).all<T & { verdicts?: string }>();
              if (/FROM recent_verdict_pages/.test(sql)) reads.push(result.results.reduce((chars, row) => chars + (row.verdicts?.length ?? 0), 0));
              return result;
            },
          }),
        };
      };
    },
  }) as D1Database;
  return { db, reads };
}

describe("recent verdicts: one read brings at most MAX_CHARS_PER_READ characters of pages into the isolate", () => {
  // 20: the third read asks for 16 pages, finds 9 and can bring 7: the table does not end there.
  it("walks 20 pages of 1 MB each to the oldest verdict kept, no query reading more than the bound", { timeout: 60_000 }, async () => {
    await emptyPages();
    await insertLargePages(20, 1024 * 1024);
    const { db, reads } = charsPerRead();
    try {
      const { verdicts: found } = await listRecentVerdicts(db, { number: "77000000001", limit: 10 });
      expect(found.map(({ seq, requestId }) => ({ seq, requestId }))).toEqual([{ seq: 1, requestId: "large-1" }]);
      expect(reads.reduce((total, chars) => total + chars, 0)).toBeGreaterThan(20 * 1024 * 1024);
      expect(Math.max(...reads)).toBeLessThanOrEqual(MAX_CHARS_PER_READ);
    } finally {
      await emptyPages();
    }
  });
});

describe("recent verdicts: the move from one row per verdict (migrations/0011)", () => {
  it("makes each earlier row a page of its own at its seq, and lists it as it was", async () => {
    const migration = env.TEST_MIGRATIONS.find(({ name }) => name.startsWith("0011_"))!;
    // Run the migration again, on a database as 0008 left it, with the current pages set aside.
    await env.DB.batch([
      env.DB.prepare("ALTER TABLE recent_verdict_pages RENAME TO pages_set_aside"),
      env.DB.prepare(
        `CREATE TABLE recent_verdicts (seq INTEGER PRIMARY KEY, request_id TEXT NOT NULL, at INTEGER NOT NULL, cli TEXT, destination TEXT, action TEXT NOT NULL, verstat TEXT NOT NULL,
           signed INTEGER NOT NULL, attest TEXT, decided_by TEXT, failed_checks TEXT NOT NULL, carrier TEXT NOT NULL, elapsed_ms REAL NOT NULL, checks TEXT NOT NULL)`,
      ),
      env.DB.prepare(
        `INSERT INTO recent_verdicts VALUES (7, 'r-7', 1800000000000, '77272509100', '77012345678', 'block', 'TN-Validation-Failed', 1, 'A', 'stir.tn-validation-failed', ',passport.signature,', 'TransitCo', 2.5, ?),
           (9, 'r-9', 1800000001000, NULL, NULL, 'allow', 'No-TN-Validation', 0, NULL, NULL, ',', '(unknown)', 0.5, '[]')`,
      ).bind(JSON.stringify([{ id: "passport.signature", result: "fail", detail: "bad signature", evidence: { alg: "ES256" } }])),
    ]);
    try {
      await env.DB.batch(migration.queries.map((query) => env.DB.prepare(query)));
      expect((await listRecentVerdicts(env.DB, { limit: 10 })).verdicts).toEqual([
        { seq: 9, requestId: "r-9", at: new Date(1_800_000_001_000).toISOString(), cli: null, destination: null, action: "allow", verstat: "No-TN-Validation", signed: false, attest: null, decidedBy: null, failedChecks: [], carrier: "(unknown)", elapsedMs: 0.5, checks: [] },
        {
          seq: 7,
          requestId: "r-7",
          at: new Date(1_800_000_000_000).toISOString(),
          cli: "77272509100",
          destination: "77012345678",
          action: "block",
          verstat: "TN-Validation-Failed",
          signed: true,
          attest: "A",
          decidedBy: "stir.tn-validation-failed",
          failedChecks: ["passport.signature"],
          carrier: "TransitCo",
          elapsedMs: 2.5,
          checks: [{ id: "passport.signature", result: "fail", detail: "bad signature", evidence: { alg: "ES256" } }],
        },
      ]);
      expect(await env.DB.prepare("SELECT name FROM sqlite_master WHERE name = 'recent_verdicts'").first()).toBeNull();
    } finally {
      await env.DB.batch([env.DB.prepare("DROP TABLE IF EXISTS recent_verdict_pages"), env.DB.prepare("ALTER TABLE pages_set_aside RENAME TO recent_verdict_pages")]);
    }
  });
});

describe("recent verdicts: what an analyst looking up a reported call finds", () => {
  const ids = (listed: { verdicts: { requestId: string }[] }) => listed.verdicts.map(({ requestId }) => requestId);
  /** Five calls, oldest first: each presents its numbers in another header, on another carrier, with another outcome. */
  const calls: RecentVerdict[] = [
    { ...verdict(1), requestId: "by-cli", cli: "77272509111", carrier: "TransitCo", action: "block", signed: true, checks: [{ id: "passport.signature", result: "fail" }] },
    { ...verdict(2), requestId: "by-from", cli: "77272509000", fromCli: "77272509111", action: "tag", checks: [{ id: "passport.signature", result: "pass" }] },
    { ...verdict(3), requestId: "by-pai", cli: "77272509000", fromCli: "77272509001", assertedCli: "77272509111", signed: true },
    { ...verdict(4), requestId: "by-claim", cli: "77272509000", claimedClis: ["77272509999", "77272509111"] },
    { ...verdict(5), requestId: "to-it", cli: "77272509000", destination: "77272509111", carrier: "TransitCo" },
  ];

  it("finds a number whichever header presented it, or as the called number, newest first", async () => {
    await emptyPages();
    await keep(env.DB, calls);
    expect(ids(await listRecentVerdicts(env.DB, { number: "77272509111", limit: 10 }))).toEqual(["to-it", "by-claim", "by-pai", "by-from", "by-cli"]);
    expect(ids(await listRecentVerdicts(env.DB, { number: "77272509999", limit: 10 }))).toEqual(["by-claim"]);
    expect(ids(await listRecentVerdicts(env.DB, { number: "77272509222", limit: 10 }))).toEqual([]);
  });

  it("filters by carrier, by a check that failed (not one that passed), by action and by whether the call was signed", async () => {
    await emptyPages();
    await keep(env.DB, calls);
    expect(ids(await listRecentVerdicts(env.DB, { carrier: "TransitCo", limit: 10 }))).toEqual(["to-it", "by-cli"]);
    expect(ids(await listRecentVerdicts(env.DB, { check: "passport.signature", limit: 10 }))).toEqual(["by-cli"]);
    expect(ids(await listRecentVerdicts(env.DB, { action: "tag", limit: 10 }))).toEqual(["by-from"]);
    expect(ids(await listRecentVerdicts(env.DB, { signed: true, limit: 10 }))).toEqual(["by-pai", "by-cli"]);
    expect(ids(await listRecentVerdicts(env.DB, { signed: false, limit: 10 }))).toEqual(["to-it", "by-claim", "by-from"]);
    expect(ids(await listRecentVerdicts(env.DB, { carrier: "TransitCo", action: "allow", limit: 10 }))).toEqual(["to-it"]);
  });

  it("lists up to the limit, before a seq when asked, and the failed checks' ids without the checks for a summary", async () => {
    await emptyPages();
    await keep(env.DB, calls);
    const newest = await listRecentVerdicts(env.DB, { limit: 2 });
    expect(newest.verdicts.map(({ seq, requestId }) => ({ seq, requestId }))).toEqual([
      { seq: 5, requestId: "to-it" },
      { seq: 4, requestId: "by-claim" },
    ]);
    expect(newest.next).toBeNull();
    expect(ids(await listRecentVerdicts(env.DB, { limit: 10, beforeSeq: 4 }))).toEqual(["by-pai", "by-from", "by-cli"]);
    const [summary] = (await listRecentVerdicts(env.DB, { limit: 1, beforeSeq: 2, fields: "summary" })).verdicts;
    expect(summary).toMatchObject({ requestId: "by-cli", failedChecks: ["passport.signature"], at: new Date(1_800_000_000_001).toISOString() });
    expect(summary).not.toHaveProperty("checks");
    expect(summary).not.toHaveProperty("atMs");
  });

  it("stops at maxChars characters, the first verdict listed whatever its size, and says where the next listing starts", async () => {
    await emptyPages();
    await keep(env.DB, calls);
    // Each verdict listed costs its JSON and a comma.
    const twoChars = (await listRecentVerdicts(env.DB, { limit: 2 })).verdicts.reduce((chars, listed) => chars + JSON.stringify(listed).length + 1, 0);
    expect(await listRecentVerdicts(env.DB, { limit: 10, maxChars: 1 })).toMatchObject({ verdicts: [{ seq: 5 }], next: 5 });
    const two = await listRecentVerdicts(env.DB, { limit: 10, maxChars: twoChars });
    expect({ seqs: two.verdicts.map(({ seq }) => seq), next: two.next }).toEqual({ seqs: [5, 4], next: 4 });
    expect((await listRecentVerdicts(env.DB, { limit: 10, maxChars: twoChars - 1 })).verdicts.map(({ seq }) => seq)).toEqual([5]);
    expect((await listRecentVerdicts(env.DB, { limit: 10, maxChars: 1_000_000 })).next).toBeNull();
  });
});
