import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../../../src/app";
import { systemClock } from "../../../src/lib/clock";
import { createSnapshotCache, readOriginVersion } from "../../../src/origin/snapshot";
import type { RuleInput } from "../../../src/rules/rule";
import { createRule, importRules, loadRuleBase, loadRuleChanges, readKeyedRules, replaceRule } from "../../../src/rules/store";
import { checkOf, verdictVia } from "../abuse/support";
import { switchableD1 } from "../support/d1-faults";
import { CALLEE } from "../support/stir";

/**
 * A rule is published when its changed_version is at most the origin version: an import's batches
 * without `publish` stamp their rows with the version they would bump to, and move nothing. Until the
 * version moves, no isolate enforces them — not a fresh compile, not the changes since a base, not a
 * keyed-index hit reading the number's rows — where before a fresh isolate enforced them, an isolate
 * holding a base did not, and a hit on the same number did.
 */

const NOW = Date.parse("2026-11-27T12:00:00Z");
const WHO = { actor: "analyst", author: null };
const direct = <T>(pending: Promise<T>) => pending;
const block = (criteria: RuleInput["criteria"], extra: Partial<RuleInput> = {}): RuleInput => ({ criteria, action: "block", reason: "reported", ...extra });
const unsigned = (cli: string) => ({ from: `<sip:+${cli}@carrier.example>`, to: `<sip:+${CALLEE}@operator.example>`, ingress: { trunk: "domestic-1", carrier: "DomesticCo", international: false } });
/** An import's batch that does not publish: what a client that died before its last batch leaves. */
const importUnpublished = (inputs: RuleInput[]) =>
  importRules(env.DB, crypto.randomUUID(), inputs.map((input, position) => ({ position, input })), WHO, NOW, false);
/** An isolate of its own (its own snapshot cache), that checks the origin version on every call. */
const freshIsolate = () => createApp({ sharedCache: null, snapshots: createSnapshotCache({ homeCountry: "KZ", clock: systemClock, refreshIntervalMs: 0 }) });

beforeEach(async () => {
  await env.DB.batch([env.DB.prepare("DELETE FROM rules"), env.DB.prepare("DELETE FROM rule_tombstones")]);
  // A fresh isolate compiles its base from D1, not from the copy an earlier test's isolate saved.
  await env.ORIGIN_SNAPSHOTS.delete("origin/rule-base");
});

describe("a base compiled at a version holds only the rules published at it", () => {
  it("leaves out an unpublished import's exact-number rules (the keyed index) and its other rules (held whole)", async () => {
    await createRule(env.DB, block({ cli: { exact: "77272507001" } }), WHO, NOW);
    await createRule(env.DB, block({ cli: { prefix: "7727250701" } }), WHO, NOW);
    await importUnpublished([block({ cli: { exact: "77272507002" } }), block({ destination: { exact: "77272507003" } }), block({ cli: { prefix: "7727250702" } })]);
    const base = await loadRuleBase(env.DB, await readOriginVersion(env.DB), NOW, direct);
    expect(base.keyed.cli.size).toBe(1);
    expect(base.keyed.cli.activeHeads("77272507002", NOW)).toEqual([]);
    expect(base.keyed.destination.size).toBe(0);
    expect(base.wholeRules.map((rule) => rule.criteria)).toEqual([{ cli: { prefix: "7727250701" } }]);
  });
});

describe("the changes since a base are the rules published since", () => {
  it("leave out an unpublished import, and take it once the version moves", async () => {
    const since = await readOriginVersion(env.DB);
    const { ids } = await importUnpublished([block({ cli: { exact: "77272507011" } })]);
    expect(await loadRuleChanges(env.DB, since, 100, direct)).toEqual({ rules: [], removedIds: [] });
    await createRule(env.DB, block({ trunk: "intl-1" }), WHO, NOW);
    expect((await loadRuleChanges(env.DB, since, 100, direct))!.rules.map((rule) => rule.id)).toContain(ids[0]);
  });
});

describe("a keyed-index hit reads the published rules on the number", () => {
  it("does not read an unpublished import's rule on the same number", async () => {
    const published = await createRule(env.DB, block({ cli: { exact: "77272507021" } }, { action: "tag" }), WHO, NOW);
    await importUnpublished([block({ cli: { exact: "77272507021" } })]);
    expect((await readKeyedRules(env.DB, "cli", "77272507021")).map((rule) => rule.id)).toEqual([published.id]);
  });
});

describe("a verdict enforces no unpublished rule, in a fresh isolate or in one that holds its rules", () => {
  it("a fresh isolate's compile does not block on an unpublished import; the version moving does", async () => {
    await importUnpublished([block({ cli: { exact: "77272507031" } }), block({ cli: { prefix: "7727250704" } })]);
    const app = freshIsolate();
    expect(await verdictVia(app, unsigned("77272507031"))).toMatchObject({ action: "allow" });
    expect(await verdictVia(app, unsigned("77272507045"))).toMatchObject({ action: "allow" });
    await createRule(env.DB, block({ trunk: "intl-1" }), WHO, NOW);
    await verdictVia(app, unsigned("77272507031")); // its version check loads the change
    expect(await verdictVia(app, unsigned("77272507031"))).toMatchObject({ action: "block", decidedBy: "rules.operator" });
    expect(await verdictVia(app, unsigned("77272507045"))).toMatchObject({ action: "block", decidedBy: "rules.operator" });
  });

  it("an isolate whose keyed index hits a published rule does not enforce an unpublished one on the same number", async () => {
    const tag = await createRule(env.DB, block({ cli: { exact: "77272507051" } }, { action: "tag", label: "reported" }), WHO, NOW);
    const app = freshIsolate();
    await verdictVia(app, unsigned("77272507061")); // compiles its base, holding the tag in its keyed index
    await importUnpublished([block({ cli: { exact: "77272507051" } })]);
    const verdict = await verdictVia(app, unsigned("77272507051"));
    expect(verdict.action).toBe("tag");
    expect((checkOf(verdict, "rules.operator")!.evidence!.rules as { id: string }[]).map((rule) => rule.id)).toEqual([tag.id]);
  });
});

describe("what a published rule does is unchanged", () => {
  // A keyed hit reads the rules on the number as they are now: a rule rewritten after this isolate's
  // snapshot (published, at a later version) is enforced as rewritten, not dropped until the next reload.
  it("an exact-number rule rewritten after the isolate loaded is enforced as rewritten on its next hit", async () => {
    const cli = "77272507071";
    const rule = await createRule(env.DB, block({ cli: { exact: cli } }, { reason: "first report" }), WHO, NOW);
    const app = createApp({ sharedCache: null, snapshots: createSnapshotCache({ homeCountry: "KZ", clock: systemClock, refreshIntervalMs: 3_600_000 }) });
    await verdictVia(app, unsigned("77272507072")); // loads, holding the rule in its keyed index
    await replaceRule(env.DB, rule.id, block({ cli: { exact: cli } }, { reason: "second report" }), 1, WHO, NOW);
    const verdict = await verdictVia(app, unsigned(cli));
    expect(verdict).toMatchObject({ action: "block", decidedBy: "rules.operator" });
    expect(checkOf(verdict, "rules.operator")!.evidence).toMatchObject({ rules: [{ id: rule.id, reason: "second report" }] });
  });
});

describe("the rule queries keep their indexes (migrations 0012, 0015)", () => {
  it("pages, changes and keyed reads each search an index rather than scan the rules", async () => {
    const watched = switchableD1(env.DB);
    await createRule(env.DB, block({ cli: { exact: "77272507081" } }), WHO, NOW);
    await loadRuleBase(watched.db, await readOriginVersion(env.DB), NOW, direct);
    await loadRuleChanges(watched.db, 0, 10, direct);
    await readKeyedRules(watched.db, "cli", "77272507081");
    const ruleQueries = [...new Set(watched.queries)].filter((sql) => /\bFROM rules\b/.test(sql));
    expect(ruleQueries).toHaveLength(5);
    for (const sql of ruleQueries) {
      const parameters = Math.max(0, ...[...sql.matchAll(/\?(\d+)/g)].map((match) => Number(match[1])));
      const plan = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`).bind(...Array.from({ length: parameters }, () => 0)).all<{ detail: string }>();
      const rulesSteps = plan.results.map(({ detail }) => detail).filter((detail) => /\brules\b/.test(detail));
      expect(rulesSteps.length, sql).toBeGreaterThan(0);
      for (const detail of rulesSteps) expect(detail, sql).toMatch(/^SEARCH rules USING (COVERING )?INDEX rules_(held_whole|cli_key|destination_key|changed)\b/);
    }
  });
});
