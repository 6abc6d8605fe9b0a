/**
 * What the replay guard knows of the PASSporTs presented to it, held in memory: counted, judged and
 * forgotten here, saved by whoever holds the ledger. The Durable Object (src/abuse/replay-guard.ts)
 * pages it to its storage; the CLI's call-record replay (cli/replay-runtime.ts) keeps it in the
 * process, so a replayed file meets the same rules a deployment applies.
 */

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

/** What the ledger holds of one PASSporT, by the digest of its signing input. */
export interface Held {
  firstMs: number;
  expiresMs: number;
  count: number;
  legs: string[];
  callId: string | null;
}

/**
 * How often (presentation time) the sweep runs. A record then outlives its freshness window by at
 * most this long.
 */
const SWEEP_EVERY_MS = 60_000;

export class PresentationLedger {
  readonly held = new Map<string, Held>();
  /** When the sweep last ran (presentation time); a new ledger sweeps at its first presentation. */
  private sweptAtMs = Number.NEGATIVE_INFINITY;

  /** `onSweep` is told each time records were forgotten, at `atMs`: the guard deletes their pages then. */
  constructor(private readonly onSweep: (atMs: number) => void = () => {}) {}

  /** Counts the presentation and answers what is known of its PASSporT now. */
  present(presentation: Presentation): PresentationRecord {
    const leg = presentation.leg.slice(0, MAX_LEG_LENGTH);
    const callId = presentation.callId?.slice(0, MAX_CALL_ID_LENGTH) ?? null;
    this.sweep(presentation.atMs);
    const held = this.held.get(presentation.signingInput);
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

  /** Forgets the records whose window has closed, at most once a minute. */
  private sweep(atMs: number): void {
    if (atMs - this.sweptAtMs < SWEEP_EVERY_MS) return;
    for (const [signingInput, { expiresMs }] of this.held) if (expiresMs <= atMs) this.held.delete(signingInput);
    this.sweptAtMs = atMs;
    this.onSweep(atMs);
  }
}
