import { fail, pass, skip } from "../../verdict/check";
import { ORIGIN_CHECK_IDS } from "../check-ids";
import { unvouchedEvidence, vouchedByAttestation, vouchedDetail, type CheckOutcome, type OriginContext } from "./origin-context";

/**
 * Check 7 (cli-spoofing.md §3, Telstra 2022): a number of our own subscribers arriving from another
 * domestic carrier. Our subscribers originate on our own network; numbers ported away are exempt.
 * (From abroad, checks 5–6 decide: a roaming subscriber legitimately arrives internationally.)
 */
export function checkOwnNumberOffNet(context: OriginContext): CheckOutcome {
  const id = ORIGIN_CHECK_IDS.ownNumberOffNet;
  const { cli, ingress, snapshot } = context;
  if (vouchedByAttestation(context)) return { check: skip(id, vouchedDetail(context.attestation!)) };
  if (context.authorisedUse) return { check: skip(id, "exempt: authorised use on this trunk") };
  if (!cli) return { check: skip(id, "no well-formed caller ID") };
  const evidence = { tn: cli.tn, carrier: ingress.carrierName, trunk: ingress.trunk, ingressKind: ingress.kind, onNet: ingress.onNet, ...unvouchedEvidence(context) };
  const ownSubscriber = snapshot.numbering.ownSubscribers.matching(cli.tn).length > 0 && snapshot.numbering.portedOut.matching(cli.tn).length === 0;
  if (!ownSubscriber) return { check: pass(id, "not one of our subscribers' numbers", evidence) };
  if (ingress.kind === "domestic" && !ingress.onNet) {
    return { check: fail(id, "our own subscriber's number arrived from another domestic carrier", evidence), policyKey: id };
  }
  return { check: pass(id, ingress.onNet ? "our own subscriber on our own network" : "our own subscriber arriving from abroad: decided by checks 5–6", evidence) };
}
