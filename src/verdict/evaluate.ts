import type { NormalizedCall } from "../call/call";
import { calledNumbers } from "../call/normalize";
import { assessOrigin, type OriginAssessment, type OriginDeps } from "../origin/assess";
import type { Runtime } from "../runtime";
import { verifyCall, type CallVerification } from "../verification/verify-call";
import type { IdentityResult } from "../verification/verify-identity";
import type { Check } from "./check";
import type { Finding } from "./finding";
import { decideVerdict, stirFinding } from "./policy";
import type { Verdict } from "./verdict";

export interface Evaluation {
  verdict: Verdict & { label: string | null };
  verification: CallVerification;
  origin: OriginAssessment;
}

/** Flattens every Identity header's checks into the verdict's list, saying which header each is about. */
function identityChecks(identities: IdentityResult[]): Check[] {
  if (identities.length <= 1) return identities.flatMap((identity) => identity.checks);
  return identities.flatMap((identity, index) => identity.checks.map((check) => ({ ...check, evidence: { ...check.evidence, identity: index } })));
}

/**
 * The verdict pipeline: the normalized call → STIR/SHAKEN verification → origin-consistency and
 * operator-rule checks → the policy that weighs the findings → one verdict.
 */
export async function evaluateCall(call: NormalizedCall, runtime: Runtime, origin: OriginDeps, requestId: string): Promise<Evaluation> {
  const verification = await verifyCall(call.identity, { orig: call.cli?.tn ?? null, dest: calledNumbers(call), date: call.date }, runtime.verifier);
  const signed = call.identity.length > 0 ? { verified: verification.verstat === "TN-Validation-Passed", attest: verification.attest, verstat: verification.verstat } : null;
  const assessment = await assessOrigin(call, signed, origin);

  const checks: Check[] = [...verification.checks, ...identityChecks(verification.identities), ...assessment.checks];
  const stir = stirFinding(verification, runtime.stirPolicy);
  const findings: Finding[] = stir ? [stir, ...assessment.findings] : assessment.findings;
  const verdict = decideVerdict({ requestId, call, verification, findings, checks, jwscardUrl: runtime.jwscardUrl });
  return { verdict, verification, origin: assessment };
}
