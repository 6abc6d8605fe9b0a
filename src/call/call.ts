import type { PrivValue } from "../sip/privacy";

/**
 * The normalized call: what every check reads. Built once per request from either a raw SIP INVITE
 * or the JSON verdict request, with numbers canonicalized (RFC 8224 §8.3) and ingress described.
 */
export interface Ingress {
  trunk: string | null;
  carrier: string | null;
  /** What the SBC said about the interconnect; null when it did not say. Operator config may refine it. */
  international: boolean | null;
}

/** One party of the call as presented: the raw value and the canonical telephone number, if it is one. */
export interface CallParty {
  raw: string;
  /** Canonical TN: digits (and * #) only, no leading +, 1–15 characters; null when the value holds no TN. */
  tn: string | null;
  /** Why the value could not be read at all (e.g. "more than one From header"); null when it could. */
  unreadable: string | null;
  /** The display name written beside the number (src/sip/address.ts SipAddress.name); absent when none. */
  name?: string;
}

export interface NormalizedCall {
  /** Identity header values, in the order they arrived. */
  identity: string[];
  from: CallParty | null;
  /** P-Asserted-Identity's first identity that presents a number (or its first, or why it cannot be read). */
  pai: CallParty | null;
  /**
   * P-Asserted-Identity's other identity, when it presents another number than `pai` (RFC 3325 §9.1
   * allows a SIP and a tel URI): the far end may present either, so both are judged. Null otherwise.
   */
  paiOther: CallParty | null;
  /**
   * The numbers a raw INVITE's Remote-Party-ID and P-Preferred-Identity present (src/sip/invite.ts
   * InviteParts.claimed), each read as a number; absent when it has none. The SBC removes those headers
   * (README), but one that does not hands a core that reads them a number of the peer's choosing.
   */
  claimed?: { party: CallParty & { tn: string }; presentedIn: "Remote-Party-ID" | "P-Preferred-Identity" }[];
  to: CallParty | null;
  ruri: CallParty | null;
  /**
   * The caller ID the call presents: P-Asserted-Identity when it holds a number, else From. A From or
   * P-Asserted-Identity that cannot be read is the caller ID: which number the callee sees is unknown.
   */
  cli: CallParty | null;
  cliSource: "pai" | "from" | null;
  /** The SIP Call-ID (RFC 3261 §8.1.1.4), when given: a call's retransmissions, failovers and forks share it. */
  callId: string | null;
  /** The SIP Date header as epoch seconds, when given; `unreadable` when it is no date (RFC 3261 §20.17). */
  date: number | "unreadable" | null;
  ingress: Ingress;
  /** The privacy the caller asked for (RFC 3323 §4.2, RFC 3325 §9.3); empty when none. */
  privacy: PrivValue[];
}
