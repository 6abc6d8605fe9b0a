import { describe, expect, it } from "vitest";
import { compileRuleMatcher, type RuleSubject } from "../../../src/rules/matcher";
import { ruleFixture } from "../origin/support";

const FRIDAY_NOON_UTC = Date.parse("2026-11-27T12:00:00Z"); // 17:00 in Almaty (UTC+5)
const subject = (overrides: Partial<RuleSubject> = {}): RuleSubject => ({ cli: "77272501234", destination: "77012345678", trunk: "intl-1", carriers: ["TransitCo"], atMs: FRIDAY_NOON_UTC, ...overrides });

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
