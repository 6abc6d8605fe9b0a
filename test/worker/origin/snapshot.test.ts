import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { systemClock } from "../../../src/lib/clock";
import { TimeoutError } from "../../../src/lib/timeout";
import { createSnapshotCache, isolateSnapshotCache, markIsolateSnapshotsStale, readOriginVersion, type SnapshotCacheOptions, type SnapshotStores, type SnapshotTask } from "../../../src/origin/snapshot";
import { defaultOperatorConfig } from "../../../src/origin/config/sections";
import { readSavedConfig, readSavedRuleBase, saveConfig, savedRuleBaseVersion } from "../../../src/origin/saved-snapshot";
import { RuleBaseEncodingError } from "../../../src/rules/base-encoding";
import { numberKey, ruleIdHash } from "../../../src/rules/keyed-index";
import type { RuleSubject } from "../../../src/rules/matcher";
import type { RuleInput } from "../../../src/rules/rule";
import { createRule, importRules } from "../../../src/rules/store";
import { switchableD1 } from "../support/d1-faults";
import { encodeFormat2Base } from "../support/format-2-rule-base";

const NOW = Date.parse("2026-11-27T12:00:00Z");
const block = (cli: string): RuleInput => ({ criteria: { cli: { exact: cli } }, action: "block", reason: "reported" });
/** 1 000 exact-number rules from `first` on, imported and published at once: past what an isolate reads as changes. */
const thousandChanges = (first = 77_272_700_000) =>
  importRules(env.DB, crypto.randomUUID(), Array.from({ length: 1_000 }, (_, position) => ({ position, input: block(String(first + position)) })), { actor: "analyst", author: null }, NOW, true);
const subject = (cli: string): RuleSubject => ({ cli, destination: null, trunk: null, carriers: [], name: null, atMs: NOW });
const direct = <T>(pending: Promise<T>) => pending;

beforeEach(async () => {
  await env.DB.batch([env.DB.prepare("DELETE FROM rules"), env.DB.prepare("DELETE FROM rule_tombstones"), env.DB.prepare("UPDATE origin_version SET base_build_until = 0")]);
  for (const { name } of (await env.ORIGIN_SNAPSHOTS.list({ prefix: "origin/" })).keys) await env.ORIGIN_SNAPSHOTS.delete(name);
});

afterEach(() => vi.restoreAllMocks());

/** A fresh isolate's snapshot cache, with its background work collected for the test to wait on, and its timeouts counted. */
function freshIsolate(db: D1Database = env.DB, options: Partial<SnapshotCacheOptions> = {}) {
  const timeouts: SnapshotTask[] = [];
  const pending: Promise<unknown>[] = [];
  const cache = createSnapshotCache({ homeCountry: "KZ", clock: systemClock, onTimeout: (task) => timeouts.push(task), ...options });
  const stores: SnapshotStores = { db, saved: env.ORIGIN_SNAPSHOTS };
  const background = (promise: Promise<unknown>) => void pending.push(promise);
  return {
    cache,
    timeouts,
    load: () => cache.current(stores, background, NOW),
    settle: async () => {
      while (pending.length > 0) await pending.shift();
    },
    background,
    stores,
  };
}

describe("a change is read as a change: a rule added to many costs a reload one row", () => {
  it("keeps the compiled base and reads the rules changed since it", async () => {
    await importRules(env.DB, crypto.randomUUID(), [0, 1, 2].map((position) => ({ position, input: block(`7727250000${position}`) })), { actor: "analyst", author: null }, NOW, true);
    const isolate = freshIsolate();
    const first = await isolate.load();
    expect(first.rules!.base.keyed.cli.size).toBe(3);

    const added = await createRule(env.DB, block("77272509999"), { actor: "analyst", author: null }, NOW);
    isolate.cache.markStale();
    const second = await isolate.load();
    expect(second.version).toBe(await readOriginVersion(env.DB));
    expect(second.rules!.base).toBe(first.rules!.base);
    expect(second.rules!.changes.rules.map((rule) => rule.id)).toEqual([added.id]);
    expect(second.rules!.candidates(subject("77272509999")).rules.map((rule) => rule.id)).toEqual([added.id]);
  });

  it("past 1 000 changes, the isolate that takes the lease compiles a new base and saves it for the others", async () => {
    const isolate = freshIsolate();
    const first = await isolate.load();
    await isolate.settle();
    await thousandChanges(77_272_600_000);
    isolate.cache.markStale();
    const second = await isolate.load();
    await isolate.settle();
    expect(second.rules!.base).not.toBe(first.rules!.base);
    expect(second.rules!.base.keyed.cli.size).toBe(1_000);
    expect(second.rules!.changes.rules).toEqual([]);
    expect(await savedRuleBaseVersion(env.ORIGIN_SNAPSHOTS, direct)).toBe(second.rules!.base.version);
  });
});

describe("past 1 000 changes, one isolate compiles the next base (the lease of migrations/0012)", () => {
  const leaseUntil = () => env.DB.prepare("SELECT base_build_until FROM origin_version WHERE id = 1").first<number>("base_build_until");
  const holdLease = (until: number) => env.DB.prepare("UPDATE origin_version SET base_build_until = ?1 WHERE id = 1").bind(until).run();

  it("the isolate that compiled and saved a base frees the lease, and saves the configuration it read with it", async () => {
    const isolate = freshIsolate();
    const first = await isolate.load();
    await isolate.settle();
    expect(await leaseUntil()).toBe(0);
    expect(await savedRuleBaseVersion(env.ORIGIN_SNAPSHOTS, direct)).toBe(first.rules!.base.version);
    expect(await readSavedConfig(env.ORIGIN_SNAPSHOTS, "KZ", direct)).toMatchObject({ version: first.version, homeCountry: "KZ", config: first.config });
  });

  it("an isolate that does not get the lease keeps its base and reads the changes since it, and saves nothing", async () => {
    const isolate = freshIsolate();
    const first = await isolate.load();
    await isolate.settle();
    await thousandChanges();
    const held = Date.now() + 60_000;
    await holdLease(held);
    isolate.cache.markStale();
    const second = await isolate.load();
    await isolate.settle();
    expect(second.rules!.base).toBe(first.rules!.base);
    expect(second.rules!.changes.rules).toHaveLength(1_000);
    expect(await leaseUntil()).toBe(held);
    expect(await savedRuleBaseVersion(env.ORIGIN_SNAPSHOTS, direct)).toBe(first.rules!.base.version);
  });

  it("a lease past its time is taken: an isolate evicted while compiling holds it no longer", async () => {
    const isolate = freshIsolate();
    const first = await isolate.load();
    await isolate.settle();
    await thousandChanges();
    await holdLease(Date.now() - 1);
    isolate.cache.markStale();
    const second = await isolate.load();
    await isolate.settle();
    expect(second.rules!.base).not.toBe(first.rules!.base);
    expect(second.rules!.changes.rules).toEqual([]);
    expect(await leaseUntil()).toBe(0);
  });

  it("a newer saved base that cannot be read (replaced while read) is passed over: the isolate compiles its own", async () => {
    const isolate = freshIsolate();
    const first = await isolate.load();
    await isolate.settle();
    await thousandChanges();
    // The pointer names a newer base whose part is gone.
    await env.ORIGIN_SNAPSHOTS.put("origin/rule-base", JSON.stringify({ format: 1, version: 1_000_000, parts: 1, bytes: 8, savedAt: NOW }));
    isolate.cache.markStale();
    const second = await isolate.load();
    await isolate.settle();
    expect(second.rules!.base).not.toBe(first.rules!.base);
    expect(second.rules!.base.keyed.cli.size).toBe(1_000);
    expect(second.rules!.changes.rules).toEqual([]);
  });

  it("an isolate adopts the newer base another isolate saved rather than compiling one", async () => {
    const behind = freshIsolate();
    const first = await behind.load();
    await behind.settle();
    await thousandChanges();
    const ahead = freshIsolate();
    const compiled = await ahead.load();
    await ahead.settle();
    expect(compiled.rules!.base.version).toBeGreaterThan(first.rules!.base.version);

    const watched = switchableD1(env.DB);
    const adopting = freshIsolate(watched.db);
    // The isolate that is behind, reading through the watched binding from now on.
    behind.cache.markStale();
    const second = await behind.cache.current(adopting.stores, adopting.background, NOW);
    await adopting.settle();
    expect(second.rules!.base.version).toBe(compiled.rules!.base.version);
    expect(second.rules!.changes.rules).toEqual([]);
    expect(watched.queries.filter((sql) => /ORDER BY cli_key|base_build_until = \?1 WHERE id = 1 AND/.test(sql))).toEqual([]);
  });
});

describe("a fresh isolate starts from the saved base", () => {
  it("loads the base saved by another isolate instead of paging the rules out of D1", async () => {
    await importRules(env.DB, crypto.randomUUID(), [0, 1].map((position) => ({ position, input: block(`7727250000${position}`) })), { actor: "analyst", author: null }, NOW, true);
    await createRule(env.DB, { criteria: { cli: { prefix: "7717" } }, action: "tag", reason: "campaign" }, { actor: "analyst", author: null }, NOW);
    const saver = freshIsolate();
    await saver.load();
    await saver.settle();

    const watched = switchableD1(env.DB);
    const fresh = await freshIsolate(watched.db).load();
    expect(fresh.degraded).toBeNull();
    expect(fresh.rules!.size).toBe(3);
    expect(watched.queries.filter((sql) => /ORDER BY id LIMIT|ORDER BY cli_key/.test(sql))).toEqual([]);
  });
});

describe("a base saved in an older format", () => {
  it("is refused: a fresh isolate compiles the rules from D1 and saves a base of the current format over it", async () => {
    const rule = await createRule(env.DB, block("77272501234"), { actor: "analyst", author: null }, NOW);
    const version = await readOriginVersion(env.DB);
    // Format 2, as the isolates saved it before the index kept rules' id hashes, under the same pointer format.
    const old = encodeFormat2Base(version, [[numberKey("77272501234")!, null, 3]]);
    await env.ORIGIN_SNAPSHOTS.put(`origin/rule-base/${version}/0`, old);
    await env.ORIGIN_SNAPSHOTS.put("origin/rule-base", JSON.stringify({ format: 1, version, parts: 1, bytes: old.length, savedAt: NOW }));
    await saveConfig(env.ORIGIN_SNAPSHOTS, { version, homeCountry: "KZ", savedAt: NOW, config: defaultOperatorConfig("KZ") });
    await expect(readSavedRuleBase(env.ORIGIN_SNAPSHOTS, direct)).rejects.toBeInstanceOf(RuleBaseEncodingError);

    const watched = switchableD1(env.DB);
    const isolate = freshIsolate(watched.db);
    const fresh = await isolate.load();
    await isolate.settle();
    const remembered = [{ action: "block", mode: "enforce", expiresAt: null, idHash: ruleIdHash(rule.id) }];
    expect(fresh.degraded).toBeNull();
    expect(watched.queries.filter((sql) => /ORDER BY cli_key/.test(sql))).toHaveLength(1);
    expect(fresh.rules!.base.keyed.cli.activeHeads("77272501234", NOW)).toEqual(remembered);
    expect((await readSavedRuleBase(env.ORIGIN_SNAPSHOTS, direct))!.keyed.cli.activeHeads("77272501234", NOW)).toEqual(remembered);
  });
});

/** An isolate over a D1 that can be switched up, down or hanging, its first load done. */
async function loadedIsolate(options: Parameters<typeof freshIsolate>[1]) {
  const store = switchableD1(env.DB);
  const isolate = freshIsolate(store.db, options);
  await isolate.load();
  await isolate.settle();
  return { store, isolate };
}

describe("a store call that never returns cannot freeze the snapshot (issue 22 item 5)", () => {
  it("a hung reload fails after its bound, is counted, frees its slot, and a rule added later is enforced", async () => {
    const { store, isolate } = await loadedIsolate({ storeWaitMs: 50 });

    store.set("hanging");
    isolate.cache.markStale();
    await expect(isolate.load()).rejects.toBeInstanceOf(TimeoutError);
    expect(isolate.timeouts).toContain("snapshot-reload");

    store.set("up");
    const added = await createRule(env.DB, block("77272508888"), { actor: "analyst", author: null }, NOW);
    isolate.cache.markStale();
    const recovered = await isolate.load();
    expect(recovered.rules!.candidates(subject("77272508888")).rules.map((rule) => rule.id)).toEqual([added.id]);
  });

  it("a hung version check is counted and frees the next interval's check", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const { store, isolate } = await loadedIsolate({ storeWaitMs: 50, refreshIntervalMs: 0 });
    store.set("hanging");
    expect(isolate.cache.ready(isolate.stores, isolate.background, NOW)).not.toBeNull(); // starts the background check
    await isolate.settle();
    expect(isolate.timeouts).toEqual(["snapshot-version-check"]);
    expect(String(logged.mock.calls[0]?.[1])).toContain("snapshot-version-check did not settle within 50 ms");

    store.set("up");
    const added = await createRule(env.DB, block("77272507777"), { actor: "analyst", author: null }, NOW);
    isolate.cache.ready(isolate.stores, isolate.background, NOW);
    await isolate.settle();
    const moved = isolate.cache.ready(isolate.stores, isolate.background, NOW)!;
    expect(moved.rules!.candidates(subject("77272507777")).rules.map((rule) => rule.id)).toEqual([added.id]);
  });
});

describe("the version check's schedule", () => {
  it("reads the version row once the refresh interval has passed since the last check, not before", async () => {
    const watched = switchableD1(env.DB);
    let nowMs = NOW;
    const isolate = freshIsolate(watched.db, { clock: { now: () => nowMs }, refreshIntervalMs: 5_000 });
    await isolate.load();
    await isolate.settle();
    const versionReads = () => watched.queries.filter((sql) => sql.startsWith("SELECT version FROM origin_version")).length;
    const loaded = versionReads();
    nowMs += 4_999;
    expect(isolate.cache.ready(isolate.stores, isolate.background, nowMs)).not.toBeNull();
    await isolate.settle();
    expect(versionReads()).toBe(loaded);
    nowMs += 1;
    expect(isolate.cache.ready(isolate.stores, isolate.background, nowMs)).not.toBeNull();
    await isolate.settle();
    expect(versionReads()).toBe(loaded + 1);
  });
});

describe("this isolate's snapshot caches", () => {
  it("are one per home country, each marked stale by an admin write handled here", async () => {
    const options = { homeCountry: "KZ", clock: systemClock };
    const kz = isolateSnapshotCache(options);
    expect(isolateSnapshotCache({ ...options })).toBe(kz);
    expect(isolateSnapshotCache({ ...options, homeCountry: "UZ" })).not.toBe(kz);
    const stores = { db: env.DB, saved: env.ORIGIN_SNAPSHOTS };
    await kz.current(stores, () => {}, NOW);
    expect(kz.ready(stores, () => {}, NOW)).not.toBeNull();
    markIsolateSnapshotsStale();
    expect(kz.ready(stores, () => {}, NOW)).toBeNull();
  });
});

describe("a reload that fails", () => {
  it("with D1's error, not a timeout, is not counted as one", async () => {
    const { store, isolate } = await loadedIsolate({ storeWaitMs: 5_000 });
    store.set("down");
    isolate.cache.markStale();
    await expect(isolate.load()).rejects.toThrow(/D1_ERROR/);
    expect(isolate.timeouts).toEqual([]);
  });

  it("in a fresh isolate while D1 is down applies the saved configuration, though the saved base is of an older format, without saved rules", async () => {
    const version = await readOriginVersion(env.DB);
    const old = encodeFormat2Base(version, []);
    await env.ORIGIN_SNAPSHOTS.put(`origin/rule-base/${version}/0`, old);
    await env.ORIGIN_SNAPSHOTS.put("origin/rule-base", JSON.stringify({ format: 1, version, parts: 1, bytes: old.length, savedAt: NOW }));
    await saveConfig(env.ORIGIN_SNAPSHOTS, { version, homeCountry: "KZ", savedAt: NOW, config: defaultOperatorConfig("KZ") });
    const store = switchableD1(env.DB);
    store.set("down");
    const fresh = await freshIsolate(store.db).load();
    expect(fresh.rules).toBeNull();
    expect(fresh.degraded).toContain(`the configuration saved at version ${version} applies, and no saved rules`);
  });
});
