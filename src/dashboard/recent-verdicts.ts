import type { CallerName } from "../verdict/caller-name";
import { TimeoutError, type BackgroundWork } from "../lib/timeout";
import { WriteBehind, type BoundedCall } from "../lib/write-behind";
import { d1Rows } from "../lib/storage-rows";
import { recordBackgroundDrops, recordBackgroundTimeout, recordStoreRows } from "../metrics/record";
import type { Check } from "../verdict/check";
import type { Action, Attestation, MonitoredAction, Verstat } from "../verdict/verdict";

/**
 * The dashboard's recent verdicts with their evidence (migrations/0011): the newest
 * RECENT_VERDICTS_KEPT, for the analyst looking up what happened to a reported call. Verdicts are
 * buffered per isolate and written after the responses in write-behind batches (src/lib/write-behind.ts),
 * as pages of many verdicts per row: D1 bills a row written per row, and a busy isolate's flush is a
 * page of a hundred verdicts or more. Each verdict still has its own seq, the dashboard's paging key.
 */
export interface RecentVerdict {
  requestId: string;
  atMs: number;
  cli: string | null;
  /**
   * From's number when it presents another than the caller ID (src/call/normalize.ts
   * otherPresentedCallers): the verdict judged it too, so a rule preview and a search by number read it.
   * Absent otherwise, and from verdicts kept before it was stored.
   */
  fromCli?: string;
  /** The same for P-Asserted-Identity's other identity (a tel URI beside a SIP one, RFC 3325 §9.1). */
  assertedCli?: string;
  /** The numbers Remote-Party-ID and P-Preferred-Identity presented besides those (src/call/normalize.ts claimedNumbers). */
  claimedClis?: string[];
  /** From's display name and what the verdict let the callee see of it (src/verdict/caller-name.ts); absent when From had none. */
  callerName?: Pick<CallerName, "presented" | "presentation">;
  destination: string | null;
  action: Action;
  verstat: Verstat;
  signed: boolean;
  attest: Attestation | null;
  decidedBy: string | null;
  /** What monitored rules and policy entries would have done; absent when nothing was monitored. */
  monitored?: MonitoredAction[];
  /** The ingress carrier for display: the operator's name for it, else as presented, else "(unknown)". */
  carrier: string;
  /**
   * The ingress as an operator rule reads it (src/rules/matcher.ts RuleSubject): the trunk, the carrier
   * as presented and as the ingress map names it, and whether the call was classified international.
   * What a rule preview re-matches; absent from verdicts kept before it was stored.
   */
  ingress?: { trunk: string | null; carrier: string | null; carrierName: string | null; international: boolean };
  elapsedMs: number;
  checks: Check[];
}

export const RECENT_VERDICTS_KEPT = 10_000;
/** While D1 is slow or unreachable the buffer keeps the newest verdicts only, so memory stays bounded; the rest are dropped and counted. */
export const MAX_BUFFERED_VERDICTS = 2_000;
/**
 * And at most this many characters of them. A verdict with its checks is 2–3 KB, but the calling peer
 * decides part of it: eight Identity headers, each reported with checks of its own, make one ten times
 * that, and 2 000 of those would hold a good part of an isolate's 128 MB.
 */
export const MAX_BUFFERED_CHARS = 8 * 1024 * 1024;
/** Verdicts per page, and the characters of JSON a page holds at most: a D1 row holds 2 MB, and a verdict with its checks 2–3 KB. */
export const PAGE_VERDICTS = 250;
const PAGE_CHARS = 256 * 1024;
/** Verdicts per D1 batch (one transaction): what a write that times out can take with it. */
const VERDICTS_PER_BATCH = 500;
const TASK = "write-behind:recent-verdicts";

/**
 * The verdicts waiting for a flush, as the JSON their page stores: a string per verdict, serialized
 * once, holds the isolate's memory far less than the verdict's objects would until the flush.
 */
const buffered: string[] = [];
/** The characters of JSON `buffered` holds. */
let bufferedChars = 0;
let db: D1Database | null = null;
const writer = new WriteBehind({ pending: () => buffered.length, write: (bounded) => writeBuffered(db!, bounded) }, VERDICTS_PER_BATCH, TASK, recordBackgroundTimeout);

/** Keeps the newest verdicts within MAX_BUFFERED_VERDICTS and MAX_BUFFERED_CHARS, counting the older ones as dropped. */
function trimToNewest() {
  let excess = 0;
  while (excess < buffered.length && (buffered.length - excess > MAX_BUFFERED_VERDICTS || bufferedChars > MAX_BUFFERED_CHARS)) bufferedChars -= buffered[excess++]!.length;
  if (excess === 0) return;
  recordBackgroundDrops(TASK, excess);
  buffered.splice(0, excess);
}

export function keepRecentVerdict(verdict: RecentVerdict, deps: BackgroundWork & { db: D1Database }): void {
  const json = JSON.stringify(verdict);
  buffered.push(json);
  bufferedChars += json.length;
  trimToNewest();
  db = deps.db;
  writer.schedule(deps);
}

/** The newest page's end: the seq the next verdict takes (1 for the first). */
const NEXT_SEQ = "COALESCE((SELECT first_seq + count FROM recent_verdict_pages ORDER BY first_seq DESC LIMIT 1), 1)";

/**
 * A page of `?1` verdicts (`?2`, their JSON array) at the next seq. Once the table holds
 * RECENT_VERDICTS_KEPT verdicts, the oldest page is past them as soon as the new page is in: it is
 * taken over instead, moved to the next seq with the new verdicts in it, 1 row written where an insert
 * and a delete would be 2. A batch is one transaction, so the seqs its statements compute cannot
 * interleave with another isolate's.
 */
const WRITE_PAGE = `INSERT INTO recent_verdict_pages (first_seq, count, verdicts)
    SELECT CASE WHEN oldest.first_seq + oldest.count <= next.seq + ?1 - ${RECENT_VERDICTS_KEPT} THEN oldest.first_seq ELSE next.seq END, ?1, ?2
      FROM (SELECT ${NEXT_SEQ} AS seq) AS next
      LEFT JOIN (SELECT first_seq, count FROM recent_verdict_pages ORDER BY first_seq LIMIT 1) AS oldest ON true
      WHERE true
    ON CONFLICT (first_seq) DO UPDATE SET first_seq = ${NEXT_SEQ}, count = excluded.count, verdicts = excluded.verdicts`;
/** The pages whose every verdict is past the newest RECENT_VERDICTS_KEPT (after a large page, or while the table fills). */
const PRUNE = `DELETE FROM recent_verdict_pages WHERE first_seq < ${NEXT_SEQ} - ${RECENT_VERDICTS_KEPT} AND first_seq + count <= ${NEXT_SEQ} - ${RECENT_VERDICTS_KEPT}`;

/**
 * The next pages of the buffer, up to VERDICTS_PER_BATCH verdicts and the first `available`: each at most
 * PAGE_VERDICTS verdicts and PAGE_CHARS characters (or one verdict alone).
 */
function takePages(available: number): string[][] {
  const pages: string[][] = [];
  const limit = Math.min(available, buffered.length, VERDICTS_PER_BATCH);
  let taken = 0;
  while (taken < limit) {
    const page: string[] = [];
    let chars = 0;
    while (taken < limit && page.length < PAGE_VERDICTS && (page.length === 0 || chars + buffered[taken]!.length < PAGE_CHARS)) {
      chars += buffered[taken]!.length + 1;
      page.push(buffered[taken++]!);
    }
    pages.push(page);
  }
  for (const verdict of buffered.splice(0, taken)) bufferedChars -= verdict.length;
  return pages;
}

/**
 * Writes what the buffer held when the write began, a batch of pages at a time. What arrives meanwhile
 * waits for the write-behind's next batch: a verdict arrives during every write on a busy isolate, and a
 * write that took it too would never end while traffic lasts, holding its flush past the span
 * src/lib/write-behind.ts bounds it to. A batch D1 refused goes back in front of the buffer for the next
 * flush; a batch whose call timed out may still land, so it is not written again (its verdicts would be
 * listed twice) and is counted as dropped.
 */
async function writeBuffered(database: D1Database, bounded: BoundedCall): Promise<boolean> {
  for (let waiting = buffered.length; waiting > 0 && buffered.length > 0; ) {
    const pages = takePages(waiting);
    waiting -= pages.reduce((verdicts, page) => verdicts + page.length, 0);
    const statements = pages.map((page) => database.prepare(WRITE_PAGE).bind(page.length, `[${page.join(",")}]`));
    // The prune rides on the write's last batch.
    if (waiting === 0 || buffered.length === 0) statements.push(database.prepare(PRUNE));
    try {
      recordStoreRows("recent-verdicts", d1Rows(await bounded(database.batch(statements))));
    } catch (error) {
      const verdicts = pages.flat();
      if (error instanceof TimeoutError) recordBackgroundDrops(TASK, verdicts.length);
      else {
        buffered.unshift(...verdicts);
        for (const verdict of verdicts) bufferedChars += verdict.length;
        trimToNewest();
      }
      console.error(JSON.stringify({ level: "error", event: "recent-verdicts-write-failed", error: String(error), verdicts: verdicts.length, kept: !(error instanceof TimeoutError) }));
      return false;
    }
  }
  return true;
}

export interface RecentVerdictFilter {
  /** Canonical TN, matched against the CLI and the called number. */
  number?: string;
  carrier?: string;
  /** A check id that failed. */
  check?: string;
  action?: Action;
  signed?: boolean;
  limit: number;
  beforeSeq?: number;
  /** `summary`: each verdict without its checks (their ids that failed stay), what a count or a breakdown needs. */
  fields?: "full" | "summary";
  /** The characters of JSON the verdicts listed may come to (the first is listed whatever its size); unbounded when absent. */
  maxChars?: number;
}

const failedCheckIds = (checks: Check[]) => [...new Set(checks.filter((check) => check.result === "fail").map((check) => check.id))];

function matches(verdict: RecentVerdict, failedChecks: string[], filter: RecentVerdictFilter): boolean {
  return (
    (filter.number === undefined || verdict.cli === filter.number || verdict.fromCli === filter.number || verdict.assertedCli === filter.number || verdict.claimedClis?.includes(filter.number) === true || verdict.destination === filter.number) &&
    (filter.carrier === undefined || verdict.carrier === filter.carrier) &&
    (filter.check === undefined || failedChecks.includes(filter.check)) &&
    (filter.action === undefined || verdict.action === filter.action) &&
    (filter.signed === undefined || verdict.signed === filter.signed)
  );
}

/** Pages read by the first query of a listing; each further query reads twice as many, up to MAX_PAGES_PER_READ (small pages, a rare filter). */
const FIRST_PAGES_READ = 4;
const MAX_PAGES_PER_READ = 256;
/**
 * The characters of pages' JSON one query brings into the isolate at most: 256 pages of up to PAGE_CHARS
 * each, or of one large verdict each, would be 64 MB or more in an isolate of 128 MB. A D1 row holds
 * 2 MB, so every read reads a page at least; a listing with a rare filter still walks the whole window,
 * in more queries.
 */
export const MAX_CHARS_PER_READ = 8 * 1024 * 1024;
/**
 * Pages starting before a seq, newest first, up to `?2` of them and `?3` characters of JSON, with the seq
 * the newest RECENT_VERDICTS_KEPT start at and how many pages the count alone would have read (fewer
 * than `?2`: the table ends there). The characters are summed before any page's JSON is read out.
 */
const READ_PAGES = `WITH newest AS MATERIALIZED (
      SELECT first_seq, SUM(length(verdicts)) OVER (ORDER BY first_seq DESC) AS chars_through
        FROM recent_verdict_pages WHERE first_seq < ?1 ORDER BY first_seq DESC LIMIT ?2)
    SELECT pages.first_seq, pages.verdicts, ${NEXT_SEQ} - ${RECENT_VERDICTS_KEPT} AS oldest_kept, (SELECT COUNT(*) FROM newest) AS counted
      FROM newest JOIN recent_verdict_pages AS pages ON pages.first_seq = newest.first_seq
      WHERE newest.chars_through <= ?3
      ORDER BY pages.first_seq DESC`;

/**
 * The newest RECENT_VERDICTS_KEPT verdicts with their seqs, newest first, before `beforeSeq` when given:
 * pages are read a few at a time, at most MAX_CHARS_PER_READ of them, and parsed one by one, so a caller
 * that walks the whole window (a rule preview) holds one read's pages, not the window.
 */
export async function* recentVerdictsNewestFirst(db: D1Database, beforeSeq?: number): AsyncGenerator<{ seq: number; verdict: RecentVerdict }> {
  for (let before = beforeSeq ?? Number.MAX_SAFE_INTEGER, pagesRead = FIRST_PAGES_READ; ; pagesRead = Math.min(pagesRead * 2, MAX_PAGES_PER_READ)) {
    const { results: pages } = await db.prepare(READ_PAGES).bind(before, pagesRead, MAX_CHARS_PER_READ).all<{ first_seq: number; verdicts: string; oldest_kept: number; counted: number }>();
    for (const page of pages) {
      const verdicts = JSON.parse(page.verdicts) as RecentVerdict[];
      for (let index = verdicts.length - 1; index >= 0; index--) {
        const seq = page.first_seq + index;
        if (seq < page.oldest_kept) return;
        if (beforeSeq === undefined || seq < beforeSeq) yield { seq, verdict: verdicts[index]! };
      }
    }
    // The table ends here unless the characters' bound, not the count, stopped the read.
    if (pages.length === 0 || (pages[0]!.counted < pagesRead && pages.length === pages[0]!.counted)) return;
    before = pages.at(-1)!.first_seq;
  }
}

/**
 * The newest RECENT_VERDICTS_KEPT verdicts that pass the filter, newest first, before `beforeSeq` when
 * given; and, when `maxChars` stopped the list short of the limit, the seq to list on `before` (`next`).
 */
export async function listRecentVerdicts(db: D1Database, filter: RecentVerdictFilter) {
  const found = [];
  let chars = 0;
  for await (const { seq, verdict } of recentVerdictsNewestFirst(db, filter.beforeSeq)) {
    const failedChecks = failedCheckIds(verdict.checks);
    if (!matches(verdict, failedChecks, filter)) continue;
    const { atMs, checks, ...rest } = verdict;
    const listed = { seq, ...rest, at: new Date(atMs).toISOString(), failedChecks, ...(filter.fields === "summary" ? {} : { checks }) };
    if (filter.maxChars !== undefined) {
      chars += JSON.stringify(listed).length + 1;
      if (chars > filter.maxChars && found.length > 0) return { verdicts: found, next: found.at(-1)!.seq };
    }
    found.push(listed);
    if (found.length === filter.limit) break;
  }
  return { verdicts: found, next: null };
}
