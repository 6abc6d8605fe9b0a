import type { NormalizedCall } from "../call/call";
import type { OtherPresentedCaller } from "../call/normalize";
import { unreadablePartCheck } from "../call/reading-checks";
import type { Clock } from "../lib/clock";
import type { RuleSet, RuleSubject } from "../rules/matcher";
import type { Rule } from "../rules/rule";
import { outweighs, skip, type Check } from "../verdict/check";
import type { Finding } from "../verdict/finding";
import type { Attestation, Verstat } from "../verdict/verdict";
import { checkAuthorisedUse } from "./checks/authorised-use";
import { checkCliAllocated } from "./checks/cli-allocated";
import { checkDoNotOriginate } from "./checks/cli-dno";
import { checkCliFormat } from "./checks/cli-format";
import { checkCliType } from "./checks/cli-type";
import { checkIngress } from "./checks/ingress";
import { checkNationalOnInternational } from "./checks/national-on-international";
import { checkOperatorRules, operatorRulesOfBoth, ruleSubjectOf } from "./checks/operator-rules";
import type { AttestationVouching, CheckOutcome, OriginContext } from "./checks/origin-context";
import { checkOwnNumberOffNet } from "./checks/own-number-off-net";
import { checkRequestUri } from "./checks/request-uri";
import { checkRoaming } from "./checks/roaming";
import { ORIGIN_CHECK_IDS } from "./check-ids";
import type { AttestationConfig } from "./config/attestation";
import { ingressConfigSchema } from "./config/ingress-config";
import { classifyIngress, compileIngressMap, type ClassifiedIngress } from "./ingress";
import { DEFAULT_POLICY, findingFromPolicy, type PolicyTable } from "./policy";
import type { RoamingLookup } from "./roaming/lookup";
import type { RoamingSettings } from "./roaming/settings";
import type { OriginSnapshot } from "./snapshot";

type PresentedIn = OtherPresentedCaller["presentedIn"];

/** What STIR/SHAKEN verification concluded about the call, when it carried an Identity header. */
export interface SignedCallSummary {
  verified: boolean;
  attest: Attestation | null;
  verstat: Verstat;
  /** The service provider answering for the signed number (verify-identity.ts SignerDescription.provider); null when none or not verified. */
  provider: string | null;
  /** The providers of the verified `div` PASSporTs (RFC 8946): who retargeted the call on the way here. */
  diverters: (string | null)[];
  /** The replay guard could not answer (slow or down): whether the PASSporT was presented before is not known. */
  replayUnconfirmed?: boolean;
}

/** A verified `A` attestation, the only one that may vouch for the number (see attestationVouching). */
export const vouchesForCli = (signed: SignedCallSummary | null): boolean => signed !== null && signed.verified && signed.attest === "A";

/**
 * Whether a verified `A` attestation waives checks 5–8: only when the provider answering for the number
 * is one the operator's `attestation` section lists (src/origin/config/attestation.ts), and so is every
 * provider whose `div` PASSporT retargeted the call. A diversion lets the `shaken` PASSporT's `dest` be
 * the diverting number, so without that a provider anyone can sign a `div` with (a rogue one, or the
 * holder of any valid leaf key) would carry a captured `A` to a callee of its choosing, from abroad.
 * Nor does an `A` the replay guard could not judge: a replayed one vouches for nothing, and whether
 * this one is was not established. Null for a call with no verified `A`.
 */
export function attestationVouching(signed: SignedCallSummary | null, config: AttestationConfig): AttestationVouching | null {
  if (!vouchesForCli(signed)) return null;
  const listing = (provider: string | null) => (provider === null ? undefined : config.vouching.find(({ spc }) => spc === provider));
  const listed = listing(signed!.provider);
  const unlistedDiverters = signed!.diverters.filter((diverter) => listing(diverter) === undefined);
  return {
    provider: signed!.provider,
    providerListed: listed !== undefined,
    vouches: listed !== undefined && unlistedDiverters.length === 0 && signed!.replayUnconfirmed !== true,
    ...(listed?.name ? { providerName: listed.name } : {}),
    ...(signed!.diverters.length > 0 ? { diverters: signed!.diverters } : {}),
    ...(unlistedDiverters.length > 0 ? { unlistedDiverters } : {}),
    ...(signed!.replayUnconfirmed ? { replayUnconfirmed: true as const } : {}),
  };
}

/**
 * What answers for the display name a caller presents beside its number (src/verdict/caller-name.ts):
 * the peer chose it, so it is shown only when something answers for the caller ID it names.
 */
export interface NameVoucher {
  by: "attestation" | "authorised-use" | "domestic-interconnect";
  detail: string;
}

/**
 * A verified `A` that vouches (the provider knows its customer and the number is theirs: RFC 8588 §4),
 * the operator's own authorised-use list for this trunk and number, or a domestic interconnect
 * presenting a national number (a national carrier answers for its subscribers' names, and a foreign
 * number on it is transit, answered for by nobody here). Nothing else: on an international
 * interconnect any name is the peer's word ("Halyk Bank" beside +49…).
 */
export function nameVoucherOf(context: Pick<OriginContext, "attestation" | "authorisedUse" | "ingress" | "cli">): NameVoucher | null {
  const { attestation, ingress, cli } = context;
  if (attestation?.vouches) return { by: "attestation", detail: `the caller ID is attested A by ${attestation.providerName ?? attestation.provider}, a provider the operator lists` };
  if (context.authorisedUse) return { by: "authorised-use", detail: "the trunk and caller ID are on the operator's authorised-use list" };
  if (ingress.kind === "domestic" && cli?.home === true) return { by: "domestic-interconnect", detail: "a national caller ID on a domestic interconnect" };
  return null;
}

export interface OriginAssessment {
  checks: Check[];
  findings: Finding[];
  ingress: ClassifiedIngress;
  /** What answers for the caller ID's display name; null when nothing does. */
  nameVoucher: NameVoucher | null;
  /**
   * The caller ID as the checks looked it up (NumberFacts.tn: libphonenumber's reading, a trunk prefix
   * after the country code dropped), else as written; null when the call presents no number. The
   * velocity counters count it, so that one number spelt two ways is not two budgets.
   */
  cliNumber: string | null;
  /** The operator's policy table in force for this call (the verdict applies its `stir.*` entries too). */
  policy: PolicyTable;
}

export interface OriginDeps {
  clock: Clock;
  /** The compiled configuration and rules (src/origin/snapshot.ts); null when neither D1 nor a saved copy could give them. */
  snapshot(): Promise<OriginSnapshot | null>;
  /** The roaming source for the configured settings, already bounded by their time budget. */
  roamingLookup(settings: RoamingSettings): RoamingLookup;
  /** Every operator rule in force for the subject: the isolate's compiled rules, and the store's for an exact number they hit (src/rules/matcher.ts). */
  operatorRules(rules: RuleSet, subject: RuleSubject): Promise<Rule[]>;
}

/**
 * The origin-consistency stage of the verdict pipeline (issue 4; cli-spoofing.md §3 checks 1–9), in
 * the order a verifier applies them. Signed calls get it too (issue 4 point 10): checks 2–4 and 9
 * always; checks 5–8 are waived only for a verified `A` attestation — a `C` from an international
 * gateway vouches for nothing about the number, so a domestic CLI behind it still meets check 5.
 */
export async function assessOrigin(call: NormalizedCall, signed: SignedCallSummary | null, deps: OriginDeps): Promise<OriginAssessment> {
  const snapshot = await deps.snapshot();
  if (!snapshot) return withoutConfiguration(call);
  const atMs = deps.clock.now();
  const ingress = classifyIngress(call.ingress, snapshot.ingress);
  const format = checkCliFormat(call.cli, snapshot.numbering);
  const cli = format.facts;
  const authorisedUse = checkAuthorisedUse({ cli, ingress, snapshot });
  const context: OriginContext = {
    call,
    cli,
    ingress,
    snapshot,
    atMs,
    attestation: attestationVouching(signed, snapshot.config.attestation),
    authorisedUse: authorisedUse.check.result === "pass",
  };
  const national = checkNationalOnInternational(context);
  const { rules: ruleSet } = snapshot;
  const [roaming, matched] = await Promise.all([
    checkRoaming(context, national.needsRoamingLookup, deps.roamingLookup(snapshot.config.roaming)),
    ruleSet ? deps.operatorRules(ruleSet, ruleSubjectOf(context)) : null,
  ]);
  const rules = checkOperatorRules(matched, ruleSet?.size ?? 0);
  const requestUri = checkRequestUri(call, ingress);

  const outcomes: CheckOutcome[] = [
    checkIngress(ingress),
    format.outcome,
    checkCliAllocated(context),
    checkCliType(context),
    checkDoNotOriginate(context),
    authorisedUse,
    national,
    roaming,
    checkOwnNumberOffNet(context),
    ...(requestUri ? [requestUri] : []),
  ];
  const findings = outcomes.flatMap(({ check, policyKey }) => (policyKey ? (findingFromPolicy(check, snapshot.policy[policyKey]) ?? []) : []));
  return {
    checks: [...outcomes.map(({ check }) => check), rules.check],
    findings: [...findings, ...rules.findings],
    ingress,
    nameVoucher: nameVoucherOf(context),
    cliNumber: cli?.tn ?? call.cli?.tn ?? null,
    policy: snapshot.policy,
  };
}

/**
 * One assessment of a call that presents another number than its caller ID, in From or in
 * P-Asserted-Identity's other identity (the callee may be shown either: src/call/normalize.ts
 * otherPresentedCallers), from the assessments of each. Each check keeps whichever of its two results
 * says more against the call, the other's saying where that number was presented; every finding of
 * either weighs in the verdict, the same rule matched by both once.
 */
export function withOtherCaller(assessment: OriginAssessment, other: OriginAssessment, presentedIn: PresentedIn): OriginAssessment {
  const byId = new Map(other.checks.map((check) => [check.id, check]));
  const checks = assessment.checks.map((check) => {
    const otherCheck = byId.get(check.id);
    if (!otherCheck) return check;
    // Every rule either number matched decides the call, so the verdict lists them all.
    const rules = check.id === ORIGIN_CHECK_IDS.operatorRules ? operatorRulesOfBoth(check, otherCheck, presentedIn) : null;
    if (rules) return rules;
    if (!outweighs(otherCheck, check)) return check;
    return { ...otherCheck, detail: `${presentedIn}: ${otherCheck.detail ?? otherCheck.result}`, evidence: { ...otherCheck.evidence, presentedIn } };
  });
  const known = (finding: Finding) => assessment.findings.some((own) => own.checkId === finding.checkId && own.ruleId === finding.ruleId && own.action === finding.action);
  const findings = other.findings.filter((finding) => !known(finding)).map((finding) => ({ ...finding, reason: `${presentedIn}: ${finding.reason}` }));
  return { ...assessment, checks, findings: [...assessment.findings, ...findings] };
}

const UNCONFIGURED = "needs the operator's configuration, which neither D1 nor a saved copy could give (store.rules)";
/** The ingress as the SBC declared it: without the operator's map no interconnect is known. */
const NO_INGRESS_MAP = compileIngressMap(ingressConfigSchema.parse({}));

/**
 * The origin stage when no configuration can be read (issue 22 item 4): every check is skipped and
 * says why, rather than run on defaults that are nobody's configuration; `store.rules` carries the
 * operator's dependency policy. The STIR entries of the built-in policy table still weigh verification.
 * A Request-URI that cannot be read is still reported: that is what the peer wrote, whatever the policy.
 */
function withoutConfiguration(call: NormalizedCall): OriginAssessment {
  const requestUri = unreadablePartCheck(call, "ruri");
  return {
    checks: [...Object.values(ORIGIN_CHECK_IDS).map((id) => skip(id, UNCONFIGURED)), ...(requestUri ? [requestUri] : [])],
    findings: [],
    ingress: classifyIngress(call.ingress, NO_INGRESS_MAP),
    nameVoucher: null,
    cliNumber: call.cli?.tn ?? null,
    policy: DEFAULT_POLICY,
  };
}
