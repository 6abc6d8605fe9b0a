import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { loadOperatorConfig } from "../../../src/origin/config/store";
import { readSavedConfig, readSavedRuleBase, saveConfig, savedRuleBaseVersion, saveRuleBase } from "../../../src/origin/saved-snapshot";
import { ruleBaseOf } from "../../../src/rules/matcher";

/**
 * The copies saved in KV for fresh isolates (src/origin/saved-snapshot.ts) are written by two writers
 * that can cross: an isolate that compiled a base saves it and the configuration it read, in the
 * background; an admin write saves the configuration it made. The older may land last.
 */
const wait = <T>(promise: Promise<T>) => promise;

beforeEach(async () => {
  for (const { name } of (await env.ORIGIN_SNAPSHOTS.list({ prefix: "origin/" })).keys) await env.ORIGIN_SNAPSHOTS.delete(name);
});

describe("a saved copy is never replaced by an older one", () => {
  it("keeps the configuration of the later version when the earlier one is saved after it", async () => {
    const config = await loadOperatorConfig(env.DB, "KZ");
    await saveConfig(env.ORIGIN_SNAPSHOTS, { version: 5, homeCountry: "KZ", savedAt: 2, config });
    await saveConfig(env.ORIGIN_SNAPSHOTS, { version: 3, homeCountry: "KZ", savedAt: 3, config });
    expect(await readSavedConfig(env.ORIGIN_SNAPSHOTS, "KZ", wait)).toMatchObject({ version: 5, savedAt: 2 });
    await saveConfig(env.ORIGIN_SNAPSHOTS, { version: 6, homeCountry: "KZ", savedAt: 4, config });
    expect(await readSavedConfig(env.ORIGIN_SNAPSHOTS, "KZ", wait)).toMatchObject({ version: 6 });
  });

  it("keeps the rule base of the later version, and leaves none of the earlier one's parts behind", async () => {
    await saveRuleBase(env.ORIGIN_SNAPSHOTS, ruleBaseOf(9, []), 1);
    await saveRuleBase(env.ORIGIN_SNAPSHOTS, ruleBaseOf(4, []), 2);
    expect(await savedRuleBaseVersion(env.ORIGIN_SNAPSHOTS, wait)).toBe(9);
    expect((await readSavedRuleBase(env.ORIGIN_SNAPSHOTS, wait))?.version).toBe(9);
    const keys = (await env.ORIGIN_SNAPSHOTS.list({ prefix: "origin/rule-base/" })).keys.map(({ name }) => name);
    expect(keys).toEqual(["origin/rule-base/9/0"]);
  });
});

describe("a copy saved before a configuration section existed", () => {
  it("loads, the new section at its default, and a section that no longer validates still refuses the copy", async () => {
    const { attestation: _, ...older } = await loadOperatorConfig(env.DB, "KZ");
    await saveConfig(env.ORIGIN_SNAPSHOTS, { version: 7, homeCountry: "KZ", savedAt: 1, config: older as never });
    expect(await readSavedConfig(env.ORIGIN_SNAPSHOTS, "KZ", wait)).toMatchObject({ version: 7, config: { attestation: { vouching: [] }, roaming: { source: "table" } } });

    await saveConfig(env.ORIGIN_SNAPSHOTS, { version: 8, homeCountry: "KZ", savedAt: 2, config: { ...older, roaming: { source: "pigeon" } } as never });
    expect(await readSavedConfig(env.ORIGIN_SNAPSHOTS, "KZ", wait)).toBeNull();
  });
});
