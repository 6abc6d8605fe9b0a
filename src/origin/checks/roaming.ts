import { fail, pass, skip } from "../../verdict/check";
import { ORIGIN_CHECK_IDS } from "../check-ids";
import type { RoamingLookup } from "../roaming/lookup";
import type { CheckOutcome, OriginContext } from "./origin-context";

const DETAIL = {
  roaming: "the subscriber is roaming abroad",
  home: "the subscriber is at home, yet the call came from abroad",
  "not-mobile": "the roaming source says the caller ID is not a mobile subscriber",
  unknown: "the subscriber's roaming status could not be established",
} as const;

/**
 * Check 6 (cli-spoofing.md §1, §3): a national mobile CLI arriving from abroad is genuine only when the
 * subscriber is registered abroad right now (IT, IN, FI, BE, CZ, IE, ES, NO). Home → block/withhold;
 * lookup failure or timeout → unknown → policy (default withhold, France 2026 / UK +447).
 */
export async function checkRoaming(context: OriginContext, needed: boolean, lookup: RoamingLookup): Promise<CheckOutcome> {
  const id = ORIGIN_CHECK_IDS.roaming;
  if (!needed || !context.cli) return { check: skip(id, "no national mobile caller ID on an international interconnect") };
  const answer = await lookup.lookup(context.cli.tn, context.atMs, { ingressCarrier: context.ingress.carrierName, ingressCountry: context.ingress.country });
  const evidence = {
    tn: context.cli.tn,
    status: answer.status,
    visitedCountry: answer.visitedCountry ?? null,
    observedAt: answer.observedAt === null ? null : new Date(answer.observedAt).toISOString(),
    source: answer.source,
    ...(answer.error ? { error: answer.error } : {}),
  };
  if (answer.status === "roaming") return { check: pass(id, DETAIL.roaming, evidence) };
  return { check: fail(id, DETAIL[answer.status], evidence), policyKey: `${id}:${answer.status}` };
}
