import { calledNumber, type OtherPresentedCaller } from "../../call/normalize";
import { expiryIso, type Rule } from "../../rules/rule";
import { ruleSubjectFor, UNREAD_RULE_ID, type RuleSubject } from "../../rules/matcher";
import { fail, outweighs, pass, skip, type Check } from "../../verdict/check";
import type { Finding } from "../../verdict/finding";
import type { MonitoredAction } from "../../verdict/verdict";
import { ORIGIN_CHECK_IDS } from "../check-ids";
import { findingFor } from "../policy";
import type { OriginContext } from "./origin-context";

/** Analysts' rules are the 603 kind of block (cli-spoofing.md §4: network-decided, with a Reason header). */
const RULE_BLOCK_SIP_CODE = 603;

/** What the call presents to the operator's rules: its numbers, its ingress as presented and as mapped, From's display name, and when. */
export function ruleSubjectOf({ call, cli, ingress, atMs }: Pick<OriginContext, "call" | "cli" | "ingress" | "atMs">): RuleSubject {
  return ruleSubjectFor(cli?.tn ?? call.cli?.tn ?? null, calledNumber(call), ingress, call.from?.name ?? null, atMs);
}

/** The most matched rules a check's evidence lists: every one of them still decides, but a response stays readable. */
const RULES_IN_EVIDENCE = 20;

/**
 * Check 9 (cli-spoofing.md §3, Kazakhtelecom practice): patterns analysts add after subscriber
 * reports. Each matching rule brings its own action; the check's evidence lists them. `matched` is
 * null when the rules could not be read (neither D1 nor a saved copy: store.rules says why).
 */
export function checkOperatorRules(matched: Rule[] | null, rulesLoaded: number): { check: Check; findings: Finding[] } {
  const id = ORIGIN_CHECK_IDS.operatorRules;
  if (matched === null) return { check: skip(id, "the operator's rules could not be read (store.rules)"), findings: [] };
  if (matched.length === 0) return { check: pass(id, "no operator rule matches", { rulesLoaded }), findings: [] };
  // The rule's reason stays in the evidence: an analyst's words are not for the caller's network.
  const findings = matched.flatMap(
    (rule) => findingFor(id, rule.action, `operator rule ${rule.id}`, { sipCode: RULE_BLOCK_SIP_CODE, label: rule.label, ruleId: rule.id, monitored: rule.mode === "monitor" }) ?? [],
  );
  const evidence = { matched: matched.length, rules: matched.slice(0, RULES_IN_EVIDENCE).map(ruleEvidence) };
  // A rule whose action is allow records that an analyst looked at this pattern; it costs the call nothing.
  const check = findings.length > 0 ? fail(id, `${matched.length} operator rule(s) match`, evidence) : pass(id, "only allowing operator rules match", evidence);
  return { check, findings };
}

/** What the check's evidence holds when rules matched. */
interface RulesEvidence {
  matched: number;
  rules: (ReturnType<typeof ruleEvidence> & { presentedIn?: OtherPresentedCaller["presentedIn"] })[];
}

const rulesEvidenceOf = (check: Check): Partial<RulesEvidence> => (check.evidence ?? {}) as Partial<RulesEvidence>;
const listedRules = (check: Check): RulesEvidence["rules"] => rulesEvidenceOf(check).rules ?? [];

/**
 * The check of a call that presents another number than its caller ID (in From, or in
 * P-Asserted-Identity's other identity), when that number matched rules the caller ID's did not
 * (src/origin/assess.ts withOtherCaller): every rule either matched is listed, the other number's
 * marked with where it was presented, as each decides the call. Keeping one number's check alone left the other's
 * rules unnamed in the verdict and uncounted in their hits (ruleHitsOf): a rule blocking a spoofer
 * behind a P-Asserted-Identity under some broad rule read 0 hits, and looked dead. Null when only one
 * of the numbers matched rules, for the caller to keep the check that says more.
 */
export function operatorRulesOfBoth(own: Check, other: Check, presentedIn: OtherPresentedCaller["presentedIn"]): Check | null {
  const ownRules = listedRules(own);
  const otherRules = listedRules(other).filter((rule) => !ownRules.some((listed) => listed.id === rule.id));
  if (ownRules.length === 0 || otherRules.length === 0) return null;
  // Each number's count of the rules it matched, less the rules both matched (as far as they are listed).
  const matched = (rulesEvidenceOf(own).matched ?? 0) + (rulesEvidenceOf(other).matched ?? 0) - (listedRules(other).length - otherRules.length);
  const evidence: RulesEvidence = { matched, rules: [...ownRules, ...otherRules.map((rule) => ({ ...rule, presentedIn }))].slice(0, RULES_IN_EVIDENCE) };
  const result = outweighs(other, own) ? other.result : own.result;
  return result === "fail" ? fail(own.id, `${matched} operator rule(s) match, on the caller ID or ${presentedIn}`, { ...evidence }) : pass(own.id, "only allowing operator rules match", { ...evidence });
}

const ruleEvidence = (rule: Rule) => ({
  id: rule.id,
  action: rule.action,
  mode: rule.mode,
  reason: rule.reason,
  author: rule.author,
  expiresAt: expiryIso(rule.expiresAt),
  reportId: rule.reportId,
});

/** A match of an operator rule on a verdict's call: a hit on the rule (src/stats/record.ts). */
export interface RuleHit {
  ruleId: string;
  /** Matched in monitor mode: its own, or the whole policy's (POLICY_MODE=monitor). */
  monitored: boolean;
}

/**
 * The rules a verdict's call matched, as its operator-rules check's evidence lists them (the first
 * RULES_IN_EVIDENCE): every match is a hit, whether it decided the call or not. A rule enforced while
 * its details could not be read names no rule, and is not counted.
 */
export function ruleHitsOf(checks: readonly Check[], monitored: readonly MonitoredAction[] | undefined, policyMonitored: boolean): RuleHit[] {
  const evidence = checks.find((check) => check.id === ORIGIN_CHECK_IDS.operatorRules)?.evidence as { rules?: ReturnType<typeof ruleEvidence>[] } | undefined;
  const monitoredBy = new Set((monitored ?? []).map(({ by }) => by));
  // Under POLICY_MODE=monitor nothing a rule says is enforced. A blocking rule is then listed under
  // `monitored`, but an allowing one has no finding to list, so the mode itself says so.
  return (evidence?.rules ?? []).filter((rule) => rule.id !== UNREAD_RULE_ID).map((rule) => ({ ruleId: rule.id, monitored: policyMonitored || rule.mode === "monitor" || monitoredBy.has(rule.id) }));
}
