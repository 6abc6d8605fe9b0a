import type { Check } from "./check";

/** What the switch does with the call, least to most severe. */
export const ACTIONS = ["allow", "tag", "withhold", "block"] as const;
export type Action = (typeof ACTIONS)[number];

/** Whether a rule or policy entry acts on the call, or is only counted for what it would have done (issue 20 "Monitor mode"). */
export const ENFORCEMENT_MODES = ["enforce", "monitor"] as const;
export type EnforcementMode = (typeof ENFORCEMENT_MODES)[number];

/** A finding in monitor mode: what it would have done, never enforced. `by` is the rule id or the check id. */
export interface MonitoredAction {
  by: string;
  action: Action;
  /** For the verdict's JSON readers only: never sent in SIP. */
  reason: string;
}

export type Verstat = "TN-Validation-Passed" | "TN-Validation-Failed" | "No-TN-Validation";
export type Attestation = "A" | "B" | "C";

export interface SipHeader {
  name: string;
  value: string;
}

/** The answer the SBC acts on. Field names are a contract with SBC integrations: add, never rename. */
export interface Verdict {
  requestId: string;
  action: Action;
  verstat: Verstat;
  attest: Attestation | null;
  /** SIP response to send upstream when the call is rejected; null when it proceeds. */
  sip: { code: number; reason: string } | null;
  /** Headers the SBC should set (or replace) on the INVITE it forwards, or add to its rejection. */
  headers: SipHeader[];
  /** Which check decided the action, when one did. */
  decidedBy: string | null;
  /** Each monitored finding, not enforced: absent when there is none. */
  monitored?: MonitoredAction[];
  checks: Check[];
}
