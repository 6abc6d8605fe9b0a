import type { Check } from "./check";

/** What the switch does with the call, least to most severe. */
export const ACTIONS = ["allow", "tag", "withhold", "block"] as const;
export type Action = (typeof ACTIONS)[number];

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
  checks: Check[];
}
