import { appendAll } from "../lib/arrays";
import { patternCovers, type NumberPattern } from "../numbering/number-pattern";
import { PatternIndexBuilder } from "../numbering/pattern-index";
import { KeyedRuleIndexBuilder, ruleIdHash, type KeyedRuleIndex, type RuleHead } from "./keyed-index";
import { nameContainsPhrase, presentedNameKey } from "./name-phrase";
import { isRuleActive, type Rule } from "./rule";
import { isWithinTimeWindow } from "./time-window";

/** What a rule can look at: the call's numbers and ingress, at an instant. */
export interface RuleSubject {
  cli: string | null;
  destination: string | null;
  trunk: string | null;
  /** The carrier as presented and as the ingress map names it; either may match. */
  carriers: string[];
  /** The display name From presents (what the callee's phone shows beside the number); null when none. */
  name: string | null;
  atMs: number;
}

/** The ingress as a rule reads it: the trunk, and the carrier as presented and as the operator's ingress map names it. */
export interface RuleIngress {
  trunk: string | null;
  carrier: string | null;
  carrierName: string | null;
}

/** What a call at `atMs` presents to the rules: the verdict's and a rule preview's one way of reading a call (src/rules/preview.ts). */
export const ruleSubjectFor = (cli: string | null, destination: string | null, ingress: RuleIngress, name: string | null, atMs: number): RuleSubject => ({
  cli,
  destination,
  trunk: ingress.trunk,
  carriers: [ingress.carrier, ingress.carrierName].filter((carrier): carrier is string => carrier !== null),
  name,
  atMs,
});

/** Rules held whole in the isolate, indexed. */
export interface RuleMatcher {
  readonly size: number;
  /** Every active rule whose criteria all hold for the subject. */
  matching(subject: RuleSubject): Rule[];
}

/**
 * Each rule is indexed once, under its most selective criterion (CLI, else destination, else trunk,
 * else carrier, else name), so a call only meets the rules that share that criterion with it — a
 * trunk-only or carrier-only rule is one hash lookup away, whatever the rule count; the remaining
 * criteria, the time window and the expiry are then checked on those few candidates, per call. A phrase
 * can be anywhere in a name, so the rules on a name alone are each met by every call that presents one.
 */
export class RuleMatcherBuilder {
  private readonly byCli = new PatternIndexBuilder<Rule>();
  private readonly byDestination = new PatternIndexBuilder<Rule>();
  private readonly byTrunk = new Map<string, Rule[]>();
  private readonly byCarrier = new Map<string, Rule[]>();
  private readonly onNames: Rule[] = [];
  private size = 0;

  add(rule: Rule): void {
    const { cli, destination, trunk, carrier, name } = rule.criteria;
    this.size++;
    if (cli) this.byCli.add(cli, rule);
    else if (destination) this.byDestination.add(destination, rule);
    else if (trunk) appendTo(this.byTrunk, trunk, rule);
    else if (carrier) appendTo(this.byCarrier, carrier, rule);
    else if (name) this.onNames.push(rule);
  }

  build(): RuleMatcher {
    const { byTrunk, byCarrier, onNames, size } = this;
    const byCli = this.byCli.build();
    const byDestination = this.byDestination.build();
    return {
      size,
      matching(subject) {
        const candidates: Rule[] = [];
        if (subject.cli !== null) appendAll(candidates, byCli.matching(subject.cli));
        if (subject.destination !== null) appendAll(candidates, byDestination.matching(subject.destination));
        if (subject.trunk !== null) appendAll(candidates, byTrunk.get(subject.trunk) ?? []);
        // The presented carrier and its map name may be one string: a carrier's rules are met once.
        for (const carrier of new Set(subject.carriers)) appendAll(candidates, byCarrier.get(carrier) ?? []);
        if (subject.name !== null) appendAll(candidates, onNames);
        return candidates.filter((rule) => ruleHolds(rule, subject));
      },
    };
  }
}

export function compileRuleMatcher(rules: Iterable<Rule>): RuleMatcher {
  const builder = new RuleMatcherBuilder();
  for (const rule of rules) builder.add(rule);
  return builder.build();
}

function appendTo(map: Map<string, Rule[]>, key: string, rule: Rule) {
  const list = map.get(key);
  if (list) list.push(rule);
  else map.set(key, [rule]);
}

const patternHolds = (pattern: NumberPattern | undefined, tn: string | null) => !pattern || (tn !== null && patternCovers(pattern, tn));

/** Every criterion of the rule holds for the subject, and the rule is in force at its instant. */
export function ruleHolds(rule: Rule, subject: RuleSubject): boolean {
  const { cli, destination, trunk, carrier, name, timeWindow } = rule.criteria;
  return (
    isRuleActive(rule, subject.atMs) &&
    patternHolds(cli, subject.cli) &&
    patternHolds(destination, subject.destination) &&
    (trunk === undefined || trunk === subject.trunk) &&
    (carrier === undefined || subject.carriers.includes(carrier)) &&
    (name === undefined || nameContainsPhrase(presentedNameKey(subject.name), name)) &&
    (timeWindow === undefined || isWithinTimeWindow(timeWindow, subject.atMs))
  );
}

/** The criteria an exact-number rule can have: the number it names, as a CLI or as the called number. */
export type KeyedCriterion = "cli" | "destination";

/**
 * The rule table compiled once at one store version: rules held whole, and exact-number rules in
 * keyed indexes (src/rules/keyed-index.ts). `wholeRules` is kept for the saved copy.
 */
export interface RuleBase {
  /** The origin version (migrations/0001) the base was compiled at. */
  version: number;
  whole: RuleMatcher;
  wholeRules: readonly Rule[];
  keyed: Record<KeyedCriterion, KeyedRuleIndex>;
}

export function ruleBaseOf(version: number, wholeRules: Rule[], keyed: Record<KeyedCriterion, KeyedRuleIndex> = EMPTY_KEYED()): RuleBase {
  return { version, whole: compileRuleMatcher(wholeRules), wholeRules, keyed };
}

const EMPTY_KEYED = () => ({ cli: new KeyedRuleIndexBuilder().build(), destination: new KeyedRuleIndexBuilder().build() });

/** What changed in the store after a base's version: every rule written since (as it is now) and every rule deleted since. */
export interface RuleChanges {
  rules: Rule[];
  removedIds: string[];
}

export const NO_CHANGES: RuleChanges = { rules: [], removedIds: [] };

/** The exact-number rules a call's number hit in a keyed index, by what the index keeps of them. */
export interface KeyedHit {
  criterion: KeyedCriterion;
  tn: string;
  heads: RuleHead[];
}

/** The rules in force in an isolate: a base, and the changes made since, which replace what the base says of the rules they name. */
export interface RuleSet {
  readonly base: RuleBase;
  readonly changes: RuleChanges;
  /** Rules held: the base's (whole and keyed) plus the changes since. */
  readonly size: number;
  /** What the isolate decides alone: the whole rules that hold, and the keyed entries still in force that the call's numbers hit. */
  candidates(subject: RuleSubject): { rules: Rule[]; keyed: KeyedHit[] };
  /**
   * Whether the changes since name the rule a keyed entry was compiled from (deleted, or written again
   * and so among the changes' rules), by the hash of its id: the entry is then out of date.
   */
  supersedes(head: RuleHead): boolean;
}

export function composeRuleSet(base: RuleBase, changes: RuleChanges): RuleSet {
  const changed = compileRuleMatcher(changes.rules);
  const superseded = new Set(changes.removedIds);
  for (const rule of changes.rules) superseded.add(rule.id);
  const supersededIdHashes = new Set([...superseded].map(ruleIdHash));
  return {
    base,
    changes,
    size: base.whole.size + base.keyed.cli.size + base.keyed.destination.size + changes.rules.length,
    candidates(subject) {
      const rules = base.whole.matching(subject).filter((rule) => !superseded.has(rule.id));
      appendAll(rules, changed.matching(subject));
      const keyed: KeyedHit[] = [];
      for (const [criterion, tn] of [["cli", subject.cli], ["destination", subject.destination]] as const) {
        const heads = tn === null ? [] : base.keyed[criterion].activeHeads(tn, subject.atMs);
        if (heads.length > 0) keyed.push({ criterion, tn: tn!, heads });
      }
      return { rules, keyed };
    },
    supersedes: (head) => supersededIdHashes.has(head.idHash),
  };
}

/** Every rule in `rules`, held whole: what an isolate compiles from rules it was handed rather than paged from the store. */
export const ruleSetOf = (rules: Rule[], version = 0): RuleSet => composeRuleSet(ruleBaseOf(version, rules), NO_CHANGES);

/** The store's rules on a number the keyed index hit, as they are now; null when the store could not be read. */
export type KeyedRuleReader = (criterion: KeyedCriterion, tn: string) => Promise<Rule[] | null>;

/**
 * Every rule in force for the subject. A keyed hit is read from the store, whose answer is current
 * (a rule removed or changed since the base was compiled reads as it is now); when the store cannot
 * be read, the hit is enforced as the index remembers it, with a rule that says its details are missing
 * — except the entries of rules the changes since delete or rewrite: a deleted rule (a number an
 * analyst unblocked) is not enforced, and a rewritten one is already among the candidates as it is now
 * (a block made a tag, or monitored, is enforced once, as written). An entry whose id hash collides
 * with a changed rule's is dropped with it, until the store answers again or the next base is compiled.
 */
export async function matchRules(set: RuleSet, subject: RuleSubject, read: KeyedRuleReader): Promise<Rule[]> {
  const { rules, keyed } = set.candidates(subject);
  if (keyed.length === 0) return rules;
  const matched = new Map(rules.map((rule) => [rule.id, rule]));
  for (const [hit, current] of await Promise.all(keyed.map(async (hit) => [hit, await read(hit.criterion, hit.tn)] as const))) {
    if (current === null) {
      hit.heads.forEach((head, index) => {
        if (!set.supersedes(head)) matched.set(`${hit.criterion}:${hit.tn}:${index}`, unreadRule(hit, head));
      });
    } else for (const rule of current) if (ruleHolds(rule, subject)) matched.set(rule.id, rule);
  }
  return [...matched.values()];
}

/** The id of a rule enforced as a keyed index remembers it, its details unread: it names no rule in the table. */
export const UNREAD_RULE_ID = "unread";

function unreadRule(hit: KeyedHit, head: RuleHead): Rule {
  return {
    id: UNREAD_RULE_ID,
    criteria: { [hit.criterion]: { exact: hit.tn } },
    action: head.action,
    mode: head.mode,
    reason: `exact-number rule on ${hit.criterion === "cli" ? "the caller ID" : "the called number"} ${hit.tn}; its details could not be read`,
    label: null,
    author: "unknown",
    expiresAt: head.expiresAt,
    reportId: null,
    version: 0,
    createdAt: 0,
    updatedAt: 0,
  };
}
