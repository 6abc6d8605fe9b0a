import { DurableObject } from "cloudflare:workers";
import { createKeyedTables } from "../lib/durable-sql";

/** One presentation of a verified PASSporT, as the verifier reports it to the replay guard. */
export interface Presentation {
  /** SHA-256 (hex) of the PASSporT's signature: identifies the PASSporT without storing it. */
  passport: string;
  /** The leg it arrived on: the call's Request-URI (else To). Forked legs differ here. */
  leg: string;
  atMs: number;
  /** When the PASSporT leaves its freshness window; after that it is refused as stale and need not be remembered. */
  expiresAtMs: number;
  /** A repeat on a new leg this soon after the first presentation is a fork, not a replay. */
  forkWindowMs: number;
}

export interface PresentationRecord {
  /** Presentations so far, this one included: 1 the first time. */
  presentations: number;
  firstSeenAtMs: number;
  /** The distinct legs seen, in arrival order (at most MAX_LEGS). */
  legs: string[];
  /** This repeat arrived on a leg not seen before, within the fork window of the first presentation. */
  fork: boolean;
}

const MAX_LEGS = 16;
const MAX_LEG_LENGTH = 256;

/**
 * Keyed by the digest alone (WITHOUT ROWID) and with no other index: a new PASSporT writes its row, 1 row
 * as the storage bills it, and the sweep's delete of it later another. An index on expiry, for a prune
 * before every presentation, made that 2 and 1 (the index entry is a row written too). The index is
 * dropped on every start, so an object that ran an earlier version after this one (a rollback) does
 * not go on paying for it.
 */
const PRESENTATIONS = `
  DROP INDEX IF EXISTS presentations_expiry;
  CREATE TABLE IF NOT EXISTS presentations (passport TEXT PRIMARY KEY, first_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL, count INTEGER NOT NULL, legs TEXT NOT NULL) WITHOUT ROWID;`;
/** For an object created with the earlier rowid table: its rows moved into the table above, once. */
const PRESENTATIONS_FROM_ROWID = `
  ALTER TABLE presentations RENAME TO presentations_rowid;
  ${PRESENTATIONS}
  INSERT INTO presentations (passport, first_ms, expires_ms, count, legs) SELECT passport, first_ms, expires_ms, count, legs FROM presentations_rowid;
  DROP TABLE presentations_rowid;`;

const FIND = "SELECT first_ms, expires_ms, count, legs FROM presentations WHERE passport = ?";
/** A first presentation, or the first since the held row's freshness window closed: the row starts over. */
const RECORD_FIRST =
  "INSERT INTO presentations (passport, first_ms, expires_ms, count, legs) VALUES (?, ?, ?, 1, ?) ON CONFLICT (passport) DO UPDATE SET first_ms = excluded.first_ms, expires_ms = excluded.expires_ms, count = 1, legs = excluded.legs";
const RECORD_AGAIN = "UPDATE presentations SET count = count + 1, legs = ? WHERE passport = ?";
/** The sweep: a scan of the table, which holds the PASSporTs of about two minutes (below). */
const SWEEP = "DELETE FROM presentations WHERE expires_ms <= ?";
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
}

/**
 * Replay detection (RFC 8224 §12.1; spec digest §9): remembers every verified PASSporT until its
 * freshness window closes, so the same PASSporT presented again — through any isolate, in any
 * location — is seen. One object holds the PASSporTs of one shard (src/abuse/shard.ts); it stores
 * digests and legs only, and forgets each row when the PASSporT would be refused as stale anyway.
 */
export class ReplayGuard extends DurableObject {
  /** When the sweep last ran (presentation time); a started object sweeps at its first presentation. */
  private sweptAtMs = Number.NEGATIVE_INFINITY;

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    createKeyedTables(ctx.storage, { table: "presentations", schema: PRESENTATIONS, fromRowid: PRESENTATIONS_FROM_ROWID });
  }

  present(presentation: Presentation): PresentationRecord {
    const sql = this.ctx.storage.sql;
    const leg = presentation.leg.slice(0, MAX_LEG_LENGTH);
    this.sweep(presentation.atMs);
    const row = sql.exec<PresentationRow>(FIND, presentation.passport).toArray()[0];
    // A row whose window has closed may wait for the sweep; it counts for nothing.
    if (!row || row.expires_ms <= presentation.atMs) {
      sql.exec(RECORD_FIRST, presentation.passport, presentation.atMs, presentation.expiresAtMs, JSON.stringify([leg]));
      return { presentations: 1, firstSeenAtMs: presentation.atMs, legs: [leg], fork: false };
    }
    const legs = JSON.parse(row.legs) as string[];
    const newLeg = !legs.includes(leg);
    if (newLeg && legs.length < MAX_LEGS) legs.push(leg);
    sql.exec(RECORD_AGAIN, JSON.stringify(legs), presentation.passport);
    return {
      presentations: row.count + 1,
      firstSeenAtMs: row.first_ms,
      legs,
      fork: newLeg && presentation.atMs - row.first_ms <= presentation.forkWindowMs,
    };
  }

  /** Deletes the rows whose window has closed, at most once a minute (and at an object's first presentation). */
  private sweep(atMs: number): void {
    if (atMs - this.sweptAtMs < SWEEP_EVERY_MS) return;
    this.ctx.storage.sql.exec(SWEEP, atMs);
    this.sweptAtMs = atMs;
  }
}
