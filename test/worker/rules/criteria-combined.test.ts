import { describe, expect, it } from "vitest";
import { compileRuleMatcher, type RuleSubject } from "../../../src/rules/matcher";
import type { RuleCriteria } from "../../../src/rules/rule";
import { ruleFixture } from "../origin/support";

/**
 * The matcher indexes each rule under one criterion and checks the rest on the candidates it finds.
 * These rules pin what that must not lose: a short prefix under a longer one, and every criterion
 * beside the one a rule is indexed under (scripts/named-mutants.ts names the mutants they kill).
 */
const FRIDAY_NOON_UTC = Date.parse("2026-11-27T12:00:00Z");
const subject = (overrides: Partial<RuleSubject> = {}): RuleSubject => ({ cli: "77272501234", destination: "77012345678", trunk: "intl-1", carriers: ["TransitCo"], name: null, atMs: FRIDAY_NOON_UTC, ...overrides });
const matchingIds = (criteria: Record<string, RuleCriteria>, call: RuleSubject) =>
  compileRuleMatcher(Object.entries(criteria).map(([id, rule]) => ruleFixture({ id, criteria: rule })))
    .matching(call)
    .map((rule) => rule.id)
    .sort();

describe("a prefix rule covers every number under it, whatever longer prefixes other rules name", () => {
  const nested = { country: { cli: { prefix: "7" } }, city: { cli: { prefix: "7727" } }, block: { cli: { prefix: "772725" } }, line: { cli: { exact: "77272501234" } } };

  it("a CLI under both a short and a longer prefix meets both rules", () => {
    expect(matchingIds({ city: nested.city, block: nested.block }, subject())).toEqual(["block", "city"]);
  });

  it("every enclosing prefix and the exact number meet the CLI; a sibling's CLI meets only the prefixes above it", () => {
    expect(matchingIds(nested, subject())).toEqual(["block", "city", "country", "line"]);
    expect(matchingIds(nested, subject({ cli: "77272601234" }))).toEqual(["city", "country"]);
  });

  it("destination prefixes nest the same way", () => {
    expect(matchingIds({ mobile: { destination: { prefix: "770" } }, operator: { destination: { prefix: "7701" } } }, subject())).toEqual(["mobile", "operator"]);
  });
});

describe("a rule indexed under its CLI still holds every other criterion", () => {
  it("a CLI-and-trunk rule does not match the CLI arriving on another trunk", () => {
    const rules = { onTrunk: { cli: { prefix: "7727" }, trunk: "intl-1" } };
    expect(matchingIds(rules, subject())).toEqual(["onTrunk"]);
    expect(matchingIds(rules, subject({ trunk: "intl-2" }))).toEqual([]);
    expect(matchingIds(rules, subject({ trunk: null }))).toEqual([]);
  });

  it("a CLI-and-destination rule does not match the CLI calling another destination", () => {
    const rules = { toOperator: { cli: { exact: "77272501234" }, destination: { prefix: "7701" } } };
    expect(matchingIds(rules, subject())).toEqual(["toOperator"]);
    expect(matchingIds(rules, subject({ destination: "77051234567" }))).toEqual([]);
    expect(matchingIds(rules, subject({ destination: null }))).toEqual([]);
  });

  it("a destination-and-trunk rule does not match the destination reached from another trunk", () => {
    const rules = { inbound: { destination: { prefix: "7701" }, trunk: "intl-1" } };
    expect(matchingIds(rules, subject())).toEqual(["inbound"]);
    expect(matchingIds(rules, subject({ trunk: "intl-2" }))).toEqual([]);
  });

  it("a trunk-and-carrier rule does not match the trunk carrying another carrier", () => {
    const rules = { transit: { trunk: "intl-1", carrier: "TransitCo" } };
    expect(matchingIds(rules, subject())).toEqual(["transit"]);
    expect(matchingIds(rules, subject({ carriers: ["OtherCo"] }))).toEqual([]);
  });
});
