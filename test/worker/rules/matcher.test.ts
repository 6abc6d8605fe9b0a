import { describe, expect, it } from "vitest";
import { KeyedRuleIndexBuilder, numberKey, ruleIdHash } from "../../../src/rules/keyed-index";
import { compileRuleMatcher, composeRuleSet, matchRules, NO_CHANGES, ruleBaseOf, UNREAD_RULE_ID, type KeyedCriterion, type RuleSubject } from "../../../src/rules/matcher";
import type { Rule, RuleCriteria } from "../../../src/rules/rule";
import { ruleFixture } from "../origin/support";

const FRIDAY_NOON_UTC = Date.parse("2026-11-27T12:00:00Z"); // 17:00 in Almaty (UTC+5)
const subject = (overrides: Partial<RuleSubject> = {}): RuleSubject => ({ cli: "77272501234", destination: "77012345678", trunk: "intl-1", carriers: ["TransitCo"], name: null, atMs: FRIDAY_NOON_UTC, ...overrides });

describe("rule criteria", () => {
  it.each([
    ["CLI exact", { cli: { exact: "77272501234" } }, { cli: "77272501235" }],
    ["CLI prefix", { cli: { prefix: "772725" } }, { cli: "77272601234" }],
    ["CLI range", { cli: { from: "77272500000", to: "77272509999" } }, { cli: "77272510000" }],
    ["destination", { destination: { prefix: "7701" } }, { destination: "77051234567" }],
    ["trunk", { trunk: "intl-1" }, { trunk: "intl-2" }],
    ["carrier", { carrier: "TransitCo" }, { carriers: ["OtherCo"] }],
  ])("%s matches, and a call outside it does not", (_, criteria, outside) => {
    const matcher = compileRuleMatcher([ruleFixture({ criteria })]);
    expect(matcher.matching(subject())).toHaveLength(1);
    expect(matcher.matching(subject(outside))).toHaveLength(0);
  });
  it("every criterion of a rule must hold", () => {
    const matcher = compileRuleMatcher([ruleFixture({ criteria: { cli: { prefix: "7727" }, carrier: "TransitCo" } })]);
    expect(matcher.matching(subject())).toHaveLength(1);
    expect(matcher.matching(subject({ carriers: ["OtherCo"] }))).toHaveLength(0);
  });
  it.each([
    ["a CLI prefix", { cli: { prefix: "7727" }, trunk: "intl-1" }],
    ["an exact CLI", { cli: { exact: "77272501234" }, trunk: "intl-1" }],
    ["a destination", { destination: { prefix: "7701" }, trunk: "intl-1" }],
  ])("a trunk combined with %s holds only on that trunk (the rule is indexed under the number)", (_, criteria) => {
    const matcher = compileRuleMatcher([ruleFixture({ criteria })]);
    expect(matcher.matching(subject())).toHaveLength(1);
    expect(matcher.matching(subject({ trunk: "intl-2" }))).toHaveLength(0);
    expect(matcher.matching(subject({ trunk: null }))).toHaveLength(0);
  });
  it("a time window in local time, crossing midnight, on chosen days", () => {
    const evenings = compileRuleMatcher([ruleFixture({ criteria: { cli: { prefix: "7727" }, timeWindow: { start: "16:00", end: "02:00", days: [5], utcOffset: "+05:00" } } })]);
    expect(evenings.matching(subject())).toHaveLength(1); // Friday 17:00
    expect(evenings.matching(subject({ atMs: Date.parse("2026-11-27T20:30:00Z") }))).toHaveLength(1); // Saturday 01:30, started Friday
    expect(evenings.matching(subject({ atMs: Date.parse("2026-11-27T08:00:00Z") }))).toHaveLength(0); // Friday 13:00
    expect(evenings.matching(subject({ atMs: Date.parse("2026-11-28T12:00:00Z") }))).toHaveLength(0); // Saturday 17:00
  });
  it("an expired rule stops matching at its expiry instant", () => {
    const matcher = compileRuleMatcher([ruleFixture({ criteria: { cli: { prefix: "7727" } }, expiresAt: FRIDAY_NOON_UTC + 60_000 })]);
    expect(matcher.matching(subject({ atMs: FRIDAY_NOON_UTC + 59_999 }))).toHaveLength(1);
    expect(matcher.matching(subject({ atMs: FRIDAY_NOON_UTC + 60_000 }))).toHaveLength(0);
  });
});

describe("rules held whole", () => {
  it("counts every rule compiled, whatever it is indexed under", () => {
    const rules = [{ cli: { prefix: "7727" } }, { destination: { prefix: "7701" } }, { trunk: "intl-1" }, { carrier: "TransitCo" }].map((criteria) => ruleFixture({ criteria }));
    expect(compileRuleMatcher(rules).size).toBe(4);
  });
  it("keeps every rule on one trunk or one carrier", () => {
    const matcher = compileRuleMatcher([
      ruleFixture({ id: "trunk-a", criteria: { trunk: "intl-1" } }),
      ruleFixture({ id: "trunk-b", criteria: { trunk: "intl-1" } }),
      ruleFixture({ id: "carrier-a", criteria: { carrier: "TransitCo" } }),
      ruleFixture({ id: "carrier-b", criteria: { carrier: "TransitCo" } }),
    ]);
    expect(matcher.matching(subject()).map((rule) => rule.id).sort()).toEqual(["carrier-a", "carrier-b", "trunk-a", "trunk-b"]);
  });
  it("a call without a CLI or called number meets no rule on one, and the others still", () => {
    const matcher = compileRuleMatcher([ruleFixture({ id: "cli", criteria: { cli: { prefix: "7" } } }), ruleFixture({ id: "destination", criteria: { destination: { prefix: "7" } } }), ruleFixture({ id: "trunk", criteria: { trunk: "intl-1" } })]);
    expect(matcher.matching(subject({ cli: null, destination: null })).map((rule) => rule.id)).toEqual(["trunk"]);
  });
});

describe("10 000 rules", () => {
  const rules = Array.from({ length: 10_000 }, (_, i) => {
    const n = String(i).padStart(4, "0");
    if (i % 3 === 0) return ruleFixture({ id: `exact-${i}`, criteria: { cli: { exact: `7916123${n}` } } });
    if (i % 3 === 1) return ruleFixture({ id: `prefix-${i}`, criteria: { cli: { prefix: `7925${n}` } } });
    return ruleFixture({ id: `range-${i}`, criteria: { cli: { from: `7903${n}000`, to: `7903${n}499` } } });
  });
  const matcher = compileRuleMatcher([...rules, ruleFixture({ id: "wide", criteria: { cli: { from: "79000000000", to: "79999999999" } } })]);
  it("finds exactly the covering rules (exact, prefix, range, and an overlapping wide range)", () => {
    const ids = (cli: string) => matcher.matching(subject({ cli })).map((rule) => rule.id).sort();
    expect(ids("79161230300")).toEqual(["exact-300", "wide"]);
    expect(ids("79250301999")).toEqual(["prefix-301", "wide"]);
    expect(ids("79030302499")).toEqual(["range-302", "wide"]);
    expect(ids("79030302500")).toEqual(["wide"]);
    expect(ids("77272501234")).toEqual([]);
  });
});

/** A rule whose criteria count how often the matcher reads them. */
function countedRule(criteria: RuleCriteria, reads: { count: number }): Rule {
  const rule = ruleFixture({ criteria });
  return Object.defineProperty(rule, "criteria", { get: () => (reads.count++, criteria) });
}

describe("trunk-only and carrier-only rules are looked up, not scanned", () => {
  it.each<[string, (index: number) => RuleCriteria, Partial<RuleSubject>]>([
    ["trunk", (index) => ({ trunk: `trunk-${index}` }), { trunk: "trunk-77777", carriers: [] }],
    ["carrier", (index) => ({ carrier: `Carrier ${index}` }), { trunk: null, carriers: ["Carrier 77777"] }],
  ])("among 100 000 %s-only rules a call reads the criteria of the one that names its ingress", (_, criteriaOf, ingress) => {
    const reads = { count: 0 };
    const matcher = compileRuleMatcher(Array.from({ length: 100_000 }, (_, index) => countedRule(criteriaOf(index), reads)));
    reads.count = 0;
    expect(matcher.matching(subject(ingress))).toHaveLength(1);
    expect(reads.count).toBe(1);
    reads.count = 0;
    expect(matcher.matching(subject({ trunk: "unknown", carriers: ["Unknown"] }))).toHaveLength(0);
    expect(reads.count).toBe(0);
  });
});

describe("200 000 rules under one prefix", () => {
  it("compile and all match, without overflowing the stack", () => {
    const matcher = compileRuleMatcher(Array.from({ length: 200_000 }, (_, index) => ruleFixture({ id: `r${index}`, criteria: { cli: { prefix: "7727" } } })));
    expect(matcher.matching(subject())).toHaveLength(200_000);
  });
});

/** A keyed index of enforced rules; a rule's id is its number and action unless given. */
const keyedIndex = (entries: [tn: string, action: Rule["action"], expiresAt: number | null, id?: string][]) => {
  const builder = new KeyedRuleIndexBuilder();
  for (const [tn, action, expiresAt, id = `${tn}/${action}`] of entries) builder.append(numberKey(tn)!, { action, mode: "enforce", expiresAt, idHash: ruleIdHash(id) });
  return builder.build();
};

describe("a rule set: a compiled base and the changes since", () => {
  it("a changed rule replaces the base's, a removed one is gone, a new one joins", () => {
    const kept = ruleFixture({ id: "kept", criteria: { cli: { prefix: "7727" } } });
    const changed = ruleFixture({ id: "changed", criteria: { cli: { prefix: "7727" } } });
    const removed = ruleFixture({ id: "removed", criteria: { trunk: "intl-1" } });
    const base = ruleBaseOf(1, [kept, changed, removed]);
    const set = composeRuleSet(base, { rules: [{ ...changed, criteria: { cli: { prefix: "7717" } } }, ruleFixture({ id: "new", criteria: { carrier: "TransitCo" } })], removedIds: ["removed"] });
    expect(set.candidates(subject()).rules.map((rule) => rule.id).sort()).toEqual(["kept", "new"]);
    expect(set.candidates(subject({ cli: "77171234567" })).rules.map((rule) => rule.id).sort()).toEqual(["changed", "new"]);
  });
});

describe("a rule set's size", () => {
  it("is the base's whole and keyed rules plus the changes since", () => {
    const base = ruleBaseOf(1, [ruleFixture({ id: "a", criteria: { trunk: "intl-1" } })], {
      cli: keyedIndex([["77272501234", "block", null], ["77272501235", "block", null]]),
      destination: keyedIndex([["77012345678", "block", null], ["77012345679", "block", null], ["77012345670", "block", null]]),
    });
    const changes = { rules: ["b", "c", "d", "e"].map((id) => ruleFixture({ id, criteria: { trunk: "intl-2" } })), removedIds: [] };
    expect(composeRuleSet(base, changes).size).toBe(1 + 2 + 3 + 4);
  });
});

describe("exact-number rules are read from the store only on a hit", () => {
  const reader = (answers: Partial<Record<KeyedCriterion, Rule[] | null>>) => {
    const asked: string[] = [];
    const read = async (criterion: KeyedCriterion, tn: string) => {
      asked.push(`${criterion}:${tn}`);
      return criterion in answers ? answers[criterion]! : [];
    };
    return { asked, read };
  };
  const base = ruleBaseOf(1, [], {
    cli: keyedIndex([["77272501234", "block", null], ["77272501234", "tag", FRIDAY_NOON_UTC]]),
    destination: keyedIndex([["77012345678", "withhold", null]]),
  });
  const set = composeRuleSet(base, NO_CHANGES);

  it("a call without a CLI or called number reads nothing", async () => {
    const { asked, read } = reader({});
    expect(await matchRules(set, subject({ cli: null, destination: null }), read)).toEqual([]);
    expect(asked).toEqual([]);
  });

  it("a call whose numbers have no exact-number rule reads nothing", async () => {
    const { asked, read } = reader({});
    expect(await matchRules(set, subject({ cli: "77272501235", destination: "77012345679" }), read)).toEqual([]);
    expect(asked).toEqual([]);
  });

  it("a hit reads that number's rules and keeps those that hold now", async () => {
    const current = ruleFixture({ id: "current", criteria: { cli: { exact: "77272501234" } } });
    const lapsed = ruleFixture({ id: "lapsed", criteria: { cli: { exact: "77272501234" } }, expiresAt: FRIDAY_NOON_UTC - 1 });
    const { asked, read } = reader({ cli: [current, lapsed] });
    expect((await matchRules(set, subject({ destination: null }), read)).map((rule) => rule.id)).toEqual(["current"]);
    expect(asked).toEqual(["cli:77272501234"]);
  });

  it("an entry expired at the call's instant is not read", async () => {
    const { asked, read } = reader({});
    await matchRules(set, subject({ destination: null, atMs: FRIDAY_NOON_UTC + 1 }), read);
    expect(asked).toEqual(["cli:77272501234"]); // the block that never expires still is read
    const onlyExpiring = composeRuleSet(ruleBaseOf(1, [], { cli: keyedIndex([["77272501234", "tag", FRIDAY_NOON_UTC]]), destination: keyedIndex([]) }), NO_CHANGES);
    const late = reader({});
    await matchRules(onlyExpiring, subject({ destination: null, atMs: FRIDAY_NOON_UTC }), late.read);
    expect(late.asked).toEqual([]);
  });

  it("when the store cannot be read, the hit is enforced as the index remembers it, saying its details are missing", async () => {
    const matched = await matchRules(set, subject({ atMs: FRIDAY_NOON_UTC - 1 }), reader({ cli: null, destination: null }).read);
    expect(matched.map(({ action, reason, expiresAt }) => ({ action, reason, expiresAt }))).toEqual([
      { action: "block", reason: "exact-number rule on the caller ID 77272501234; its details could not be read", expiresAt: null },
      { action: "tag", reason: "exact-number rule on the caller ID 77272501234; its details could not be read", expiresAt: FRIDAY_NOON_UTC },
      { action: "withhold", reason: "exact-number rule on the called number 77012345678; its details could not be read", expiresAt: null },
    ]);
  });

  it("when the store cannot be read, a monitored rule the index remembers stays monitored (issue 20)", async () => {
    const builder = new KeyedRuleIndexBuilder();
    builder.append(numberKey("77272501234")!, { action: "block", mode: "monitor", expiresAt: null, idHash: ruleIdHash("monitored") });
    builder.append(numberKey("77272501234")!, { action: "withhold", mode: "enforce", expiresAt: null, idHash: ruleIdHash("enforced") });
    const monitored = composeRuleSet(ruleBaseOf(1, [], { cli: builder.build(), destination: keyedIndex([]) }), NO_CHANGES);
    const matched = await matchRules(monitored, subject({ destination: null }), reader({ cli: null }).read);
    expect(matched.map(({ action, mode }) => ({ action, mode }))).toEqual([
      { action: "block", mode: "monitor" },
      { action: "withhold", mode: "enforce" },
    ]);
  });

  it("a rule the store returns that the changes since also hold is matched once", async () => {
    const rule = ruleFixture({ id: "both", criteria: { cli: { exact: "77272501234" } } });
    const withChange = composeRuleSet(base, { rules: [rule], removedIds: [] });
    expect((await matchRules(withChange, subject({ destination: null }), reader({ cli: [rule] }).read)).map((matched) => matched.id)).toEqual(["both"]);
  });
});

describe("a keyed rule the changes since delete or rewrite is not enforced as the index remembers it while the store cannot be read", () => {
  const N = "77272501234";
  const unreadable = async () => null;
  const onN = (id: string, overrides: Partial<Rule> = {}) => ruleFixture({ id, criteria: { cli: { exact: N } }, ...overrides });
  const setOf = (entries: [action: Rule["action"], id: string][], changes: { rules?: Rule[]; removedIds?: string[] }) =>
    composeRuleSet(ruleBaseOf(1, [], { cli: keyedIndex(entries.map(([action, id]) => [N, action, null, id])), destination: keyedIndex([]) }), { rules: changes.rules ?? [], removedIds: changes.removedIds ?? [] });
  const matched = async (set: ReturnType<typeof setOf>) => (await matchRules(set, subject({ cli: N, destination: null }), unreadable)).map(({ id, action, mode }) => ({ id, action, mode }));

  it("a block deleted since (an analyst unblocked the number) no longer blocks it", async () => {
    expect(await matched(setOf([["block", "unblocked"]], { removedIds: ["unblocked"] }))).toEqual([]);
  });

  it("a block moved to monitor mode since is matched once, monitored", async () => {
    const monitored = onN("watched", { action: "block", mode: "monitor" });
    expect(await matched(setOf([["block", "watched"]], { rules: [monitored] }))).toEqual([{ id: "watched", action: "block", mode: "monitor" }]);
  });

  it("a block downgraded to a tag since is enforced once, as the tag", async () => {
    const downgraded = onN("downgraded", { action: "tag" });
    expect(await matched(setOf([["block", "downgraded"]], { rules: [downgraded] }))).toEqual([{ id: "downgraded", action: "tag", mode: "enforce" }]);
  });

  it("a rule unchanged on the same number is still enforced as the index remembers it (no fail-open)", async () => {
    const set = setOf([["block", "unblocked"], ["withhold", "unchanged"], ["block", "downgraded"]], { rules: [onN("downgraded", { action: "tag" })], removedIds: ["unblocked"] });
    expect(await matched(set)).toEqual([
      { id: "downgraded", action: "tag", mode: "enforce" },
      { id: UNREAD_RULE_ID, action: "withhold", mode: "enforce" },
    ]);
  });

  it("a rule the changes since name on another number leaves this number's rules as the index remembers them", async () => {
    const elsewhere = ruleFixture({ id: "elsewhere", criteria: { cli: { exact: "77272509999" } } });
    expect(await matched(setOf([["block", "kept"]], { rules: [elsewhere], removedIds: ["gone"] }))).toEqual([{ id: UNREAD_RULE_ID, action: "block", mode: "enforce" }]);
  });
});
