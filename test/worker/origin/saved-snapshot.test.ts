import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { loadOperatorConfig } from "../../../src/origin/config/store";
import { readSavedConfig, readSavedRuleBase, saveConfig, savedRuleBaseVersion, saveRuleBase } from "../../../src/origin/saved-snapshot";
import { encodeRuleBase } from "../../../src/rules/base-encoding";
import { ruleBaseOf } from "../../../src/rules/matcher";
import { ruleFixture } from "./support";

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

describe("a saved configuration applies only where it was saved for", () => {
  it("is not read by an isolate of another home country, nor in another format", async () => {
    const config = await loadOperatorConfig(env.DB, "KZ");
    await saveConfig(env.ORIGIN_SNAPSHOTS, { version: 5, homeCountry: "KZ", savedAt: 1, config });
    expect(await readSavedConfig(env.ORIGIN_SNAPSHOTS, "UZ", wait)).toBeNull();
    expect(await readSavedConfig(env.ORIGIN_SNAPSHOTS, "KZ", wait)).toMatchObject({ version: 5, homeCountry: "KZ" });
    await env.ORIGIN_SNAPSHOTS.put("origin/config", JSON.stringify({ format: 2, version: 5, homeCountry: "KZ", savedAt: 1, config }));
    expect(await readSavedConfig(env.ORIGIN_SNAPSHOTS, "KZ", wait)).toBeNull();
  });

  it("a record without its configuration, or its version, is no copy: not every section's default", async () => {
    const config = await loadOperatorConfig(env.DB, "KZ");
    for (const record of [{ format: 1, version: 5, homeCountry: "KZ", savedAt: 1 }, { format: 1, version: 5, homeCountry: "KZ", savedAt: 1, config: null }, { format: 1, version: 5, homeCountry: "KZ", savedAt: 1, config: [] }, { format: 1, homeCountry: "KZ", savedAt: 1, config }]) {
      await env.ORIGIN_SNAPSHOTS.put("origin/config", JSON.stringify(record));
      expect(await readSavedConfig(env.ORIGIN_SNAPSHOTS, "KZ", wait), JSON.stringify(record).slice(0, 80)).toBeNull();
    }
    await env.ORIGIN_SNAPSHOTS.put("origin/config", JSON.stringify({ format: 1, version: 5, homeCountry: "KZ", savedAt: 1, config }));
    expect(await readSavedConfig(env.ORIGIN_SNAPSHOTS, "KZ", wait)).toMatchObject({ version: 5 });
  });

  it("a copy in another format, however late its version, does not keep a save out", async () => {
    const config = await loadOperatorConfig(env.DB, "KZ");
    await env.ORIGIN_SNAPSHOTS.put("origin/config", JSON.stringify({ format: 2, version: 99, homeCountry: "KZ", savedAt: 1, config }));
    await saveConfig(env.ORIGIN_SNAPSHOTS, { version: 5, homeCountry: "KZ", savedAt: 2, config });
    expect(await readSavedConfig(env.ORIGIN_SNAPSHOTS, "KZ", wait)).toMatchObject({ version: 5, savedAt: 2 });
  });
});

describe("a saved rule base", () => {
  const partKeys = async () => (await env.ORIGIN_SNAPSHOTS.list({ prefix: "origin/rule-base/" })).keys.map(({ name }) => name);

  it("is none when nothing is saved", async () => {
    expect(await savedRuleBaseVersion(env.ORIGIN_SNAPSHOTS, wait)).toBeNull();
    expect(await readSavedRuleBase(env.ORIGIN_SNAPSHOTS, wait)).toBeNull();
  });

  it("past 16 MiB is saved in parts under KV's value limit, and read back whole", async () => {
    const reason = "x".repeat(17 * 1024 * 1024);
    await saveRuleBase(env.ORIGIN_SNAPSHOTS, ruleBaseOf(15, [ruleFixture({ criteria: { cli: { prefix: "7727" } }, reason })]), 1);
    expect(await partKeys()).toEqual(["origin/rule-base/15/0", "origin/rule-base/15/1"]);
    expect((await readSavedRuleBase(env.ORIGIN_SNAPSHOTS, wait))?.wholeRules.map((rule) => rule.reason.length)).toEqual([reason.length]);
  }, 30_000); // 17 MiB encoded, written to and read from the local KV: seconds on a busy two-core machine

  it("replaces an older one, whose parts are removed", async () => {
    await saveRuleBase(env.ORIGIN_SNAPSHOTS, ruleBaseOf(4, []), 1);
    await saveRuleBase(env.ORIGIN_SNAPSHOTS, ruleBaseOf(9, []), 2);
    expect(await savedRuleBaseVersion(env.ORIGIN_SNAPSHOTS, wait)).toBe(9);
    expect(await partKeys()).toEqual(["origin/rule-base/9/0"]);
  });

  it("is read back from its parts in order, and not at all when a part is missing or the pointer is of another format", async () => {
    const bytes = await encodeRuleBase(ruleBaseOf(12, [ruleFixture({ criteria: { cli: { prefix: "7727" } } })]));
    const cut = Math.floor(bytes.length / 2);
    await env.ORIGIN_SNAPSHOTS.put("origin/rule-base/12/0", bytes.subarray(0, cut));
    await env.ORIGIN_SNAPSHOTS.put("origin/rule-base/12/1", bytes.subarray(cut));
    await env.ORIGIN_SNAPSHOTS.put("origin/rule-base", JSON.stringify({ format: 1, version: 12, parts: 2, bytes: bytes.length, savedAt: 1 }));
    const read = await readSavedRuleBase(env.ORIGIN_SNAPSHOTS, wait);
    expect(read?.version).toBe(12);
    expect(read?.wholeRules.map((rule) => rule.criteria)).toEqual([{ cli: { prefix: "7727" } }]);

    await env.ORIGIN_SNAPSHOTS.delete("origin/rule-base/12/1");
    expect(await readSavedRuleBase(env.ORIGIN_SNAPSHOTS, wait)).toBeNull();
    await env.ORIGIN_SNAPSHOTS.put("origin/rule-base", JSON.stringify({ format: 2, version: 12, parts: 1, bytes: cut, savedAt: 1 }));
    expect(await readSavedRuleBase(env.ORIGIN_SNAPSHOTS, wait)).toBeNull();
    expect(await savedRuleBaseVersion(env.ORIGIN_SNAPSHOTS, wait)).toBeNull();
  });

  it("saved while a newer one is saved by another isolate takes its parts back and leaves the pointer to the newer", async () => {
    const newer = ruleBaseOf(9, []);
    // Another isolate saves base 9 while this one writes base 4's parts.
    const racing = new Proxy(env.ORIGIN_SNAPSHOTS, {
      get(target, property) {
        if (property !== "put") return Reflect.get(target, property).bind(target);
        return async (key: string, value: ArrayBuffer | string) => {
          await target.put(key, value);
          if (key === "origin/rule-base/4/0") await saveRuleBase(env.ORIGIN_SNAPSHOTS, newer, 2);
        };
      },
    });
    await saveRuleBase(racing, ruleBaseOf(4, []), 1);
    expect(await savedRuleBaseVersion(env.ORIGIN_SNAPSHOTS, wait)).toBe(9);
    expect(await partKeys()).toEqual(["origin/rule-base/9/0"]);
  });
});
