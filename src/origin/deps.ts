import { systemClock, type Clock } from "../lib/clock";
import { Deadline, DEFAULT_VERDICT_BUDGET_MS } from "../verdict/deadline";
import type { OriginDeps } from "./assess";
import { defaultOperatorConfig } from "./config/sections";
import { CAMARA_SOURCE, createCamaraRoamingLookup } from "./roaming/camara-lookup";
import { cachedRoamingAnswer, timerSleep, unknownRoaming, withIsolateCache, withTimeBudget, type RoamingLookup, type Sleep } from "./roaming/lookup";
import { camaraAllowedHosts, camaraHostRefusal, type CamaraEnv, type RoamingSettings } from "./roaming/settings";
import { createTableRoamingLookup } from "./roaming/table-lookup";
import { compileOriginSnapshot, isolateSnapshotCache } from "./snapshot";

/** The bindings the origin stage reads; satisfied by the generated `Env` (wrangler types). */
export interface OriginEnv extends CamaraEnv {
  DB: D1Database;
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
  return withIsolateCache(bounded, settings.source, settings.cacheTtlSeconds * 1000, deps.clock);
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
 * Both dependencies are held to the verdict's deadline (issue 5): when D1 is slow or down the checks
 * run on the last compiled snapshot (the defaults, with no rules, if this isolate never loaded one)
 * and `store.rules` says so; a roaming lookup still running when the budget is spent answers
 * unknown — the `origin.roaming:unknown` policy entry — and `deadline.roaming` says so.
 */
export function originDepsFromEnv(
  env: OriginEnv,
  waitUntil: (promise: Promise<unknown>) => void,
  clock: Clock = systemClock,
  // Stand-alone callers (tests, tools) get the default budget; the verdict passes its own deadline.
  deadline: Deadline = new Deadline(DEFAULT_VERDICT_BUDGET_MS, waitUntil),
): OriginDeps {
  const homeCountry = homeCountryOf(env);
  const snapshots = isolateSnapshotCache(homeCountry, systemClock);
  return {
    clock,
    // What this isolate already holds (the loaded snapshot, a remembered roaming answer) is answered
    // without racing the verdict's deadline: no timer is armed for a value that is already here.
    snapshot: async () =>
      snapshots.ready(env.DB, waitUntil, clock.now()) ??
      deadline.within("rules", () => snapshots.current(env.DB, waitUntil, clock.now()), () => snapshots.last() ?? compileOriginSnapshot(0, homeCountry, defaultOperatorConfig(homeCountry), [])),
    roamingLookup(settings) {
      const lookup = roamingLookupFor(settings, { db: env.DB, camaraToken: env.CAMARA_TOKEN, camaraAllowedHosts: camaraAllowedHosts(env), clock });
      return {
        lookup: async (tn, atMs, hints) =>
          cachedRoamingAnswer(settings.source, tn, settings.cacheTtlSeconds * 1000, clock) ??
          deadline.within("roaming", () => lookup.lookup(tn, atMs, hints), (trouble) => unknownRoaming(settings.source, trouble.detail)),
      };
    },
  };
}
