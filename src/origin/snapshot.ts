import { compileHomeNumberingPlan, type HomeNumberingPlan } from "../numbering/home-plan";
import { buildPatternIndex, type PatternIndex } from "../numbering/pattern-index";
import type { Clock } from "../lib/clock";
import { compileRuleMatcher, type RuleMatcher } from "../rules/matcher";
import type { Rule } from "../rules/rule";
import { loadActiveRules } from "../rules/store";
import type { AllowListEntry } from "./config/allow-list";
import type { OperatorConfig } from "./config/sections";
import { loadOperatorConfig } from "./config/store";
import { compileIngressMap, type IngressMap } from "./ingress";
import { compilePolicy, type PolicyTable } from "./policy";

/**
 * Everything the origin checks read, compiled once per change: the verdict path never queries D1 for
 * configuration or rules (issue 4 "Operator rules").
 */
export interface OriginSnapshot {
  version: number;
  config: OperatorConfig;
  numbering: HomeNumberingPlan;
  ingress: IngressMap;
  allowList: PatternIndex<AllowListEntry>;
  policy: PolicyTable;
  rules: RuleMatcher;
}

export function compileOriginSnapshot(version: number, homeCountry: string, config: OperatorConfig, rules: Rule[]): OriginSnapshot {
  return {
    version,
    config,
    numbering: compileHomeNumberingPlan(homeCountry, config.numbering),
    ingress: compileIngressMap(config.ingress),
    allowList: buildPatternIndex(config["allow-list"].entries.map((entry) => ({ pattern: entry.cli, value: entry }))),
    policy: compilePolicy(config.policy),
    rules: compileRuleMatcher(rules),
  };
}

export async function readOriginVersion(db: D1Database): Promise<number> {
  return (await db.prepare("SELECT version FROM origin_version WHERE id = 1").first<number>("version")) ?? 0;
}

/** Rules already expired at `atMs` (the deciding clock's now) are left out; the matcher checks expiry again per call. */
export async function loadOriginSnapshot(db: D1Database, homeCountry: string, atMs: number): Promise<OriginSnapshot> {
  // Read the version first: a change landing during the load is then seen as newer on the next check.
  const version = await readOriginVersion(db);
  const [config, rules] = await Promise.all([loadOperatorConfig(db, homeCountry), loadActiveRules(db, atMs)]);
  return compileOriginSnapshot(version, homeCountry, config, rules);
}

/**
 * Keeps one compiled snapshot per isolate. The first call loads (and waits); afterwards the version
 * row is read at most every `refreshIntervalMs`, in the background (waitUntil), and the snapshot is
 * reloaded when it moved — so a change made anywhere is in force everywhere within the interval plus
 * one reload (5 s default, inside the 10 s issue 4 allows). A write made through this isolate's admin
 * API marks the snapshot stale, so the very next call here sees it.
 */
export interface SnapshotCache {
  current(db: D1Database, waitUntil: (promise: Promise<unknown>) => void, atMs: number): Promise<OriginSnapshot>;
  /** What `current` answers when no reload is needed, synchronously; null when the caller must wait for a load. */
  ready(db: D1Database, waitUntil: (promise: Promise<unknown>) => void, atMs: number): OriginSnapshot | null;
  markStale(): void;
  /** The last snapshot loaded, whatever its age: what a verdict falls back on when D1 is slow or down. */
  last(): OriginSnapshot | null;
}

export const DEFAULT_REFRESH_INTERVAL_MS = 5_000;

export function createSnapshotCache(homeCountry: string, clock: Clock, refreshIntervalMs = DEFAULT_REFRESH_INTERVAL_MS): SnapshotCache {
  let snapshot: OriginSnapshot | null = null;
  let stale = true;
  let loading: Promise<OriginSnapshot> | null = null;
  let checking = false;
  let lastCheckedMs = 0;

  const reload = (db: D1Database, atMs: number) => {
    loading ??= loadOriginSnapshot(db, homeCountry, atMs)
      .then((loaded) => {
        snapshot = loaded;
        return loaded;
      })
      .finally(() => {
        loading = null;
      });
    return loading;
  };

  const refreshIfMoved = async (db: D1Database, atMs: number) => {
    try {
      if ((await readOriginVersion(db)) !== snapshot?.version) await reload(db, atMs);
    } catch (error) {
      // Keep serving the last good snapshot; the next interval tries again.
      console.error("origin snapshot refresh failed", error);
    } finally {
      checking = false;
    }
  };

  /** The loaded snapshot, without waiting, when it needs no reload; starts the interval's version check. */
  const ready = (db: D1Database, waitUntil: (promise: Promise<unknown>) => void, atMs: number): OriginSnapshot | null => {
    if (stale || !snapshot) return null;
    if (!checking && clock.now() - lastCheckedMs >= refreshIntervalMs) {
      checking = true;
      lastCheckedMs = clock.now();
      waitUntil(refreshIfMoved(db, atMs));
    }
    return snapshot;
  };

  return {
    ready,
    async current(db, waitUntil, atMs) {
      const loaded = ready(db, waitUntil, atMs);
      if (loaded) return loaded;
      stale = false;
      lastCheckedMs = clock.now();
      return reload(db, atMs);
    },
    markStale() {
      stale = true;
    },
    last: () => snapshot,
  };
}

const isolateCaches = new Map<string, SnapshotCache>();

/** The snapshot cache of this isolate (one per home country, in practice one). */
export function isolateSnapshotCache(homeCountry: string, clock: Clock): SnapshotCache {
  let cache = isolateCaches.get(homeCountry);
  if (!cache) isolateCaches.set(homeCountry, (cache = createSnapshotCache(homeCountry, clock)));
  return cache;
}

/** Called after every admin write handled by this isolate. */
export function markIsolateSnapshotsStale(): void {
  for (const cache of isolateCaches.values()) cache.markStale();
}
