import type { Action } from "../verdict/verdict";

/**
 * What the operator configures for replay and velocity detection (src/config.ts reads it from the
 * Worker's vars). Kept apart from the Durable Object clients so configuration stays runtime-agnostic
 * (the CLI reads it in Node).
 */

/**
 * Replay detection's settings. A replay takes no action of its own: it fails verification, and the
 * operator's policy for a failed verification (`stir.tn-validation-failed`) decides (spec digest §9:
 * "report replays, let policy decide").
 */
export interface ReplayPolicy {
  /** Forking legitimately presents one PASSporT on several legs at once; a fork stays verified. */
  forkAction: Action;
  /** How long after the first presentation a fork or a re-send of the same call (its Call-ID) is accepted. */
  forkWindowMs: number;
  /**
   * Whether `POST /stir/v1/verification` (ATIS-1000082) asks the guard too. Its requests carry no Call-ID,
   * so a repeat on the same callee is a replay even when it is an SBC's retry or a failover: opt-in.
   */
  atis: boolean;
}

/**
 * Velocity and rotation (cli-spoofing.md §3 check 11; the SIM-box and robocall patterns): calls per
 * presented CLI, distinct destinations per CLI, distinct CLIs per ingress trunk. Each counter's limit
 * is `<count>/<seconds>:<action>`; defaults are loose enough for a busy PBX number and are meant to
 * be tuned per interconnect.
 */
export const VELOCITY_COUNTERS = {
  "calls-per-cli": { variable: "VELOCITY_CALLS_PER_CLI", defaultLimit: "100/60:tag", what: "calls from this caller ID" },
  "destinations-per-cli": { variable: "VELOCITY_DESTINATIONS_PER_CLI", defaultLimit: "50/300:tag", what: "distinct destinations called from this caller ID" },
  "clis-per-trunk": { variable: "VELOCITY_CLIS_PER_TRUNK", defaultLimit: "1000/300:tag", what: "distinct caller IDs on this ingress trunk" },
} as const;
export type VelocityCounterName = keyof typeof VELOCITY_COUNTERS;

export interface VelocityLimit {
  /** Crossing means counting more than this within the window. */
  threshold: number;
  windowMs: number;
  action: Action;
}
