import { describe, expect, it } from "vitest";
import { decodeRuleBase, encodeRuleBase, RuleBaseEncodingError } from "../../../src/rules/base-encoding";
import { KeyedRuleIndexBuilder, numberKey, ruleIdHash, type RuleHead } from "../../../src/rules/keyed-index";
import { ruleBaseOf, type RuleSubject } from "../../../src/rules/matcher";
import { ruleFixture } from "../origin/support";
import { encodeFormat2Base } from "../support/format-2-rule-base";

const AT = Date.parse("2026-11-27T12:00:00Z");
/** What the index keeps of a rule, the rule named by its id. */
const head = (id: string, action: RuleHead["action"], expiresAt: number | null = null, mode: RuleHead["mode"] = "enforce"): RuleHead => ({ action, mode, expiresAt, idHash: ruleIdHash(id) });

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
    for (const [tn, action] of [["77272501236", "tag"], ["77272501234", "block"], ["77272501235", "allow"], ["77272501234", "withhold"]] as const) builder.append(numberKey(tn)!, head(`${tn}/${action}`, action));
    const index = builder.build();
    expect(index.size).toBe(4);
    expect(index.activeHeads("77272501234", AT)).toEqual([head("77272501234/block", "block"), head("77272501234/withhold", "withhold")]);
    expect(index.activeHeads("77272501236", AT)).toEqual([head("77272501236/tag", "tag")]);
    expect(index.activeHeads("77272501233", AT)).toEqual([]);
    expect(index.activeHeads("77272501237", AT)).toEqual([]);
  });

  it("judges expiry at the call's instant: in force until the expiry, not at it", () => {
    const builder = new KeyedRuleIndexBuilder();
    builder.append(numberKey("77272501234")!, head("expiring", "block", AT + 60_000));
    const index = builder.build();
    expect(index.activeHeads("77272501234", AT + 59_999)).toEqual([head("expiring", "block", AT + 60_000)]);
    expect(index.activeHeads("77272501234", AT + 60_000)).toEqual([]);
  });

  it("finds rules appended in descending order", () => {
    const builder = new KeyedRuleIndexBuilder();
    builder.append(numberKey("77272501236")!, head("second", "tag"));
    builder.append(numberKey("77272501234")!, head("first", "block", null, "monitor"));
    const index = builder.build();
    expect(index.activeHeads("77272501234", AT)).toEqual([head("first", "block", null, "monitor")]);
    expect(index.activeHeads("77272501236", AT)).toEqual([head("second", "tag")]);
  });

  it("appended in order, equal keys included, is a view over the builder's arrays: nothing is copied", () => {
    const builder = new KeyedRuleIndexBuilder();
    for (const tn of ["77272501234", "77272501234", "77272501235"]) builder.append(numberKey(tn)!, head(tn, "block"));
    const { columns } = builder.build();
    expect(columns.keys.length).toBe(3);
    expect(columns.keys.buffer.byteLength).toBe(1_024 * 8); // the builder's first capacity
  });

  it("keeps the rules appended before its arrays grew", () => {
    const builder = new KeyedRuleIndexBuilder();
    for (let index = 0; index < 3_000; index++) builder.append(numberKey(String(77_272_500_000 + index))!, head(`r${index}`, index % 2 ? "tag" : "block", AT + index));
    const index = builder.build();
    expect(index.size).toBe(3_000);
    expect(index.activeHeads("77272500000", AT - 1)).toEqual([head("r0", "block", AT)]);
    expect(index.activeHeads("77272501023", AT - 1)).toEqual([head("r1023", "tag", AT + 1_023)]);
    expect(index.activeHeads("77272502999", AT - 1)).toEqual([head("r2999", "tag", AT + 2_999)]);
  });

  it("holds a million rules in 21 bytes each, with at most half as much again of headroom", () => {
    const builder = new KeyedRuleIndexBuilder();
    for (let index = 0; index < 1_000_000; index++) builder.append(numberKey(String(77_000_000_000 + index * 7))!, { action: "block", mode: "enforce", expiresAt: null, idHash: index });
    const { columns } = builder.build();
    const { keys, expiries, idHashes, actions } = columns;
    expect(keys.byteLength + expiries.byteLength + idHashes.byteLength + actions.byteLength).toBe(21_000_000);
    expect(keys.buffer.byteLength + expiries.buffer.byteLength + idHashes.buffer.byteLength + actions.buffer.byteLength).toBeLessThanOrEqual(1.5 * 21_000_000);
  });
});

describe("a rule base saved as bytes", () => {
  const keyed = (entries: [string, "block" | "tag", number | null][]) => {
    const builder = new KeyedRuleIndexBuilder();
    for (const [tn, action, expiresAt] of entries) builder.append(numberKey(tn)!, head(`${tn}/${action}`, action, expiresAt));
    return builder.build();
  };
  const whole = [ruleFixture({ id: "prefix", criteria: { cli: { prefix: "7727" }, trunk: "intl-1" }, reason: "Üñíçødé reason\nacross lines" }), ruleFixture({ id: "carrier", criteria: { carrier: "TransitCo" } })];
  const base = ruleBaseOf(42, whole, { cli: keyed([["77272501234", "block", null], ["77272501235", "tag", AT]]), destination: keyed([["77012345678", "block", null]]) });
  const subject: RuleSubject = { cli: "77272501234", destination: "77012345678", trunk: "intl-1", carriers: ["TransitCo"], name: null, atMs: AT - 1 };

  it("decodes to the same rules, keyed (each with its id's hash) and whole", async () => {
    const decoded = await decodeRuleBase(await encodeRuleBase(base));
    expect(decoded.version).toBe(42);
    expect(decoded.wholeRules).toEqual(whole);
    expect(decoded.whole.matching(subject).map((rule) => rule.id).sort()).toEqual(["carrier", "prefix"]);
    expect(decoded.keyed.cli.activeHeads("77272501234", AT - 1)).toEqual([head("77272501234/block", "block")]);
    expect(decoded.keyed.cli.activeHeads("77272501235", AT - 1)).toEqual([head("77272501235/tag", "tag", AT)]);
    expect(decoded.keyed.destination.activeHeads("77012345678", AT)).toEqual([head("77012345678/block", "block")]);
    expect(decoded.keyed.cli.size + decoded.keyed.destination.size).toBe(3);
  });

  it("writes and reads many rules held whole in slices, in their order", async () => {
    const many = Array.from({ length: 5_001 }, (_, index) => ruleFixture({ id: `r${index}`, criteria: { trunk: `trunk-${index}` } }));
    const decoded = await decodeRuleBase(await encodeRuleBase(ruleBaseOf(7, many)));
    expect(decoded.wholeRules).toEqual(many);
    expect(decoded.whole.matching({ ...subject, trunk: "trunk-5000" }).map((rule) => rule.id)).toEqual(["r5000"]);
  });

  it("pads its header to the next multiple of 8 and no further, then 21 bytes a keyed rule and the whole rules' lines", async () => {
    const bytes = await encodeRuleBase(base);
    const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
    const lines = new TextEncoder().encode(whole.map((rule) => `${JSON.stringify(rule)}\n`).join("")).length;
    expect(bytes.length).toBe(Math.ceil((4 + headerLength) / 8) * 8 + 3 * 21 + lines);
  });

  it("decodes a base of keyed rules only", async () => {
    const decoded = await decodeRuleBase(await encodeRuleBase(ruleBaseOf(3, [], { cli: keyed([["77272501234", "block", null]]), destination: keyed([]) })));
    expect(decoded.keyed.cli.activeHeads("77272501234", AT)).toEqual([head("77272501234/block", "block")]);
    expect(decoded.wholeRules).toEqual([]);
  });

  it("copies every column out: the bytes can be overwritten once decoded", async () => {
    const bytes = await encodeRuleBase(base);
    const decoded = await decodeRuleBase(bytes);
    bytes.fill(0);
    expect(decoded.keyed.cli.activeHeads("77272501235", AT - 1)).toEqual([head("77272501235/tag", "tag", AT)]);
    expect(decoded.keyed.destination.activeHeads("77012345678", AT)).toEqual([head("77012345678/block", "block")]);
  });

  it("reads a last whole rule without its newline", async () => {
    const bytes = await encodeRuleBase(base);
    expect((await decodeRuleBase(bytes.slice(0, -1))).wholeRules).toEqual(whole);
  });

  it("reads bytes at any multiple of 8 in their buffer; refuses them misaligned, or too few for a header's length", async () => {
    const bytes = await encodeRuleBase(base);
    const shifted = new Uint8Array(bytes.length + 4);
    shifted.set(bytes, 4);
    await expect(decodeRuleBase(shifted.subarray(4))).rejects.toThrow(new RuleBaseEncodingError("saved rule base is truncated or misaligned"));
    const aligned = new Uint8Array(bytes.length + 8);
    aligned.set(bytes, 8);
    expect((await decodeRuleBase(aligned.subarray(8))).version).toBe(42);
    await expect(decodeRuleBase(new Uint8Array(3))).rejects.toThrow(new RuleBaseEncodingError("saved rule base is truncated or misaligned"));
    await expect(decodeRuleBase(new Uint8Array(4))).rejects.toThrow(new RuleBaseEncodingError("saved rule base has no readable header"));
  });

  it("refuses bytes cut inside the keyed columns, or missing a whole rule its header counts", async () => {
    const bytes = await encodeRuleBase(base);
    const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
    const keyedEnd = Math.ceil((4 + headerLength) / 8) * 8 + 3 * 21;
    await expect(decodeRuleBase(bytes.slice(0, keyedEnd - 1))).rejects.toThrow(new RuleBaseEncodingError("saved rule base is shorter than its header says"));
    const lastLine = bytes.lastIndexOf(0x0a, bytes.length - 2) + 1;
    await expect(decodeRuleBase(bytes.slice(0, lastLine))).rejects.toThrow(new RuleBaseEncodingError("saved rule base holds 1 whole rules, its header says 2"));
  });

  it("refuses bytes it did not write, or fewer than it wrote", async () => {
    const bytes = await encodeRuleBase(base);
    await expect(decodeRuleBase(new TextEncoder().encode("\u0002\u0000\u0000\u0000{}"))).rejects.toBeInstanceOf(RuleBaseEncodingError);
    await expect(decodeRuleBase(bytes.slice(0, 100))).rejects.toBeInstanceOf(RuleBaseEncodingError);
  });

  it("refuses a base of format 2, saved before the index kept rules' id hashes (17 bytes a rule), by its format", async () => {
    const bytes = encodeFormat2Base(7, [[numberKey("77272501234")!, null, 0]]);
    await expect(decodeRuleBase(bytes)).rejects.toThrow(new RuleBaseEncodingError('saved rule base has format "shaken-edge rule base 2", not "shaken-edge rule base 3"'));
  });
});
