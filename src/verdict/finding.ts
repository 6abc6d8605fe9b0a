import type { Action } from "./verdict";

/**
 * A finding is a failed (or notable) check that asks for an action. Each stage maps its own failed
 * checks to actions through the operator's policy table; the verdict takes the most severe finding.
 */
export interface Finding {
  /** The id of the check that produced it (one of the verdict's `checks`). */
  checkId: string;
  action: Action;
  /** Why, in one sentence, for the verdict's readers; never sent in SIP (src/verdict/sip-label.ts). */
  reason: string;
  /** For `block`: 603 (Decline, the default) or 608 (Rejected by an intermediary, RFC 8688). */
  sipCode?: 603 | 608;
  /**
   * For `tag`: the label the SBC shows or forwards (e.g. "International Call", "SPAM?"); for `block`,
   * when set, the Reason header's text. Without one that SIP can carry, the check id is used.
   */
  label?: string;
  /** The operator rule that asked for it, when one did. */
  ruleId?: string;
  /** Its rule or policy entry is in monitor mode (or the whole policy is): listed and counted, never enforced. */
  monitored?: true;
}

/** Who the verdict's `monitored` list names for a finding: its rule, else its check. */
export const findingSource = (finding: Finding) => finding.ruleId ?? finding.checkId;
