import { checkReplay, REPLAY_CHECK_ID, replayDepsOf } from "../abuse/replay";
import { velocityDestinationOf } from "../abuse/velocity";
import type { NormalizedCall } from "../call/call";
import { calledNumbers, otherPresentedCallers } from "../call/normalize";
import { unreadablePartChecks } from "../call/reading-checks";
import { assessOrigin, vouchesForCli, withOtherCaller, type OriginAssessment, type OriginDeps, type SignedCallSummary } from "../origin/assess";
import type { Runtime } from "../runtime";
import { failReplays, verifyCall, type CallVerification } from "../verification/verify-call";
import type { IdentityResult } from "../verification/verify-identity";
import type { Check } from "./check";
import { boundVerifier, dependencyChecks, type BackgroundTasks, type Deadline } from "./deadline";
import type { Finding } from "./finding";
import { callerNameOf, type CallerName } from "./caller-name";
import { decideVerdict, monitoredFindings, stirFinding } from "./policy";
import type { Verdict } from "./verdict";

export interface Evaluation {
  verdict: Verdict & { label: string | null };
  verification: CallVerification;
  origin: OriginAssessment;
  /** From's display name and whether the callee is shown it; null when From has none. */
  callerName: CallerName | null;
}

/** Flattens every Identity header's checks into the verdict's list, saying which header each is about. */
function identityChecks(identities: IdentityResult[]): Check[] {
  if (identities.length <= 1) return identities.flatMap((identity) => identity.checks);
  return identities.flatMap((identity, index) => identity.checks.map((check) => ({ ...check, evidence: { ...check.evidence, identity: index } })));
}

/** What one verdict runs with besides the isolate's runtime: its deadline and its dependencies. */
export interface VerdictDeps {
  origin: OriginDeps;
  deadline: Deadline;
  background: BackgroundTasks;
}

/** What origin checks learn of the call's STIR/SHAKEN verification: null for an unsigned call. */
function signedSummary(call: NormalizedCall, verification: CallVerification): SignedCallSummary | null {
  if (call.identity.length === 0) return null;
  const verified = verification.verstat === "TN-Validation-Passed";
  // The PASSporT the call's verstat and attestation come from (verify-call.ts: the first verified shaken).
  const signer = verified ? verification.identities.find((identity) => identity.ppt === "shaken" && identity.outcome === "verified")?.signer : undefined;
  // Every verified div extended the numbers that PASSporT's dest may name (verify-call.ts): each diverter is weighed.
  const diverters = verified ? verification.identities.filter((identity) => identity.ppt === "div" && identity.outcome === "verified").map((identity) => identity.signer?.provider ?? null) : [];
  return { verified, attest: verification.attest, verstat: verification.verstat, provider: signer?.provider ?? null, diverters };
}

/**
 * The verdict pipeline: the normalized call (and what of it could not be read) → STIR/SHAKEN
 * verification → the replay guard, whose replays fail that verification, with origin-consistency and
 * operator-rule checks → velocity → the policy that weighs the findings → one verdict. Every
 * dependency waited on is held to the verdict's deadline; the ones that were slow or down are reported
 * last, each with the action its failure policy asks for.
 */
export async function evaluateCall(call: NormalizedCall, runtime: Runtime, deps: VerdictDeps, requestId: string): Promise<Evaluation> {
  const { deadline } = deps;
  const verifier = boundVerifier(runtime.verifier, deadline);
  const verified = await verifyCall(call.identity, { orig: call.cli?.tn ?? null, dest: calledNumbers(call), date: call.date }, verifier);
  const signed = signedSummary(call, verified);
  // The replay guard's answer is needed now; it runs alongside the origin checks, so it costs no extra wait.
  const arrival = { leg: call.ruri?.raw ?? call.to?.raw ?? "", callId: call.callId };
  // A From, or a second P-Asserted-Identity identity, presenting another number is judged too, as unsigned: an attestation vouches for orig alone.
  const others = otherPresentedCallers(call);
  const [firstAssessment, otherAssessments, replay] = await Promise.all([
    assessOrigin(call, signed, deps.origin),
    Promise.all(others.map(({ party, presentedIn }) => assessOrigin({ ...call, cli: party, cliSource: presentedIn === "From" ? "from" : "pai" }, null, deps.origin))),
    checkReplay(verified.identities, arrival, replayDepsOf(runtime, deadline)),
  ]);
  const verification = failReplays(verified, replay.replays);
  // A replayed attestation vouches for nothing, nor one the guard could not judge (slow or down): the
  // origin checks it waived run as for any unverified call. Judged again only then (an attack, or an
  // outage), so no other call waits for the guard before them.
  const replayUnconfirmed = replay.checks.some((check) => check.id === REPLAY_CHECK_ID && check.result === "skip");
  const judgedAgain = vouchesForCli(signed) && (verification !== verified || replayUnconfirmed);
  const callerAssessment = judgedAgain ? await assessOrigin(call, { ...signedSummary(call, verification)!, replayUnconfirmed }, deps.origin) : firstAssessment;
  const assessment = otherAssessments.reduce((judged, other, index) => withOtherCaller(judged, other, others[index]!.presentedIn), callerAssessment);
  const velocity = runtime.velocity.assess(
    { cli: callerAssessment.cliNumber, otherClis: otherAssessments.map(({ cliNumber }) => cliNumber).filter((tn) => tn !== null), destination: velocityDestinationOf(call), trunk: assessment.ingress.trunk, carrier: assessment.ingress.carrier },
    runtime.clock.now(),
    deadline,
    deps.background,
  );
  const dependencies = dependencyChecks(deadline, runtime.config.dependencyPolicy);

  const checks: Check[] = [...unreadablePartChecks(call), ...verification.checks, ...identityChecks(verification.identities), ...assessment.checks, ...replay.checks, ...velocity.checks, ...dependencies.checks];
  const stir = stirFinding(verification, assessment.policy);
  // What the operator's policy table and rules ask for; POLICY_MODE=monitor only counts it. Replay forks,
  // velocity limits and dependency failures have their own settings and stay enforced.
  const policyFindings = [...(stir ? [stir] : []), ...assessment.findings];
  const findings: Finding[] = [...(runtime.config.policyMode === "monitor" ? monitoredFindings(policyFindings) : policyFindings), ...replay.findings, ...velocity.findings, ...dependencies.findings];
  const verdict = decideVerdict({ requestId, call, verification, findings, checks, jwscardUrl: runtime.config.jwscardUrl });
  const callerName = callerNameOf({ call, action: verdict.action, voucher: assessment.nameVoucher, others, mode: runtime.config.callerNames, country: runtime.config.plan.country });
  return { verdict, verification, origin: assessment, callerName };
}
