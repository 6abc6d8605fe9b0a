import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { listAudit } from "../../../src/admin/audit-log";
import { readOriginVersion } from "../../../src/origin/snapshot";
import { ruleIdHash } from "../../../src/rules/keyed-index";
import { composeRuleSet, matchRules, UNREAD_RULE_ID, type RuleSubject } from "../../../src/rules/matcher";
import type { RuleInput } from "../../../src/rules/rule";
import { createRule, deleteRule, getRule, importRules, loadRuleBase, loadRuleChanges, readKeyedRules, replaceRule } from "../../../src/rules/store";

const NOW = Date.parse("2026-11-27T12:00:00Z");
const direct = <T>(pending: Promise<T>) => pending;
const subject = (overrides: Partial<RuleSubject> = {}): RuleSubject => ({ cli: null, destination: null, trunk: null, carriers: [], name: null, atMs: NOW, ...overrides });
const block = (criteria: RuleInput["criteria"], extra: Partial<RuleInput> = {}): RuleInput => ({ criteria, action: "block", reason: "reported", ...extra });

beforeEach(async () => {
  await env.DB.batch([env.DB.prepare("DELETE FROM rules"), env.DB.prepare("DELETE FROM rule_tombstones")]);
});

/** Imports `inputs` in batches of the endpoint's size, publishing with the last. */
async function importAll(inputs: RuleInput[], importId = crypto.randomUUID()) {
  for (let start = 0; start < inputs.length; start += 1_000) {
    const batch = inputs.slice(start, start + 1_000).map((input, index) => ({ position: start + index, input }));
    await importRules(env.DB, importId, batch, { actor: "analyst", author: null }, NOW, start + 1_000 >= inputs.length);
  }
}

describe("a rule base compiled from D1, page by page", () => {
  // More rules than one page holds, of each kind (5 000 keyed, 500 whole).
  it("keeps exact-number rules in the keyed indexes and every other rule whole, across many pages, leaving out the expired", async () => {
    const callers = Array.from({ length: 12_000 }, (_, index) => String(77_270_000_000 + index * 3));
    await importAll([
      ...callers.map((cli) => block({ cli: { exact: cli } })),
      ...Array.from({ length: 300 }, (_, index) => block({ destination: { exact: String(77_010_000_000 + index) } }, { action: "tag", mode: "monitor" })),
      ...Array.from({ length: 1_200 }, (_, index) => block({ cli: { prefix: String(7_717_000 + index) } })),
      block({ cli: { exact: "77272599999" }, trunk: "intl-1" }),
      block({ cli: { exact: "77272588888" } }, { expiresAt: NOW + 1 }),
    ]);
    const version = await readOriginVersion(env.DB);
    const base = await loadRuleBase(env.DB, version, NOW + 1, direct);
    expect(base.version).toBe(version);
    expect(base.keyed.cli.size).toBe(12_000);
    expect(base.keyed.destination.size).toBe(300);
    expect(base.whole.size).toBe(1_201);
    const [last] = await readKeyedRules(env.DB, "cli", callers[11_999]!);
    expect(base.keyed.cli.activeHeads(callers[11_999]!, NOW)).toEqual([{ action: "block", mode: "enforce", expiresAt: null, idHash: ruleIdHash(last!.id) }]);
    expect(base.keyed.cli.activeHeads("77270000001", NOW)).toEqual([]);
    const [monitored] = await readKeyedRules(env.DB, "destination", "77010000299");
    expect(base.keyed.destination.activeHeads("77010000299", NOW)).toEqual([{ action: "tag", mode: "monitor", expiresAt: null, idHash: ruleIdHash(monitored!.id) }]);
    expect(base.keyed.cli.activeHeads("77272588888", NOW)).toEqual([]);
    // An exact CLI with a trunk is held whole: the trunk must still be judged.
    expect(base.whole.matching(subject({ cli: "77272599999", trunk: "intl-1" }))).toHaveLength(1);
    expect(base.whole.matching(subject({ cli: "77171199999" }))).toHaveLength(1);
  }, 60_000);
});

describe("what changed since a base", () => {
  it("lists the rules written since its version, as they are now, and the rules deleted since", async () => {
    const kept = await createRule(env.DB, block({ cli: { prefix: "7727" } }), { actor: "analyst", author: null }, NOW);
    const changed = await createRule(env.DB, block({ cli: { exact: "77272501234" } }), { actor: "analyst", author: null }, NOW);
    const deleted = await createRule(env.DB, block({ trunk: "intl-1" }), { actor: "analyst", author: null }, NOW);
    const since = await readOriginVersion(env.DB);
    expect(await loadRuleChanges(env.DB, since, 100, direct)).toEqual({ rules: [], removedIds: [] });

    const added = await createRule(env.DB, block({ carrier: "TransitCo" }), { actor: "analyst", author: null }, NOW);
    await replaceRule(env.DB, changed.id, block({ cli: { exact: "77272501234" } }, { action: "tag" }), 1, { actor: "analyst", author: null }, NOW);
    await deleteRule(env.DB, deleted.id, null, { actor: "analyst", author: null }, NOW);
    const changes = await loadRuleChanges(env.DB, since, 100, direct);
    expect(changes!.rules.map(({ id, action }) => ({ id, action }))).toEqual([{ id: added.id, action: "block" }, { id: changed.id, action: "tag" }]);
    expect(changes!.removedIds).toEqual([deleted.id]);
    expect(changes!.rules.map((rule) => rule.id)).not.toContain(kept.id);
  });

  it("says there are too many to read rather than reading them all", async () => {
    const since = await readOriginVersion(env.DB);
    await importAll(Array.from({ length: 11 }, (_, index) => block({ cli: { exact: String(77_272_500_000 + index) } })));
    expect(await loadRuleChanges(env.DB, since, 10, direct)).toBeNull();
    expect((await loadRuleChanges(env.DB, since, 11, direct))!.rules).toHaveLength(11);
  });
});

describe("an exact-number rule deleted or rewritten since the base, while D1 cannot be read for the number", () => {
  it("is dropped from what the index remembers, by its id's hash; the rewritten is enforced as written, the unchanged as remembered", async () => {
    const who = { actor: "analyst", author: null };
    const onN = (extra: Partial<RuleInput> = {}) => block({ cli: { exact: "77272501234" } }, extra);
    const unblocked = await createRule(env.DB, onN(), who, NOW);
    const watched = await createRule(env.DB, onN(), who, NOW);
    const downgraded = await createRule(env.DB, onN(), who, NOW);
    await createRule(env.DB, onN({ action: "withhold" }), who, NOW);
    const base = await loadRuleBase(env.DB, await readOriginVersion(env.DB), NOW, direct);
    await deleteRule(env.DB, unblocked.id, null, who, NOW);
    await replaceRule(env.DB, watched.id, onN({ mode: "monitor" }), 1, who, NOW);
    await replaceRule(env.DB, downgraded.id, onN({ action: "tag" }), 1, who, NOW);
    const set = composeRuleSet(base, (await loadRuleChanges(env.DB, base.version, 100, direct))!);
    const matched = await matchRules(set, subject({ cli: "77272501234" }), async () => null);
    expect(matched.map(({ id, action, mode }) => ({ id, action, mode }))).toEqual([
      { id: watched.id, action: "block", mode: "monitor" },
      { id: downgraded.id, action: "tag", mode: "enforce" },
      { id: UNREAD_RULE_ID, action: "withhold", mode: "enforce" },
    ]);
  });
});

describe("a keyed-index hit reads that number's rules as they are now", () => {
  it("returns the exact-number rules on the number, and no rule with more criteria", async () => {
    const onNumber = await createRule(env.DB, block({ cli: { exact: "77272501234" } }), { actor: "analyst", author: null }, NOW);
    await createRule(env.DB, block({ cli: { exact: "77272501234" }, trunk: "intl-1" }), { actor: "analyst", author: null }, NOW);
    await createRule(env.DB, block({ destination: { exact: "77272501234" } }), { actor: "analyst", author: null }, NOW);
    expect((await readKeyedRules(env.DB, "cli", "77272501234")).map((rule) => rule.id)).toEqual([onNumber.id]);
    expect(await readKeyedRules(env.DB, "destination", "77272501234")).toHaveLength(1);
    expect(await readKeyedRules(env.DB, "cli", "77272501235")).toEqual([]);
  });
});

describe("an import moves the origin version once", () => {
  it("writes its batches unpublished, bumps the version with the last, and audits every rule", async () => {
    const before = await readOriginVersion(env.DB);
    const importId = crypto.randomUUID();
    const inputs = Array.from({ length: 2_500 }, (_, index) => block({ cli: { exact: String(77_272_500_000 + index) } }));
    await importAll(inputs, importId);
    expect(await readOriginVersion(env.DB)).toBe(before + 1);
    const { count } = (await env.DB.prepare("SELECT count(*) AS count FROM rules").first<{ count: number }>())!;
    expect(count).toBe(2_500);
    const audited = await env.DB.prepare("SELECT count(*) AS count FROM audit_log WHERE entity = 'rule' AND operation = 'create' AND at = ?").bind(NOW).first<{ count: number }>();
    expect(audited!.count).toBeGreaterThanOrEqual(2_500);
  });

  it("sending a batch again writes nothing twice: ids come from the import and the position", async () => {
    const importId = crypto.randomUUID();
    const batch = [0, 1, 2].map((position) => ({ position, input: block({ cli: { exact: String(77_272_600_000 + position) } }) }));
    const first = await importRules(env.DB, importId, batch, { actor: "analyst", author: null }, NOW, false);
    const auditBefore = (await listAudit(env.DB, { entity: "rule", limit: 1000 })).length;
    const again = await importRules(env.DB, importId, batch, { actor: "analyst", author: null }, NOW + 1_000, true);
    expect(first.created).toBe(3);
    expect(again).toEqual({ ids: first.ids, created: 0, publishedVersion: expect.any(Number) });
    expect((await listAudit(env.DB, { entity: "rule", limit: 1000 })).length).toBe(auditBefore);
    expect(first.ids.every((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id))).toBe(true);
    const stored = { id: first.ids[2], criteria: { cli: { exact: "77272600002" } }, action: "block", mode: "enforce", reason: "reported", label: null, author: "analyst", expiresAt: null, reportId: null, version: 1, createdAt: NOW };
    expect(await getRule(env.DB, first.ids[2]!)).toEqual({ ...stored, updatedAt: NOW });
    expect(await listAudit(env.DB, { entity: "rule", entityId: first.ids[2], limit: 10 })).toMatchObject([{ actor: "analyst", operation: "create", before: null, after: stored }]);
  });
});
