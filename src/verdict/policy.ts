import type { NormalizedCall } from "../call/call";
import { findingFor, policyEntryOptions, type PolicyTable } from "../origin/policy";
import { hidesCallerId, type PrivValue } from "../sip/privacy";
import type { CallVerification } from "../verification/verify-call";
import type { Check } from "./check";
import { DEPENDENCY_CHECK_IDS } from "./deadline";
import { findingSource, type Finding } from "./finding";
import { sipTextOf } from "./sip-label";
import { ACTIONS, type Action, type MonitoredAction, type SipHeader, type Verdict } from "./verdict";

const SEVERITY = new Map<Action, number>(ACTIONS.map((action, index) => [action, index]));

/**
 * Turns a verification that did not pass into a finding, by the operator's policy table: its
 * `stir.tn-validation-failed` entry for a failed signature or credential, `stir.no-tn-validation` for
 * an Identity header that could not be used. Unsigned calls (428) are left to the origin checks, and a
 * credential not judged because our own trust store is down to that dependency's failure policy.
 */
export function stirFinding(verification: CallVerification, policy: PolicyTable): Finding | null {
  const failure = verification.failure;
  if (failure === null || failure.reasonCode === 428 || failure.checkId === DEPENDENCY_CHECK_IDS.trust) return null;
  const entry = policy[failure.verstat === "TN-Validation-Failed" ? "stir.tn-validation-failed" : "stir.no-tn-validation"];
  return findingFor(failure.checkId, entry.action, `${failure.reasonText}: ${failure.reasondesc}`, policyEntryOptions(entry));
}

/**
 * The most severe enforced finding decides; on a tie, the first (pipeline order: verification, origin,
 * rules). A monitored finding never decides.
 */
export function decisiveFinding(findings: Finding[]): Finding | null {
  let decisive: Finding | null = null;
  for (const finding of findings) {
    if (finding.monitored) continue;
    if (!decisive || SEVERITY.get(finding.action)! > SEVERITY.get(decisive.action)!) decisive = finding;
  }
  return decisive && decisive.action !== "allow" ? decisive : null;
}

export interface VerdictInput {
  requestId: string;
  call: NormalizedCall;
  verification: CallVerification;
  findings: Finding[];
  checks: Check[];
  /** RFC 8688: the redress URL sent with a 608 in Call-Info (purpose=jwscard). */
  jwscardUrl: string | null;
}

/**
 * The Privacy header the SBC puts on the INVITE it forwards, replacing the caller's; null when the
 * verdict leaves the caller's alone. A withheld call asks for `id`. A caller who asked to hide its
 * identity gets that request re-asserted beside the verstat P-Asserted-Identity, which the core still
 * needs: the privacy service at the trust boundary removes it and anonymises From (RFC 3323 §5, RFC
 * 3325 §9.3). Being a replacement, it carries every value the caller asked for (RFC 3323 §4.2).
 */
function privacyHeader(action: Action, requested: readonly PrivValue[]): SipHeader | null {
  if (action !== "withhold" && !hidesCallerId(requested)) return null;
  const values = requested.filter((value) => value !== "none");
  if (action === "withhold" && !values.includes("id")) values.push("id");
  return { name: "Privacy", value: values.join(";") };
}

/** What a verdict's monitored findings would have done to the call, at most: null when none would have acted. */
export function wouldHaveAction(monitored: readonly MonitoredAction[] | undefined): Action | null {
  const most = (monitored ?? []).reduce<Action>((severest, { action }) => (SEVERITY.get(action)! > SEVERITY.get(severest)! ? action : severest), "allow");
  return most === "allow" ? null : most;
}

/** The findings as POLICY_MODE=monitor has them: every one listed and counted, none enforced. */
export const monitoredFindings = (findings: Finding[]): Finding[] => findings.map((finding) => ({ ...finding, monitored: true }));

/** What the monitored findings would have done: the verdict's `monitored` list (issue 20 "Monitor mode"). */
export const monitoredActions = (findings: Finding[]): MonitoredAction[] =>
  findings.flatMap((finding) => (finding.monitored && finding.action !== "allow" ? [{ by: findingSource(finding), action: finding.action, reason: finding.reason }] : []));

/**
 * One verdict, with what the SBC applies: the response for a block (603, or 608 with Call-Info per
 * RFC 8688), the verstat on P-Asserted-Identity (3GPP TS 24.229), a Reason header naming a failed
 * verification (RFC 8224 §6.2.2), and privacy for a withheld caller ID or one the caller asked to
 * hide (RFC 3323, RFC 3325). A block presents no caller ID at all. Every text
 * in a header comes from a fixed vocabulary (src/verdict/sip-label.ts), never from a rule's reason, a
 * report's notes or a check's detail: the Reason of a rejection goes back to the calling network.
 * Monitored findings decide nothing and are only listed (issue 20); the verstat and the Reason naming a
 * failed verification come from the verification itself, so monitor mode never hides them.
 */
export function decideVerdict(input: VerdictInput): Verdict & { label: string | null } {
  const { call, verification } = input;
  const decisive = decisiveFinding(input.findings);
  const action: Action = decisive?.action ?? "allow";
  const headers: SipHeader[] = [];
  let sip: Verdict["sip"] = null;

  const monitored = monitoredActions(input.findings);
  if (action === "block") {
    const code = decisive!.sipCode ?? 603;
    sip = { code, reason: code === 608 ? "Rejected" : "Decline" };
    headers.push({ name: "Reason", value: `SIP ;cause=${code} ;text="${sipTextOf(decisive!)}"` });
    if (code === 608 && input.jwscardUrl) headers.push({ name: "Call-Info", value: `<${input.jwscardUrl}>;purpose=jwscard` });
  } else {
    if (call.cli?.tn) {
      headers.push({ name: "P-Asserted-Identity", value: `<tel:+${call.cli.tn};verstat=${verification.verstat}>` });
    }
    const failure = verification.failure;
    if (failure && failure.reasonCode !== 428) {
      headers.push({ name: "Reason", value: `SIP ;cause=${failure.reasonCode} ;text="${failure.reasonText}"` });
    }
    // Withheld, or hidden at the caller's request: presentation restricted towards the callee.
    const privacy = privacyHeader(action, call.privacy);
    if (privacy) headers.push(privacy);
  }
  return {
    requestId: input.requestId,
    action,
    verstat: verification.verstat,
    attest: verification.attest,
    sip,
    headers,
    decidedBy: decisive?.checkId ?? null,
    ...(monitored.length > 0 ? { monitored } : {}),
    label: action === "tag" ? sipTextOf(decisive!) : null,
    checks: input.checks,
  };
}
