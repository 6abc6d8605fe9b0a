import type { NumberType } from "../../numbering/number-type";
import { fail, pass, skip, warn } from "../../verdict/check";
import { ORIGIN_CHECK_IDS } from "../check-ids";
import { unvouchedEvidence, vouchedByAttestation, vouchedDetail, type CheckOutcome, type OriginContext } from "./origin-context";

/** Mobile CLIs (and those the metadata cannot tell from fixed) go to the roaming lookup, check 6. */
const NEEDS_ROAMING_LOOKUP: ReadonlySet<NumberType> = new Set(["mobile", "fixed-or-mobile"]);

/**
 * Check 5 (cli-spoofing.md §1, §3): a call entering on an international interconnect that presents a
 * national number is spoofed unless there is a specific reason. Fixed: block; mobile: roaming lookup;
 * VoIP: the operator's explicit policy (§2, Almaty SIP-number abuse); unknown type: withhold.
 */
export function checkNationalOnInternational(context: OriginContext): CheckOutcome & { needsRoamingLookup: boolean } {
  const id = ORIGIN_CHECK_IDS.nationalOnInternational;
  const { cli, ingress } = context;
  const notNeeded = (check: CheckOutcome["check"]) => ({ check, needsRoamingLookup: false });
  if (vouchedByAttestation(context)) return notNeeded(skip(id, vouchedDetail(context.attestation!)));
  if (context.authorisedUse) return notNeeded(skip(id, "exempt: authorised use on this trunk"));
  if (!cli) return notNeeded(skip(id, "no well-formed caller ID"));
  const evidence = { tn: cli.tn, cliCountry: cli.country, type: cli.type, ingressKind: ingress.kind, ingressKnown: ingress.known, carrier: ingress.carrierName, trunk: ingress.trunk, ...unvouchedEvidence(context) };
  if (ingress.kind === "domestic") return notNeeded(pass(id, "the call entered on a domestic interconnect", evidence));
  if (!cli.home) return notNeeded(pass(id, "a foreign caller ID on an international interconnect", evidence));
  if (NEEDS_ROAMING_LOOKUP.has(cli.type)) {
    return { check: warn(id, "a national mobile caller ID on an international interconnect: decided by the roaming lookup", evidence), needsRoamingLookup: true };
  }
  const outcome = cli.type === "voip" ? "voip" : cli.type === "unknown" ? "unknown-type" : "fixed";
  return {
    check: fail(id, `a national ${cli.type === "unknown" ? "" : `${cli.type} `}caller ID on an international interconnect`, evidence),
    policyKey: `${id}:${outcome}`,
    needsRoamingLookup: false,
  };
}
