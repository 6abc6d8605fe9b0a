import { DurableObject } from "cloudflare:workers";
import { MeteredStorage, PeriodicSave, type DurableStorageUse } from "../lib/durable-storage";

/** One presentation of a verified PASSporT, as the verifier reports it to the replay guard. */
export interface Presentation {
  /** SHA-256 (hex) of the PASSporT's JWS signing input (src/abuse/replay.ts): what was signed, without storing it. */
  signingInput: string;
  /** The leg it arrived on: the call's Request-URI (else To). Forked legs differ here. */
  leg: string;
  /** The SIP Call-ID of the INVITE that carried it, when the SBC said; a call's re-sends and forks keep it. */
  callId: string | null;
  atMs: number;
  /** When the PASSporT leaves its freshness window; after that it is refused as stale and need not be remembered. */
  expiresAtMs: number;
}

/** What the guard knows of a PASSporT once this presentation is counted; the replay check judges it. */
export interface PresentationRecord {
  /** Presentations so far, this one included: 1 the first time. */
  presentations: number;
  firstSeenAtMs: number;
  /** The distinct legs seen, in arrival order (at most MAX_LEGS). */
  legs: string[];
  /** This presentation's leg had not been seen (true for the first). */
  newLeg: boolean;
  /**
   * Whether this presentation carries the first presentation's Call-ID (true for the first when it has
   * one); null when neither carries one, so nothing tells whether they are one call.
   */
  sameCall: boolean | null;
}

const MAX_LEGS = 16;
const MAX_LEG_LENGTH = 256;
const MAX_CALL_ID_LENGTH = 256;

/** What the guard holds of one PASSporT, by the digest of its signing input. */
interface Held {
  firstMs: number;
  expiresMs: number;
  count: number;
  legs: string[];
  callId: string | null;
}

/**
 * Pages of presentations: each saves the PASSporTs whose record changed since the page before, with
 * the latest expiry among them. A page is deleted once that expiry has passed; a later page holds the
 * newer record of a PASSporT seen again, and overrides an earlier one when the pages are read back.
 */
const PAGES = "CREATE TABLE IF NOT EXISTS presentation_pages (page INTEGER PRIMARY KEY, expires_ms INTEGER NOT NULL, records TEXT NOT NULL)";
const READ_PAGES = "SELECT records FROM presentation_pages ORDER BY page";
const WRITE_PAGE = "INSERT INTO presentation_pages (expires_ms, records) VALUES (?, ?)";
/** The sweep: a scan of the pages, about two a second of a window and a minute. */
const SWEEP = "DELETE FROM presentation_pages WHERE expires_ms <= ?";
/** Records per page, so that a page stays far below the 2 MB a row may hold. */
const RECORDS_PER_PAGE = 2_000;
/**
 * How often, at most, the guard saves a page of what changed (README "Stores: loss bounds and
 * retention"): a restart forgets the presentations of these last moments, and a PASSporT first
 * presented then is a first presentation again if it comes back afterwards.
 */
export const REPLAY_SAVE_EVERY_MS = 1_000;
/**
 * How often (presentation time) the sweep runs. A record then outlives its freshness window by at
 * most this long, in memory and in its page.
 */
const SWEEP_EVERY_MS = 60_000;

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
  private readonly held = new Map<string, Held>();
  /** The digests whose record changed since the last page. */
  private readonly unsaved = new Set<string>();
  private readonly saving: PeriodicSave;
  /** When the sweep last ran (presentation time); a started object sweeps at its first presentation. */
  private sweptAtMs = Number.NEGATIVE_INFINITY;

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
    const leg = presentation.leg.slice(0, MAX_LEG_LENGTH);
    const callId = presentation.callId?.slice(0, MAX_CALL_ID_LENGTH) ?? null;
    this.sweep(presentation.atMs);
    const held = this.held.get(presentation.signingInput);
    this.unsaved.add(presentation.signingInput);
    // A record whose window has closed may wait for the sweep; it counts for nothing.
    if (!held || held.expiresMs <= presentation.atMs) {
      this.held.set(presentation.signingInput, { firstMs: presentation.atMs, expiresMs: presentation.expiresAtMs, count: 1, legs: [leg], callId });
      return { presentations: 1, firstSeenAtMs: presentation.atMs, legs: [leg], newLeg: true, sameCall: callId === null ? null : true };
    }
    const newLeg = !held.legs.includes(leg);
    if (newLeg && held.legs.length < MAX_LEGS) held.legs.push(leg);
    held.count++;
    return {
      presentations: held.count,
      firstSeenAtMs: held.firstMs,
      legs: [...held.legs],
      newLeg,
      sameCall: held.callId === null && callId === null ? null : held.callId === callId,
    };
  }

  /** Forgets the records whose window has closed, and deletes the pages that hold nothing else, at most once a minute. */
  private sweep(atMs: number): void {
    if (atMs - this.sweptAtMs < SWEEP_EVERY_MS) return;
    for (const [signingInput, { expiresMs }] of this.held) if (expiresMs <= atMs) this.held.delete(signingInput);
    this.storage.run(SWEEP, atMs);
    this.sweptAtMs = atMs;
  }

  /** A page (or a few, past RECORDS_PER_PAGE) of the records that changed since the last. */
  private save(): void {
    const records: SavedRecord[] = [];
    for (const signingInput of this.unsaved) {
      const held = this.held.get(signingInput);
      if (held) records.push([signingInput, held.firstMs, held.expiresMs, held.count, held.legs, held.callId]);
    }
    this.unsaved.clear();
    this.storage.transaction(() => {
      for (let start = 0; start < records.length; start += RECORDS_PER_PAGE) {
        const page = records.slice(start, start + RECORDS_PER_PAGE);
        this.storage.run(WRITE_PAGE, Math.max(...page.map(([, , expiresMs]) => expiresMs)), JSON.stringify(page));
      }
    });
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
      this.held.set(signingInput, { firstMs, expiresMs, count, legs, callId });
    }
  }
}
