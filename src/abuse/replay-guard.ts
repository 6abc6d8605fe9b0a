import { DurableObject } from "cloudflare:workers";
import { MeteredSql, type DurableStorageUse } from "../lib/durable-sql";

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

/**
 * Keyed by the digest alone (WITHOUT ROWID) and with no other index: a new PASSporT writes its row, 1 row
 * as the storage bills it, and the sweep's delete of it later another. An index on expiry, for a prune
 * before every presentation, would make that 2 and 1 (the index entry is a row written too).
 * The tables of earlier versions were keyed on the signature's text, which no key of this one
 * matches: they are dropped, rows and all (a rollback's table included, when it rolls forward again).
 */
const PRESENTATIONS = `
  DROP TABLE IF EXISTS presentations;
  DROP TABLE IF EXISTS presentations_rowid;
  CREATE TABLE IF NOT EXISTS presentations_by_signing_input (
    signing_input TEXT PRIMARY KEY, first_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL, count INTEGER NOT NULL, legs TEXT NOT NULL, call_id TEXT
  ) WITHOUT ROWID;`;

const FIND = "SELECT first_ms, expires_ms, count, legs, call_id FROM presentations_by_signing_input WHERE signing_input = ?";
/** A first presentation, or the first since the held row's freshness window closed: the row starts over. */
const RECORD_FIRST = `INSERT INTO presentations_by_signing_input (signing_input, first_ms, expires_ms, count, legs, call_id) VALUES (?, ?, ?, 1, ?, ?)
  ON CONFLICT (signing_input) DO UPDATE SET first_ms = excluded.first_ms, expires_ms = excluded.expires_ms, count = 1, legs = excluded.legs, call_id = excluded.call_id`;
const RECORD_AGAIN = "UPDATE presentations_by_signing_input SET count = count + 1, legs = ? WHERE signing_input = ?";
/** The sweep: a scan of the table, which holds the PASSporTs of about two minutes (below). */
const SWEEP = "DELETE FROM presentations_by_signing_input WHERE expires_ms <= ?";
/**
 * How often (presentation time) the sweep runs. A row then outlives its freshness window by at most
 * this long, and each sweep reads the rows of about a window and a minute: some two rows read per
 * presentation, where a row written costs a thousand times a row read.
 */
const SWEEP_EVERY_MS = 60_000;

interface PresentationRow extends Record<string, SqlStorageValue> {
  first_ms: number;
  expires_ms: number;
  count: number;
  legs: string;
  call_id: string | null;
}

/**
 * Replay detection (RFC 8224 §12.1; spec digest §9): remembers every verified PASSporT until its
 * freshness window closes, so the same PASSporT presented again — through any isolate, in any
 * location — is seen. One object holds the PASSporTs of one shard (src/abuse/shard.ts); it stores
 * digests, legs and the first presentation's Call-ID only, and forgets each row when the PASSporT
 * would be refused as stale anyway. It counts and reports; src/abuse/replay.ts judges.
 */
export class ReplayGuard extends DurableObject {
  /** When the sweep last ran (presentation time); a started object sweeps at its first presentation. */
  private sweptAtMs = Number.NEGATIVE_INFINITY;
  private readonly sql: MeteredSql;

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    ctx.storage.transactionSync(() => ctx.storage.sql.exec(PRESENTATIONS));
    this.sql = new MeteredSql(ctx.storage);
  }

  /** Counts the presentation; answers what the guard knows of its PASSporT now, and what the storage did for it. */
  present(presentation: Presentation): PresentationRecord & { storage: DurableStorageUse } {
    return { ...this.record(presentation), storage: this.sql.take() };
  }

  private record(presentation: Presentation): PresentationRecord {
    const sql = this.sql;
    const leg = presentation.leg.slice(0, MAX_LEG_LENGTH);
    const callId = presentation.callId?.slice(0, MAX_CALL_ID_LENGTH) ?? null;
    this.sweep(presentation.atMs);
    const row = sql.rows<PresentationRow>(FIND, presentation.signingInput)[0];
    // A row whose window has closed may wait for the sweep; it counts for nothing.
    if (!row || row.expires_ms <= presentation.atMs) {
      sql.run(RECORD_FIRST, presentation.signingInput, presentation.atMs, presentation.expiresAtMs, JSON.stringify([leg]), callId);
      return { presentations: 1, firstSeenAtMs: presentation.atMs, legs: [leg], newLeg: true, sameCall: callId === null ? null : true };
    }
    const legs = JSON.parse(row.legs) as string[];
    const newLeg = !legs.includes(leg);
    if (newLeg && legs.length < MAX_LEGS) legs.push(leg);
    sql.run(RECORD_AGAIN, JSON.stringify(legs), presentation.signingInput);
    return {
      presentations: row.count + 1,
      firstSeenAtMs: row.first_ms,
      legs,
      newLeg,
      sameCall: row.call_id === null && callId === null ? null : row.call_id === callId,
    };
  }

  /** Deletes the rows whose window has closed, at most once a minute (and at an object's first presentation). */
  private sweep(atMs: number): void {
    if (atMs - this.sweptAtMs < SWEEP_EVERY_MS) return;
    this.sql.run(SWEEP, atMs);
    this.sweptAtMs = atMs;
  }
}
