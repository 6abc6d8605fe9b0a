import { compileHomeNumberingPlan, type HomeNumberingPlan } from "../numbering/home-plan";
import { patternInPlan } from "../numbering/number-pattern";
import { buildPatternIndex, type PatternIndex } from "../numbering/pattern-index";
import { diallingPlanFor } from "../numbers/telephone-number";
import type { Clock } from "../lib/clock";
import { TimeoutError, withTimeout } from "../lib/timeout";
import { composeRuleSet, NO_CHANGES, type RuleBase, type RuleChanges, type RuleSet } from "../rules/matcher";
import { loadRuleBase, loadRuleChanges, type StoreWait } from "../rules/store";
import { describeError, type BackgroundTasks } from "../verdict/deadline";
import type { AllowListEntry } from "./config/allow-list";
import type { OperatorConfig } from "./config/sections";
import { loadOperatorConfig } from "./config/store";
import { compileIngressMap, type IngressMap } from "./ingress";
import { compilePolicy, type PolicyTable } from "./policy";
import { readSavedConfig, readSavedRuleBase, saveConfig, savedRuleBaseVersion, saveRuleBase, type SavedConfig } from "./saved-snapshot";

/**
 * Everything the origin checks read, compiled once per change: the verdict path never queries D1 for
 * configuration, and reads D1 for a rule only when a call hits an exact-number rule (issue 4
 * "Operator rules", issue 22 item 7).
 */
export interface OriginSnapshot {
  version: number;
  config: OperatorConfig;
  numbering: HomeNumberingPlan;
  ingress: IngressMap;
  allowList: PatternIndex<AllowListEntry>;
  policy: PolicyTable;
  /** The operator's rules; null when neither the store nor a saved copy could give them. */
  rules: RuleSet | null;
  /** Why this is the saved copy rather than what the store holds now; null when it is what the store holds. */
  degraded: string | null;
}

export function compileOriginSnapshot(version: number, homeCountry: string, config: OperatorConfig, rules: RuleSet | null, degraded: string | null = null): OriginSnapshot {
  return {
    version,
    config,
    numbering: compileHomeNumberingPlan(homeCountry, config.numbering),
    ingress: compileIngressMap(config.ingress),
    allowList: buildPatternIndex(config["allow-list"].entries.map((entry) => ({ pattern: patternInPlan(entry.cli, diallingPlanFor(homeCountry)), value: entry }))),
    policy: compilePolicy(config.policy),
    rules,
    degraded,
  };
}

export async function readOriginVersion(db: D1Database): Promise<number> {
  return (await db.prepare("SELECT version FROM origin_version WHERE id = 1").first<number>("version")) ?? 0;
}

/** Where a snapshot is read from: D1, and the copies saved in KV for fresh isolates. */
export interface SnapshotStores {
  db: D1Database;
  saved: KVNamespace;
}

/** Reads the configuration as it is now and saves it for fresh isolates; an admin write that changes it calls this. */
export async function saveConfigCopy(stores: SnapshotStores, homeCountry: string, savedAt: number): Promise<void> {
  const version = await readOriginVersion(stores.db);
  await saveConfig(stores.saved, { version, homeCountry, savedAt, config: await loadOperatorConfig(stores.db, homeCountry) });
}

interface SavedCopy {
  config: SavedConfig;
  base: RuleBase | null;
}

/** One reload: where it reads, what it read first, and how it waits. */
interface Load {
  stores: SnapshotStores;
  version: number;
  config: OperatorConfig;
  atMs: number;
  wait: StoreWait;
  background: BackgroundTasks;
}

/** The background waits a snapshot cache makes, as the timeout metric labels them. */
export type SnapshotTask = "snapshot-reload" | "snapshot-version-check";

/** Rule changes since the base at which one isolate compiles and saves a new base for all. */
const CHANGES_BEFORE_NEW_BASE = 1_000;
/** Past this many changes since its base an isolate does not read them: a newer base answers better. */
const MOST_CHANGES_READ = 50_000;
/** How long the isolate that won the right to compile a new base holds it (migrations/0012). */
const BASE_BUILD_LEASE_MS = 120_000;
export const DEFAULT_REFRESH_INTERVAL_MS = 5_000;
/** The longest one background wait on a store (a query, a page, a KV read) may take before its reload or check gives up. */
export const DEFAULT_STORE_WAIT_MS = 10_000;

/**
 * Keeps one compiled snapshot per isolate. The first call loads (and waits); afterwards the version
 * row is read at most every `refreshIntervalMs`, in the background (waitUntil), and the snapshot is
 * reloaded when it moved — so a change made anywhere is in force everywhere within the interval plus
 * one reload (5 s default, inside the 10 s issue 4 allows). A write made through this isolate's admin
 * API marks the snapshot stale, so the very next call here sees it.
 *
 * A reload reads the configuration and only the rules changed since the compiled base; the base is
 * compiled again (page by page, while verdicts keep the previous snapshot) once the changes grow past
 * CHANGES_BEFORE_NEW_BASE, by the one isolate that wins the lease, which saves it for the others.
 * A fresh isolate starts from the saved base and configuration (src/origin/saved-snapshot.ts), and when
 * D1 does not answer it serves them, marked degraded, instead of nothing.
 *
 * Every wait on a store is raced against `storeWaitMs` (withTimeout): a call that never returns fails
 * its reload or check, which frees the slot for the next one, and is counted (`onTimeout`).
 */
export interface SnapshotCache {
  current(stores: SnapshotStores, background: BackgroundTasks, atMs: number): Promise<OriginSnapshot>;
  /** What `current` answers when no reload is needed (or, while a fresh isolate's first load runs, the saved copy), synchronously; null when the caller must wait for a load. */
  ready(stores: SnapshotStores, background: BackgroundTasks, atMs: number): OriginSnapshot | null;
  markStale(): void;
  /** What a verdict falls back on when the load is slow or failed: the last snapshot loaded, else the saved copy a load already read; null when there is neither. */
  last(): OriginSnapshot | null;
}

export interface SnapshotCacheOptions {
  homeCountry: string;
  /** The refresh schedule's clock (wall time), not the decisions'. */
  clock: Clock;
  refreshIntervalMs?: number;
  storeWaitMs?: number;
  onTimeout?: (task: SnapshotTask) => void;
}

export function createSnapshotCache(options: SnapshotCacheOptions): SnapshotCache {
  const { homeCountry, clock, refreshIntervalMs = DEFAULT_REFRESH_INTERVAL_MS, storeWaitMs = DEFAULT_STORE_WAIT_MS, onTimeout = () => {} } = options;
  let snapshot: OriginSnapshot | null = null;
  /** The saved copy a fresh isolate's first load read, until that load ends. */
  let provisional: OriginSnapshot | null = null;
  let stale = true;
  let loading: Promise<OriginSnapshot> | null = null;
  let checking = false;
  let lastCheckedMs = 0;

  const waitFor =
    (task: SnapshotTask): StoreWait =>
    (pending) =>
      withTimeout(pending, storeWaitMs, task);
  /** A task that failed because one of its waits ran out of time is counted once. */
  const countIfTimedOut = (task: SnapshotTask, error: unknown) => {
    if (error instanceof TimeoutError) onTimeout(task);
  };

  const readSavedCopy = async (saved: KVNamespace, wait: StoreWait): Promise<SavedCopy | null> => {
    const [config, base] = await Promise.all([readSavedConfig(saved, homeCountry, wait), readSavedRuleBase(saved, wait).catch(() => null)]);
    return config ? { config, base } : null;
  };

  /** The saved copy as a snapshot, saying why it applies instead of what D1 holds. */
  const fromSavedCopy = ({ config, base }: SavedCopy, why: string): OriginSnapshot => {
    const held = base ? `the configuration saved at version ${config.version} and the rules saved at version ${base.version} apply` : `the configuration saved at version ${config.version} applies, and no saved rules`;
    return compileOriginSnapshot(config.version, homeCountry, config.config, base ? composeRuleSet(base, NO_CHANGES) : null, `${why}: ${held}`);
  };

  /** The rule base to build on and the changes since it: the one held, a newer saved one, or one compiled now. */
  const loadRules = async (load: Load, base: RuleBase | null): Promise<RuleSet> => {
    const { stores, wait } = load;
    if (!base) {
      // A fresh isolate with nothing saved compiles for itself; the lease decides which one saves.
      return compileBase(load, await tryBaseBuildLease(stores.db, clock.now(), wait));
    }
    const changes = await loadRuleChanges(stores.db, base.version, MOST_CHANGES_READ, wait);
    if (changes && changeCount(changes) < CHANGES_BEFORE_NEW_BASE) return composeRuleSet(base, changes);
    const savedVersion = await savedRuleBaseVersion(stores.saved, wait).catch(() => null);
    if (savedVersion !== null && savedVersion > base.version) {
      const newer = await readSavedRuleBase(stores.saved, wait).catch(() => null);
      const newerChanges = newer && (await loadRuleChanges(stores.db, newer.version, MOST_CHANGES_READ, wait));
      if (newer && newerChanges) return composeRuleSet(newer, newerChanges);
    }
    const lease = await tryBaseBuildLease(stores.db, clock.now(), wait);
    if (lease) return compileBase(load, lease);
    if (changes) return composeRuleSet(base, changes);
    throw new Error(`more than ${MOST_CHANGES_READ} rule changes since base version ${base.version}, and another isolate is compiling the next base`);
  };

  /** Compiles a base from D1; with the lease, saves it (and the configuration it goes with) for the other isolates. */
  const compileBase = async ({ stores, version, config, atMs, wait, background }: Load, lease: BaseBuildLease | null): Promise<RuleSet> => {
    const base = await loadRuleBase(stores.db, version, atMs, wait);
    if (lease) {
      const savedAt = clock.now();
      background(
        Promise.all([saveRuleBase(stores.saved, base, savedAt), saveConfig(stores.saved, { version, homeCountry, savedAt, config })])
          .then(() => wait(releaseBaseBuildLease(stores.db, lease)))
          .catch((error: unknown) => console.error(JSON.stringify({ level: "error", event: "origin-snapshot-save-failed", error: String(error) }))),
      );
    }
    // What changed while the pages were read (stamped after `version`).
    return composeRuleSet(base, (await loadRuleChanges(stores.db, base.version, MOST_CHANGES_READ, wait)) ?? NO_CHANGES);
  };

  const load = async (stores: SnapshotStores, background: BackgroundTasks, atMs: number): Promise<OriginSnapshot> => {
    const wait = waitFor("snapshot-reload");
    // A fresh isolate reads the saved copy alongside D1: its base saves compiling one, and it is what applies if D1 does not answer.
    const saved = snapshot
      ? null
      : readSavedCopy(stores.saved, wait).then(
          (copy) => {
            if (copy) provisional = fromSavedCopy(copy, "D1 has not answered yet");
            return copy;
          },
          () => null,
        );
    try {
      const [version, config] = await Promise.all([wait(readOriginVersion(stores.db)), wait(loadOperatorConfig(stores.db, homeCountry))]);
      const base = snapshot?.rules?.base ?? (await saved)?.base ?? null;
      return compileOriginSnapshot(version, homeCountry, config, await loadRules({ stores, version, config, atMs, wait, background }, base));
    } catch (error) {
      countIfTimedOut("snapshot-reload", error);
      // An isolate that loaded before keeps what it loaded; a fresh one serves the saved copy, saying why.
      const copy = snapshot ? null : await saved;
      if (!copy) throw error;
      return fromSavedCopy(copy, `D1 could not be read (${describeError(error)})`);
    }
  };

  const reload = (stores: SnapshotStores, background: BackgroundTasks, atMs: number) => {
    loading ??= load(stores, background, atMs)
      .then((loaded) => {
        snapshot = loaded;
        return loaded;
      })
      .finally(() => {
        loading = null;
        provisional = null;
      });
    return loading;
  };

  const refreshIfMoved = async (stores: SnapshotStores, background: BackgroundTasks, atMs: number) => {
    try {
      const version = await waitFor("snapshot-version-check")(readOriginVersion(stores.db)).catch((error: unknown) => {
        countIfTimedOut("snapshot-version-check", error);
        throw error;
      });
      // A degraded snapshot is the saved copy: D1 answering again is reason enough to load what it holds.
      if (version !== snapshot?.version || snapshot.degraded !== null) await reload(stores, background, atMs);
    } catch (error) {
      // Keep serving the last good snapshot; the next interval tries again.
      console.error("origin snapshot refresh failed", error);
    } finally {
      checking = false;
    }
  };

  const ready: SnapshotCache["ready"] = (stores, background, atMs) => {
    // A fresh isolate whose first load is still reading serves the saved copy meanwhile, without waiting again.
    if (!snapshot) return loading ? provisional : null;
    if (stale) return null;
    if (!checking && clock.now() - lastCheckedMs >= refreshIntervalMs) {
      checking = true;
      lastCheckedMs = clock.now();
      background(refreshIfMoved(stores, background, atMs));
    }
    return snapshot;
  };

  return {
    ready,
    async current(stores, background, atMs) {
      const loaded = ready(stores, background, atMs);
      if (loaded) return loaded;
      stale = false;
      lastCheckedMs = clock.now();
      return reload(stores, background, atMs);
    },
    markStale() {
      stale = true;
    },
    last: () => snapshot ?? provisional,
  };
}

const changeCount = (changes: RuleChanges) => changes.rules.length + changes.removedIds.length;

/**
 * One isolate at a time compiles the next base: the lease of migrations/0012, taken when free or
 * expired (an isolate evicted while compiling holds it no longer than BASE_BUILD_LEASE_MS), and freed
 * once the base is saved.
 */
async function tryBaseBuildLease(db: D1Database, nowMs: number, wait: StoreWait): Promise<BaseBuildLease | null> {
  const until = nowMs + BASE_BUILD_LEASE_MS;
  const taken = await wait(db.prepare("UPDATE origin_version SET base_build_until = ?1 WHERE id = 1 AND base_build_until < ?2").bind(until, nowMs).run());
  return taken.meta.changes === 1 ? { until } : null;
}

/** Frees the lease if it is still this isolate's. */
async function releaseBaseBuildLease(db: D1Database, lease: BaseBuildLease): Promise<void> {
  await db.prepare("UPDATE origin_version SET base_build_until = 0 WHERE id = 1 AND base_build_until = ?1").bind(lease.until).run();
}

interface BaseBuildLease {
  until: number;
}

const isolateCaches = new Map<string, SnapshotCache>();

/** The snapshot cache of this isolate (one per home country, in practice one). */
export function isolateSnapshotCache(options: SnapshotCacheOptions): SnapshotCache {
  let cache = isolateCaches.get(options.homeCountry);
  if (!cache) isolateCaches.set(options.homeCountry, (cache = createSnapshotCache(options)));
  return cache;
}

/** Called after every admin write handled by this isolate. */
export function markIsolateSnapshotsStale(): void {
  for (const cache of isolateCaches.values()) cache.markStale();
}
