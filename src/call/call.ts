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
  /** The URI found in the value, if any (sip:, sips:, tel:). */
  uri: string | null;
}

export interface NormalizedCall {
  /** Identity header values, in the order they arrived. */
  identity: string[];
  from: CallParty | null;
  pai: CallParty | null;
  to: CallParty | null;
  ruri: CallParty | null;
  /** The caller ID the call presents: P-Asserted-Identity when present, else From. */
  cli: CallParty | null;
  cliSource: "pai" | "from" | null;
  /** The SIP Call-ID (RFC 3261 §8.1.1.4), when given: a call's retransmissions, failovers and forks share it. */
  callId: string | null;
  /** The SIP Date header (or ATIS `time`) as epoch seconds, when given. */
  date: number | null;
  ingress: Ingress;
  /** Privacy header value, when present (RFC 3323). */
  privacy: string | null;
}
