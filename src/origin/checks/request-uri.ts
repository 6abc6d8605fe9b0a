import type { NormalizedCall } from "../../call/call";
import { unreadablePartCheck } from "../../call/reading-checks";
import type { ClassifiedIngress } from "../ingress";
import type { CheckOutcome } from "./origin-context";

/**
 * A Request-URI the verifier cannot read (the grammar refuses it, a `+` number that is no telephone
 * number, a local number in a foreign phone-context) names no called number (src/call/normalize.ts
 * calledNumber), so no destination rule can match it, while a core may still route it: it strips the
 * junk, or places the number in its context. Left unjudged, it would carry a call past every
 * destination rule. The policy table weighs it by the ingress (`sip.ruri:international`,
 * `sip.ruri:domestic`): an interconnect from abroad sends E.164 numbers (GSMA IR.95), while a domestic
 * one may carry IMS home-local numbers with a domain phone-context. Null when the Request-URI was read
 * or is absent.
 */
export function checkRequestUri(call: NormalizedCall, ingress: ClassifiedIngress): CheckOutcome | null {
  const check = unreadablePartCheck(call, "ruri");
  if (check === null) return null;
  return { check: { ...check, evidence: { ...check.evidence, ingress: ingress.kind } }, policyKey: `sip.ruri:${ingress.kind}` };
}
