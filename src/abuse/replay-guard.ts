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
 * Keyed by the digest alone (WITHOUT ROWID): a new PASSporT writes its row and its expiry entry, 2 rows
 * as the storage bills them, not also a rowid B-tree entry (3). The expiry index is what the prune
 * before each presentation reads.
 */
const PRESENTATIONS = `
  CREATE TABLE IF NOT EXISTS presentations (passport TEXT PRIMARY KEY, first_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL, count INTEGER NOT NULL, legs TEXT NOT NULL) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS presentations_expiry ON presentations (expires_ms);`;
/** For an object created with the earlier rowid table: its rows moved into the table above, once. */
const PRESENTATIONS_FROM_ROWID = `
  DROP INDEX IF EXISTS presentations_expiry;
  ALTER TABLE presentations RENAME TO presentations_rowid;
  ${PRESENTATIONS}
  INSERT INTO presentations (passport, first_ms, expires_ms, count, legs) SELECT passport, first_ms, expires_ms, count, legs FROM presentations_rowid;
  DROP TABLE presentations_rowid;`;

interface PresentationRow extends Record<string, SqlStorageValue> {
  first_ms: number;
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
  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    createKeyedTables(ctx.storage, { table: "presentations", schema: PRESENTATIONS, fromRowid: PRESENTATIONS_FROM_ROWID });
  }

  present(presentation: Presentation): PresentationRecord {
    const sql = this.ctx.storage.sql;
    const leg = presentation.leg.slice(0, MAX_LEG_LENGTH);
    sql.exec("DELETE FROM presentations WHERE expires_ms <= ?", presentation.atMs);
    const row = sql.exec<PresentationRow>("SELECT first_ms, count, legs FROM presentations WHERE passport = ?", presentation.passport).toArray()[0];
    if (!row) {
      sql.exec("INSERT INTO presentations (passport, first_ms, expires_ms, count, legs) VALUES (?, ?, ?, 1, ?)", presentation.passport, presentation.atMs, presentation.expiresAtMs, JSON.stringify([leg]));
      return { presentations: 1, firstSeenAtMs: presentation.atMs, legs: [leg], fork: false };
    }
    const legs = JSON.parse(row.legs) as string[];
    const newLeg = !legs.includes(leg);
    if (newLeg && legs.length < MAX_LEGS) legs.push(leg);
    sql.exec("UPDATE presentations SET count = count + 1, legs = ? WHERE passport = ?", JSON.stringify(legs), presentation.passport);
    return {
      presentations: row.count + 1,
      firstSeenAtMs: row.first_ms,
      legs,
      fork: newLeg && presentation.atMs - row.first_ms <= presentation.forkWindowMs,
    };
  }
}
