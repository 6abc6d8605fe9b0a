import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { readOriginVersion } from "../../../src/origin/snapshot";
import type { RuleInput } from "../../../src/rules/rule";
import { createRule, deleteRule, expireRule, getRule, loadRuleChanges, readKeyedRules, replaceRule } from "../../../src/rules/store";

/** The rule store's writes and change feed, against D1: what an isolate's copy of the rules follows. */
const NOW = Date.parse("2026-11-27T12:00:00Z");
const WHO = { actor: "analyst", author: null };
const direct = <T>(pending: Promise<T>) => pending;
const block = (criteria: RuleInput["criteria"], extra: Partial<RuleInput> = {}): RuleInput => ({ criteria, action: "block", reason: "reported", ...extra });

beforeEach(async () => {
  await env.DB.batch([env.DB.prepare("DELETE FROM rules"), env.DB.prepare("DELETE FROM rule_tombstones")]);
});

describe("the changes since a version", () => {
  it("are answered up to the limit, and are null past it, for rules written and rules deleted alike", async () => {
    const since = await readOriginVersion(env.DB);
    const written = [];
    for (const cli of ["77272501231", "77272501232", "77272501233"]) written.push(await createRule(env.DB, block({ cli: { exact: cli } }), WHO, NOW));
    expect((await loadRuleChanges(env.DB, since, 3, direct))?.rules.map((rule) => rule.id)).toEqual(written.map((rule) => rule.id));
    expect(await loadRuleChanges(env.DB, since, 2, direct)).toBeNull();

    const afterWrites = await readOriginVersion(env.DB);
    for (const rule of written) expect(await deleteRule(env.DB, rule.id, null, WHO, NOW)).toEqual({ rule });
    expect((await loadRuleChanges(env.DB, afterWrites, 3, direct))?.removedIds.sort()).toEqual(written.map((rule) => rule.id).sort());
    expect(await loadRuleChanges(env.DB, afterWrites, 2, direct)).toBeNull();
  });

  it("moves with every write: a replacement, an expiry and a deletion each publish a new origin version", async () => {
    const rule = await createRule(env.DB, block({ cli: { exact: "77272501234" } }), WHO, NOW);
    for (const write of [() => replaceRule(env.DB, rule.id, block({ cli: { exact: "77272501235" } }), null, WHO, NOW), () => expireRule(env.DB, rule.id, null, WHO, NOW), () => deleteRule(env.DB, rule.id, null, WHO, NOW)]) {
      const before = await readOriginVersion(env.DB);
      expect(await write()).not.toHaveProperty("error");
      expect(await readOriginVersion(env.DB)).toBe(before + 1);
    }
  });
});

describe("expiring a rule", () => {
  it("ends a rule that had no expiry, or a later one, at the instant of the write", async () => {
    for (const expiresAt of [undefined, NOW + 86_400_000]) {
      const rule = await createRule(env.DB, block({ cli: { exact: "77272501234" } }, { expiresAt }), WHO, NOW - 1_000);
      expect(await expireRule(env.DB, rule.id, null, WHO, NOW)).toMatchObject({ rule: { expiresAt: NOW } });
    }
  });

  it("keeps an earlier expiry", async () => {
    const rule = await createRule(env.DB, block({ cli: { exact: "77272501234" } }, { expiresAt: NOW + 60_000 }), WHO, NOW - 1_000);
    expect(await expireRule(env.DB, rule.id, null, WHO, NOW + 120_000)).toMatchObject({ rule: { expiresAt: NOW + 60_000 } });
  });
});

describe("a write to a rule that is not there, or that another writer changed first", () => {
  it("answers ERR_NOT_FOUND for a replacement, an expiry or a deletion of an unknown id", async () => {
    const unknown = crypto.randomUUID();
    expect(await replaceRule(env.DB, unknown, block({ cli: { exact: "77272501234" } }), null, WHO, NOW)).toEqual({ error: "ERR_NOT_FOUND" });
    expect(await expireRule(env.DB, unknown, null, WHO, NOW)).toEqual({ error: "ERR_NOT_FOUND" });
    expect(await deleteRule(env.DB, unknown, null, WHO, NOW)).toEqual({ error: "ERR_NOT_FOUND" });
  });

  it("of two replacements read at one version, the second is refused with the rule as the first left it", async () => {
    const rule = await createRule(env.DB, block({ cli: { exact: "77272501234" } }), WHO, NOW);
    const outcomes = await Promise.all(["first", "second"].map((reason) => replaceRule(env.DB, rule.id, block({ cli: { exact: "77272501234" } }, { reason }), rule.version, WHO, NOW)));
    const applied = outcomes.filter((outcome) => "rule" in outcome);
    expect(applied).toHaveLength(1);
    expect(outcomes.filter((outcome) => "error" in outcome)).toEqual([{ error: "ERR_VERSION_CONFLICT", current: (await getRule(env.DB, rule.id))! }]);
  });
});

describe("the rules on a number a keyed index hit", () => {
  it("are none for a number that has no key", async () => {
    await createRule(env.DB, block({ cli: { exact: "77272501234" } }), WHO, NOW);
    expect(await readKeyedRules(env.DB, "cli", "+7 727 250 1234")).toEqual([]);
    expect((await readKeyedRules(env.DB, "cli", "77272501234")).map((rule) => rule.criteria)).toEqual([{ cli: { exact: "77272501234" } }]);
  });
});
