import { fail, pass, skip } from "../../verdict/check";
import { ORIGIN_CHECK_IDS } from "../check-ids";
import type { RoamingAnswer, RoamingLookup } from "../roaming/lookup";
import { observationAgeSeconds, observationTrouble } from "../roaming/observation-age";
import { homeMccsOf, maxObservationAgeMsOf } from "../roaming/settings";
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
  const roaming = answer.status === "roaming";
  const evidence = {
    tn: context.cli.tn,
    status: answer.status,
    // A source that says "roaming" without saying where is still believed; the evidence says so.
    visitedCountry: answer.visitedCountry ?? (roaming ? "unknown" : null),
    ...(answer.visitedCountries ? { visitedCountries: answer.visitedCountries } : {}),
    ...(answer.visitedMcc ? { visitedMcc: answer.visitedMcc } : {}),
    observedAt: answer.observedAt === null ? null : new Date(answer.observedAt).toISOString(),
    source: answer.source,
    ...(answer.error ? { error: answer.error } : {}),
  };
  if (answer.status !== "roaming") return { check: fail(id, DETAIL[answer.status], evidence), policyKey: `${id}:${answer.status}` };
  const home = context.snapshot.numbering.country;
  if (roamsAtHome(answer, home, homeMccsOf(context.snapshot.config.roaming, home))) {
    // National roaming (on another home network) is not abroad: the number was not called from there.
    const reason = `national roaming in ${home}`;
    return { check: fail(id, `${reason}: ${DETAIL.home}`, { ...evidence, judgedAs: "home", reason }), policyKey: `${id}:home` };
  }
  // A network shared by the home country and others may be at home: abroad is not established.
  if (answer.visitedCountries?.includes(home)) {
    const reason = `the visited network is in one of ${answer.visitedCountries.join(", ")}, ${home} among them`;
    return { check: fail(id, `${DETAIL.unknown}: ${reason}`, { ...evidence, judgedAs: "unknown", reason }), policyKey: `${id}:unknown` };
  }
  // An answer that does not say when it was observed is taken as observed when asked (the cache keeps it no longer than the limit).
  const { observedAt } = answer;
  const trouble = observedAt === null ? null : observationTrouble(observedAt, context.atMs, maxObservationAgeMsOf(context.snapshot.config.roaming));
  if (observedAt !== null && trouble !== null) {
    const aged = { ...evidence, judgedAs: "unknown", reason: trouble, observationAgeSeconds: observationAgeSeconds(observedAt, context.atMs) };
    return { check: fail(id, `${DETAIL.unknown}: the roaming answer was ${trouble}`, aged), policyKey: `${id}:unknown` };
  }
  const where = answer.visitedCountry ?? (answer.visitedMcc ? `visited network MCC ${answer.visitedMcc}, country unknown` : "visited country unknown");
  return { check: pass(id, `${DETAIL.roaming} (${where})`, evidence) };
}

/** Whether a roaming answer's visited country, or its network's MCC, is the home country's. */
const roamsAtHome = (answer: RoamingAnswer, homeCountry: string, homeMccs: readonly string[]): boolean =>
  answer.visitedCountry === homeCountry || (answer.visitedMcc !== undefined && homeMccs.includes(answer.visitedMcc));
