import { patternCovers, type NumberPattern } from "../numbering/number-pattern";
import { buildPatternIndex, type PatternIndex } from "../numbering/pattern-index";
import { isRuleActive, type Rule } from "./rule";
import { isWithinTimeWindow } from "./time-window";

/** What a rule can look at: the call's numbers and ingress, at an instant. */
export interface RuleSubject {
  cli: string | null;
  destination: string | null;
  trunk: string | null;
  /** The carrier as presented and as the ingress map names it; either may match. */
  carriers: string[];
  atMs: number;
}

export interface RuleMatcher {
  readonly size: number;
  /** Every active rule whose criteria all hold for the subject. */
  matching(subject: RuleSubject): Rule[];
}

/**
 * Each rule is indexed once, under its most selective criterion (CLI, else destination, else trunk,
 * else carrier), so a call only meets the rules that share that criterion with it; the remaining
 * criteria, the time window and the expiry are then checked on those few candidates.
 */
export function compileRuleMatcher(rules: Rule[]): RuleMatcher {
  const byCli: { pattern: NumberPattern; value: Rule }[] = [];
  const byDestination: { pattern: NumberPattern; value: Rule }[] = [];
  const byTrunk = new Map<string, Rule[]>();
  const byCarrier = new Map<string, Rule[]>();
  for (const rule of rules) {
    const { cli, destination, trunk, carrier } = rule.criteria;
    if (cli) byCli.push({ pattern: cli, value: rule });
    else if (destination) byDestination.push({ pattern: destination, value: rule });
    else if (trunk) appendTo(byTrunk, trunk, rule);
    else if (carrier) appendTo(byCarrier, carrier, rule);
  }
  const cliIndex = buildPatternIndex(byCli);
  const destinationIndex = buildPatternIndex(byDestination);

  return {
    size: rules.length,
    matching(subject) {
      const candidates = [
        ...candidatesFor(cliIndex, subject.cli),
        ...candidatesFor(destinationIndex, subject.destination),
        ...(subject.trunk !== null ? (byTrunk.get(subject.trunk) ?? []) : []),
        ...new Set(subject.carriers.flatMap((carrier) => byCarrier.get(carrier) ?? [])),
      ];
      return candidates.filter((rule) => ruleHolds(rule, subject));
    },
  };
}

function appendTo(map: Map<string, Rule[]>, key: string, rule: Rule) {
  const list = map.get(key);
  if (list) list.push(rule);
  else map.set(key, [rule]);
}

const candidatesFor = (index: PatternIndex<Rule>, tn: string | null) => (tn !== null ? index.matching(tn) : []);

const patternHolds = (pattern: NumberPattern | undefined, tn: string | null) => !pattern || (tn !== null && patternCovers(pattern, tn));

function ruleHolds(rule: Rule, subject: RuleSubject): boolean {
  const { cli, destination, trunk, carrier, timeWindow } = rule.criteria;
  return (
    isRuleActive(rule, subject.atMs) &&
    patternHolds(cli, subject.cli) &&
    patternHolds(destination, subject.destination) &&
    (trunk === undefined || trunk === subject.trunk) &&
    (carrier === undefined || subject.carriers.includes(carrier)) &&
    (timeWindow === undefined || isWithinTimeWindow(timeWindow, subject.atMs))
  );
}
