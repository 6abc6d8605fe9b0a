import { recentVerdictsNewestFirst, type RecentVerdict } from "../dashboard/recent-verdicts";
import { UNKNOWN_CARRIER } from "../stats/record";
import type { Action } from "../verdict/verdict";
import { matchRules, ruleSetOf, ruleSubjectFor, type RuleIngress, type RuleSet, type RuleSubject } from "./matcher";
import type { Rule } from "./rule";

/** The most matched verdicts a preview lists (issue 20 "Rule preview"). */
export const PREVIEW_SAMPLE_SIZE = 20;

export interface RulePreview {
  /** The recent-verdicts window read: how many verdicts, and the earliest and latest of their instants (null when empty). */
  window: { verdicts: number; from: string | null; to: string | null };
  matched: number;
  /** Matched verdicts whose action was allow: the calls the rule would newly act on. */
  otherwiseAllowed: number;
  /** The newest matched verdicts. */
  sample: { requestId: string; at: string; cli: string | null; action: Action }[];
}

/**
 * A verdict kept before its ingress was stored knows only its display carrier: it is read as the
 * carrier presented, with no trunk, so a trunk rule misses it rather than matching on a guess.
 */
const ingressOf = (verdict: RecentVerdict): RuleIngress =>
  verdict.ingress ?? { trunk: null, carrier: verdict.carrier === UNKNOWN_CARRIER ? null : verdict.carrier, carrierName: null };

/** A candidate is compiled as a rule held whole: no exact-number index, so the store is never read. */
const NO_KEYED_RULES = async () => [];

/**
 * The call as the rules read it when the verdict was made, at the verdict's instant (so time windows and
 * expiries judge it then): its caller ID, and From's and P-Asserted-Identity's other identity's numbers
 * when they presented others, which the verdict judged too (src/verdict/evaluate.ts), each beside From's
 * display name.
 */
const subjectsOf = (verdict: RecentVerdict): RuleSubject[] =>
  [verdict.cli, ...[verdict.fromCli, verdict.assertedCli, ...(verdict.claimedClis ?? [])].filter((cli): cli is string => cli !== undefined)].map((cli) =>
    ruleSubjectFor(cli, verdict.destination, ingressOf(verdict), verdict.callerName?.presented ?? null, verdict.atMs),
  );

/** Whether the rule set matches any of the verdict's subjects. */
async function matchesAny(rules: RuleSet, subjects: RuleSubject[]): Promise<boolean> {
  for (const subject of subjects) if ((await matchRules(rules, subject, NO_KEYED_RULES)).length > 0) return true;
  return false;
}

/**
 * What a candidate rule would have matched among the recent verdicts (src/dashboard/recent-verdicts.ts),
 * through the matcher the verdict uses: the candidate compiled alone into a RuleSet, each verdict's
 * subject judged at the verdict's own time. It reads only; nothing is written or audited.
 */
export async function previewRule(db: D1Database, candidate: Rule): Promise<RulePreview> {
  const rules = ruleSetOf([candidate]);
  let verdicts = 0;
  let earliest = Infinity;
  let latest = -Infinity;
  let matched = 0;
  let otherwiseAllowed = 0;
  const sample: RulePreview["sample"] = [];
  for await (const { verdict } of recentVerdictsNewestFirst(db)) {
    verdicts++;
    earliest = Math.min(earliest, verdict.atMs);
    latest = Math.max(latest, verdict.atMs);
    if (!(await matchesAny(rules, subjectsOf(verdict)))) continue;
    matched++;
    if (verdict.action === "allow") otherwiseAllowed++;
    if (sample.length < PREVIEW_SAMPLE_SIZE) sample.push({ requestId: verdict.requestId, at: new Date(verdict.atMs).toISOString(), cli: verdict.cli, action: verdict.action });
  }
  const iso = (ms: number) => (verdicts === 0 ? null : new Date(ms).toISOString());
  return { window: { verdicts, from: iso(earliest), to: iso(latest) }, matched, otherwiseAllowed, sample };
}
