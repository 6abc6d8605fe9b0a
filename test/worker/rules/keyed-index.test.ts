import { describe, expect, it } from "vitest";
import { decodeRuleBase, encodeRuleBase, RuleBaseEncodingError } from "../../../src/rules/base-encoding";
import { KeyedRuleIndexBuilder, numberKey } from "../../../src/rules/keyed-index";
import { ruleBaseOf, type RuleSubject } from "../../../src/rules/matcher";
import { ruleFixture } from "../origin/support";

const AT = Date.parse("2026-11-27T12:00:00Z");

describe("a number's key", () => {
  it("is exact for 15 digits, keeps leading zeros and length apart, and orders shorter numbers first", () => {
    expect(numberKey("999999999999999")).toBe(1_999_999_999_999_999);
    expect(Number.isSafeInteger(numberKey("999999999999999"))).toBe(true);
    expect(numberKey("0123")).not.toBe(numberKey("123"));
    expect(numberKey("99")!).toBeLessThan(numberKey("100")!);
  });
  it.each(["", "+7727", "7727 250", "1234567890123456"])("%j has none", (tn) => {
    expect(numberKey(tn)).toBeNull();
  });
});

describe("the keyed index", () => {
  it("finds every rule on a number, in or out of the order appended, and nothing beside it", () => {
    const builder = new KeyedRuleIndexBuilder();
    for (const [tn, action] of [["77272501236", "tag"], ["77272501234", "block"], ["77272501235", "allow"], ["77272501234", "withhold"]] as const) builder.append(numberKey(tn)!, { action, mode: "enforce", expiresAt: null });
    const index = builder.build();
    expect(index.size).toBe(4);
    expect(index.activeHeads("77272501234", AT)).toEqual([{ action: "block", mode: "enforce", expiresAt: null }, { action: "withhold", mode: "enforce", expiresAt: null }]);
    expect(index.activeHeads("77272501236", AT)).toEqual([{ action: "tag", mode: "enforce", expiresAt: null }]);
    expect(index.activeHeads("77272501233", AT)).toEqual([]);
    expect(index.activeHeads("77272501237", AT)).toEqual([]);
  });

  it("judges expiry at the call's instant: in force until the expiry, not at it", () => {
    const builder = new KeyedRuleIndexBuilder();
    builder.append(numberKey("77272501234")!, { action: "block", mode: "enforce", expiresAt: AT + 60_000 });
    const index = builder.build();
    expect(index.activeHeads("77272501234", AT + 59_999)).toEqual([{ action: "block", mode: "enforce", expiresAt: AT + 60_000 }]);
    expect(index.activeHeads("77272501234", AT + 60_000)).toEqual([]);
  });

  it("holds a million rules in 17 bytes each, with at most half as much again of headroom", () => {
    const builder = new KeyedRuleIndexBuilder();
    for (let index = 0; index < 1_000_000; index++) builder.append(numberKey(String(77_000_000_000 + index * 7))!, { action: "block", mode: "enforce", expiresAt: null });
    const { columns } = builder.build();
    expect(columns.keys.byteLength + columns.expiries.byteLength + columns.actions.byteLength).toBe(17_000_000);
    expect(columns.keys.buffer.byteLength + columns.expiries.buffer.byteLength + columns.actions.buffer.byteLength).toBeLessThanOrEqual(1.5 * 17_000_000);
  });
});

describe("a rule base saved as bytes", () => {
  const keyed = (entries: [string, "block" | "tag", number | null][]) => {
    const builder = new KeyedRuleIndexBuilder();
    for (const [tn, action, expiresAt] of entries) builder.append(numberKey(tn)!, { action, mode: "enforce", expiresAt });
    return builder.build();
  };
  const whole = [ruleFixture({ id: "prefix", criteria: { cli: { prefix: "7727" }, trunk: "intl-1" }, reason: "Üñíçødé reason\nacross lines" }), ruleFixture({ id: "carrier", criteria: { carrier: "TransitCo" } })];
  const base = ruleBaseOf(42, whole, { cli: keyed([["77272501234", "block", null], ["77272501235", "tag", AT]]), destination: keyed([["77012345678", "block", null]]) });
  const subject: RuleSubject = { cli: "77272501234", destination: "77012345678", trunk: "intl-1", carriers: ["TransitCo"], atMs: AT - 1 };

  it("decodes to the same rules, keyed and whole", async () => {
    const decoded = await decodeRuleBase(await encodeRuleBase(base));
    expect(decoded.version).toBe(42);
    expect(decoded.wholeRules).toEqual(whole);
    expect(decoded.whole.matching(subject).map((rule) => rule.id).sort()).toEqual(["carrier", "prefix"]);
    expect(decoded.keyed.cli.activeHeads("77272501235", AT - 1)).toEqual([{ action: "tag", mode: "enforce", expiresAt: AT }]);
    expect(decoded.keyed.destination.activeHeads("77012345678", AT)).toEqual([{ action: "block", mode: "enforce", expiresAt: null }]);
    expect(decoded.keyed.cli.size + decoded.keyed.destination.size).toBe(3);
  });

  it("writes and reads many rules held whole in slices, in their order", async () => {
    const many = Array.from({ length: 5_001 }, (_, index) => ruleFixture({ id: `r${index}`, criteria: { trunk: `trunk-${index}` } }));
    const decoded = await decodeRuleBase(await encodeRuleBase(ruleBaseOf(7, many)));
    expect(decoded.wholeRules).toEqual(many);
    expect(decoded.whole.matching({ ...subject, trunk: "trunk-5000" }).map((rule) => rule.id)).toEqual(["r5000"]);
  });

  it("refuses bytes it did not write, or fewer than it wrote", async () => {
    const bytes = await encodeRuleBase(base);
    await expect(decodeRuleBase(new TextEncoder().encode("\u0002\u0000\u0000\u0000{}"))).rejects.toBeInstanceOf(RuleBaseEncodingError);
    await expect(decodeRuleBase(bytes.slice(0, 100))).rejects.toBeInstanceOf(RuleBaseEncodingError);
  });
});
