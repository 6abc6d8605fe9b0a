import { fail, type Check } from "../verdict/check";
import type { NormalizedCall } from "./call";

/** Stable ids of what the call's SIP could not give the verdict, one per part read. */
export const SIP_CHECK_IDS = { from: "sip.from", pai: "sip.pai", to: "sip.to", ruri: "sip.ruri", date: "sip.date" } as const;

type Part = "from" | "pai" | "to" | "ruri";

/** The failed check of one part the calling peer wrote and the verifier could not read; null when it was read or is absent. */
export function unreadablePartCheck(call: NormalizedCall, part: Part): Check | null {
  const party = call[part];
  return party?.unreadable ? fail(SIP_CHECK_IDS[part], party.unreadable, { presented: party.raw.slice(0, 256) }) : null;
}

/**
 * The parts of the call the calling peer wrote and the verifier could not read, each a failed check
 * (issue 22 item 1): refusing the request instead would let the peer choose a non-verdict, which an SBC
 * that forwards on errors turns into an unverified call. These checks decide nothing themselves; what
 * the missing part means is judged where it matters: no usable caller ID fails `cli.format`, a Date
 * that is no date fails a signed call's `passport.freshness`. An unsigned call's Date vouches for
 * nothing, so for it the failed `sip.date` is the whole account. The Request-URI's check is the origin
 * stage's (src/origin/checks/request-uri.ts), which weighs it by the ingress through the policy table.
 */
export function unreadablePartChecks(call: NormalizedCall): Check[] {
  const checks = (["from", "pai", "to"] as const).flatMap((part) => unreadablePartCheck(call, part) ?? []);
  if (call.date === "unreadable") checks.push(fail(SIP_CHECK_IDS.date, "the Date header is not a date (RFC 3261 §20.17)"));
  return checks;
}
