import { DurableObject } from "cloudflare:workers";
import { MeteredStorage, PeriodicSave, type DurableStorageUse } from "../lib/durable-storage";
import { PresentationLedger, type Presentation, type PresentationRecord } from "./presentation-ledger";

export type { Presentation, PresentationRecord };

/**
 * Pages of presentations: each saves the PASSporTs whose record changed since the page before, with
 * the latest expiry among them. A page is deleted once that expiry has passed; a later page holds the
 * newer record of a PASSporT seen again, and overrides an earlier one when the pages are read back.
 */
const PAGES = "CREATE TABLE IF NOT EXISTS presentation_pages (page INTEGER PRIMARY KEY, expires_ms INTEGER NOT NULL, records TEXT NOT NULL)";
const READ_PAGES = "SELECT records FROM presentation_pages ORDER BY page";
const WRITE_PAGE = "INSERT INTO presentation_pages (expires_ms, records) VALUES (?, ?)";
/** The sweep (run when the ledger sweeps, at most once a minute of presentation time, so a record outlives its window in its page by at most that): a scan of the pages, about two a second of a window and a minute. */
const SWEEP = "DELETE FROM presentation_pages WHERE expires_ms <= ?";
/** Records per page, so that a page stays far below the 2 MB a row may hold. */
const RECORDS_PER_PAGE = 2_000;
/**
 * How often, at most, the guard saves a page of what changed (README "Stores: loss bounds and
 * retention"): a restart forgets the presentations of these last moments, and a PASSporT first
 * presented then is a first presentation again if it comes back afterwards.
 */
export const REPLAY_SAVE_EVERY_MS = 1_000;
type SavedRecord = [signingInput: string, firstMs: number, expiresMs: number, count: number, legs: string[], callId: string | null];

const isSavedRecord = (value: unknown): value is SavedRecord =>
  Array.isArray(value) &&
  value.length === 6 &&
  typeof value[0] === "string" &&
  [value[1], value[2], value[3]].every((field) => typeof field === "number") &&
  Array.isArray(value[4]) &&
  value[4].every((leg) => typeof leg === "string") &&
  (value[5] === null || typeof value[5] === "string");

/**
 * Replay detection (RFC 8224 §12.1; spec digest §9): remembers every verified PASSporT until its
 * freshness window closes, so the same PASSporT presented again — through any isolate, in any
 * location — is seen. One object holds the PASSporTs of one shard (src/abuse/shard.ts); it stores
 * digests, legs and the first presentation's Call-ID only, and forgets each when the PASSporT would be
 * refused as stale anyway. It counts and reports; src/abuse/replay.ts judges.
 *
 * The records are held in memory, where every presentation is judged, and saved a page at a time at
 * most every REPLAY_SAVE_EVERY_MS (src/lib/durable-storage.ts PeriodicSave): a page of the records that
 * changed meanwhile, and later its delete, are two rows for many presentations, where a row per
 * presentation and its delete were two each (issue 19). A restart reads the pages back.
 */
export class ReplayGuard extends DurableObject {
  private readonly storage: MeteredStorage;
  /** What is known of each PASSporT; the sweep that forgets closed records deletes their pages too. */
  private readonly ledger = new PresentationLedger((atMs) => this.storage.run(SWEEP, atMs));
  /** The digests whose record changed since the last page. */
  private readonly unsaved = new Set<string>();
  private readonly saving: PeriodicSave;

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    this.storage = new MeteredStorage(ctx.storage);
    ctx.storage.sql.exec(PAGES);
    for (const { records } of ctx.storage.sql.exec<{ records: string }>(READ_PAGES)) this.readPage(records);
    this.saving = new PeriodicSave(this.storage, REPLAY_SAVE_EVERY_MS, () => this.save());
  }

  /** Counts the presentation; answers what the guard knows of its PASSporT now, and what the storage did since the last answer. */
  async present(presentation: Presentation): Promise<PresentationRecord & { storage: DurableStorageUse }> {
    const record = this.record(presentation);
    await this.saving.changed();
    return { ...record, storage: this.storage.take() };
  }

  override async alarm(): Promise<void> {
    this.saving.due();
  }

  private record(presentation: Presentation): PresentationRecord {
    this.unsaved.add(presentation.signingInput);
    return this.ledger.present(presentation);
  }

  /**
   * A page (or a few, past RECORDS_PER_PAGE) of the records that changed since the last. They count as
   * saved only once the transaction has committed: a write that fails leaves them for the alarm's
   * retry (Workers retries a failed alarm) or the next save.
   */
  private save(): void {
    const records: SavedRecord[] = [];
    for (const signingInput of this.unsaved) {
      const held = this.ledger.held.get(signingInput);
      if (held) records.push([signingInput, held.firstMs, held.expiresMs, held.count, held.legs, held.callId]);
    }
    this.storage.transaction(() => {
      for (let start = 0; start < records.length; start += RECORDS_PER_PAGE) {
        const page = records.slice(start, start + RECORDS_PER_PAGE);
        this.storage.run(WRITE_PAGE, Math.max(...page.map(([, , expiresMs]) => expiresMs)), JSON.stringify(page));
      }
    });
    this.unsaved.clear();
  }

  /** A saved page's records over those of the pages before it; what cannot be read is left out. */
  private readPage(text: string): void {
    let records: unknown;
    try {
      records = JSON.parse(text);
    } catch {
      return;
    }
    if (!Array.isArray(records)) return;
    for (const record of records) {
      if (!isSavedRecord(record)) continue;
      const [signingInput, firstMs, expiresMs, count, legs, callId] = record;
      this.ledger.held.set(signingInput, { firstMs, expiresMs, count, legs, callId });
    }
  }
}
