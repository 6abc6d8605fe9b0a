import type { NormalizedCall } from "../../call/call";
import type { NumberFacts } from "../../numbering/classify";
import type { Check } from "../../verdict/check";
import type { ClassifiedIngress } from "../ingress";
import type { PolicyKey } from "../policy";
import type { OriginSnapshot } from "../snapshot";

/** What every origin check reads: the call, its classified CLI and ingress, the compiled configuration. */
export interface OriginContext {
  call: NormalizedCall;
  /** The presented CLI, classified; null when check 1 found none usable. */
  cli: NumberFacts | null;
  ingress: ClassifiedIngress;
  snapshot: OriginSnapshot;
  atMs: number;
  /** Checks 5–8 do not apply: a verified `A` attestation vouches for the caller's right to the number (RFC 8588 §4). */
  vouchedByAttestation: boolean;
  /** Check 8 found the (trunk, CLI) pair on the authorised-use allow-list. */
  authorisedUse: boolean;
}

/** A check's answer plus, when it failed, the policy-table entry that decides what that costs the call. */
export interface CheckOutcome {
  check: Check;
  policyKey?: PolicyKey;
}
