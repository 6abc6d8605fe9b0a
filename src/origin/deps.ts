import { LRUCache } from "lru-cache";
import { systemClock, type Clock } from "../lib/clock";
import { incrementCounter } from "../metrics/isolate-counters";
import { matchRules, type KeyedRuleReader, type RuleSet } from "../rules/matcher";
import type { Rule } from "../rules/rule";
import { readKeyedRules } from "../rules/store";
import { Deadline, DEFAULT_VERDICT_BUDGET_MS } from "../verdict/deadline";
import type { OriginDeps } from "./assess";
import { defaultOperatorConfig } from "./config/sections";
import { CAMARA_SOURCE, createCamaraRoamingLookup } from "./roaming/camara-lookup";
import { cachedRoamingAnswer, timerSleep, unknownRoaming, withIsolateCache, withTimeBudget, type RoamingLookup, type Sleep } from "./roaming/lookup";
import { camaraAllowedHosts, camaraHostRefusal, maxObservationAgeMsOf, roamingCacheScope, type CamaraEnv, type RoamingSettings } from "./roaming/settings";
import { createTableRoamingLookup } from "./roaming/table-lookup";
import { isolateSnapshotCache, type OriginSnapshot, type SnapshotCache, type SnapshotCacheOptions } from "./snapshot";

/** The bindings the origin stage reads; satisfied by the generated `Env` (wrangler types). */
export interface OriginEnv extends CamaraEnv {
  DB: D1Database;
  /** The last good configuration and compiled rule base, for fresh isolates (src/origin/saved-snapshot.ts). */
  ORIGIN_SNAPSHOTS: KVNamespace;
  /** ISO 3166 alpha-2; default KZ. */
  HOME_COUNTRY?: string;
  /** Secret: bearer token for the CAMARA Device Roaming Status API. */
  CAMARA_TOKEN?: string;
}

export const DEFAULT_HOME_COUNTRY = "KZ";
export const homeCountryOf = (env: Pick<OriginEnv, "HOME_COUNTRY">) => env.HOME_COUNTRY?.trim().toUpperCase() || DEFAULT_HOME_COUNTRY;

export interface RoamingSourceDeps {
  db: D1Database;
  camaraToken: string | undefined;
  /** CAMARA_ALLOWED_HOSTS: where the token may go, whatever the stored settings say. */
  camaraAllowedHosts: readonly string[];
  clock: Clock;
  fetch?: typeof fetch;
  sleep?: Sleep;
}

/** The configured roaming source, bounded by its per-call budget, behind the per-isolate cache. */
export function roamingLookupFor(settings: RoamingSettings, deps: RoamingSourceDeps): RoamingLookup {
  const source = settings.source === "camara" && settings.camaraBaseUrl ? camaraLookupFor(settings.camaraBaseUrl, settings, deps) : createTableRoamingLookup(deps.db);
  const bounded = withTimeBudget(source, settings.source, settings.budgetMs, deps.sleep ?? timerSleep);
  return withIsolateCache(bounded, roamingCacheScope(settings), settings.cacheTtlSeconds * 1000, deps.clock, maxObservationAgeMsOf(settings));
}

/** A snapshot cache's settings in production: the wall clock, and its background timeouts counted in `shaken_background_timeouts_total`. */
export const originSnapshotOptions = (env: Pick<OriginEnv, "HOME_COUNTRY">): SnapshotCacheOptions => ({
  homeCountry: homeCountryOf(env),
  clock: systemClock,
  onTimeout: (task) => incrementCounter("shaken_background_timeouts_total", { task }),
});

/** The snapshot cache of this isolate. */
export const isolateOriginSnapshots = (env: Pick<OriginEnv, "HOME_COUNTRY">): SnapshotCache => isolateSnapshotCache(originSnapshotOptions(env));

/** Keyed-index hits read from D1, per rule set: a number hit again is answered from here until the rules change. */
const keyedReads = new WeakMap<RuleSet, LRUCache<string, Rule[]>>();
const KEYED_READS_KEPT = 10_000;

/** Reads a keyed-index hit's rules from D1 within the verdict's deadline, once per number and rule set; null when D1 gives no answer in time. */
function keyedReader(rules: RuleSet, db: D1Database, deadline: Deadline): KeyedRuleReader {
  let cache = keyedReads.get(rules);
  if (!cache) keyedReads.set(rules, (cache = new LRUCache({ max: KEYED_READS_KEPT })));
  const reads = cache;
  return async (criterion, tn) => {
    const key = `${criterion}:${tn}`;
    const read = async () => {
      const current = await readKeyedRules(db, criterion, tn);
      reads.set(key, current);
      return current;
    };
    return reads.get(key) ?? deadline.within("rules", read, () => null);
  };
}

/**
 * The CAMARA client, or, when settings stored earlier name a host the deployment does not allow (any
 * longer), a source that never sends the token and answers unknown.
 */
function camaraLookupFor(baseUrl: string, settings: RoamingSettings, deps: RoamingSourceDeps): RoamingLookup {
  const refusal = camaraHostRefusal(settings, deps.camaraAllowedHosts);
  if (refusal) return { lookup: async () => unknownRoaming(CAMARA_SOURCE, refusal) };
  return createCamaraRoamingLookup({ baseUrl, token: deps.camaraToken, fetch: deps.fetch });
}

/**
 * What the verdict pipeline passes to `assessOrigin` in production. The snapshot cache keeps the
 * system clock for its refresh schedule; `clock` (injectable) is the one decisions are made with.
 * Every dependency is held to the verdict's deadline (issue 5): when D1 is slow or down the checks
 * run on the last compiled snapshot, or in a fresh isolate on the copy saved in KV, and `store.rules`
 * says so; with neither, the origin checks are skipped and `store.rules` carries the dependency
 * policy (issue 22 item 4). A rule on an exact number is read from D1 only when the call hits one,
 * once per number and rule version. A roaming lookup still running when the budget is spent answers
 * unknown — the `origin.roaming:unknown` policy entry — and `deadline.roaming` says so.
 */
export function originDepsFromEnv(
  env: OriginEnv,
  snapshots: SnapshotCache,
  waitUntil: (promise: Promise<unknown>) => void,
  clock: Clock = systemClock,
  // Stand-alone callers (tests, tools) get the default budget; the verdict passes its own deadline.
  deadline: Deadline = new Deadline(DEFAULT_VERDICT_BUDGET_MS, waitUntil),
): OriginDeps {
  const stores = { db: env.DB, saved: env.ORIGIN_SNAPSHOTS };
  let served: OriginSnapshot | null = null;
  const load = async () => {
    // What this isolate already holds (the loaded snapshot, a remembered roaming answer) is answered
    // without racing the verdict's deadline: no timer is armed for a value that is already here.
    const snapshot = snapshots.ready(stores, waitUntil, clock.now()) ?? (await deadline.within("rules", () => snapshots.current(stores, waitUntil, clock.now()), () => snapshots.last()));
    if (snapshot === null) deadline.report({ dependency: "rules", problem: "error", detail: "no operator configuration: D1 gave none to this isolate yet and no copy is saved" });
    else if (snapshot.degraded !== null) deadline.report({ dependency: "rules", problem: "error", detail: snapshot.degraded, evidence: { savedVersion: snapshot.version } });
    served = snapshot;
    return snapshot;
  };
  // One snapshot per verdict: its assessments (the caller ID's, From's, one after a replay) run at once,
  // and right after a write the second took the snapshot the write replaced while the first reloaded.
  let loaded: Promise<OriginSnapshot | null> | null = null;
  return {
    clock,
    snapshot: () => (loaded ??= load()),
    // While the saved copy applies, D1 is not asked for a keyed hit's rules: the hit is enforced as the index remembers it.
    operatorRules: (rules, subject) => matchRules(rules, subject, served?.degraded ? async () => null : keyedReader(rules, env.DB, deadline)),
    roamingLookup(settings) {
      const lookup = roamingLookupFor(settings, { db: env.DB, camaraToken: env.CAMARA_TOKEN, camaraAllowedHosts: camaraAllowedHosts(env), clock });
      return {
        lookup: async (tn, atMs, hints) =>
          cachedRoamingAnswer(roamingCacheScope(settings), tn, settings.cacheTtlSeconds * 1000, clock, maxObservationAgeMsOf(settings)) ??
          deadline.within("roaming", () => lookup.lookup(tn, atMs, hints), (trouble) => unknownRoaming(settings.source, trouble.detail)),
      };
    },
  };
}
