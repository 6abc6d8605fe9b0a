import { LRUCache } from "lru-cache";
import type { Clock } from "../../lib/clock";
import { recordRoamingLookupTimeout } from "../../metrics/record";
import { observationTrouble } from "./observation-age";

/**
 * Roaming status as cli-spoofing.md §3 defines the pluggable lookup:
 * `lookup(cli, time, hints) → {status, visitedCountry?, observedAt, source, error?}`.
 */
export type RoamingStatus = "roaming" | "home" | "not-mobile" | "unknown";

export interface RoamingAnswer {
  status: RoamingStatus;
  /** Where the subscriber is registered (ISO 3166 alpha-2), when roaming and the source says. */
  visitedCountry?: string;
  /** Every country the source names when it names more than one (CAMARA: an MCC shared by several), `visitedCountry` first. */
  visitedCountries?: string[];
  /** The visited network's mobile country code (ITU-T E.212), when roaming and the source gives it (CAMARA `countryCode`). */
  visitedMcc?: string;
  /** When the source observed this status (epoch ms); null when it did not say. */
  observedAt: number | null;
  /** Which implementation answered: `table`, `camara`, and `+cache` when served from the isolate cache. */
  source: string;
  error?: string;
}

export interface RoamingHints {
  ingressCarrier: string | null;
  ingressCountry: string | null;
  /** Set by the time budget (withTimeBudget) and aborted when it runs out; implementations stop their I/O. */
  signal?: AbortSignal;
}

export interface RoamingLookup {
  /** `tn` is canonical (digits, no `+`); `atMs` the instant the call is being decided. */
  lookup(tn: string, atMs: number, hints: RoamingHints): Promise<RoamingAnswer>;
}

export const unknownRoaming = (source: string, error: string): RoamingAnswer => ({ status: "unknown", observedAt: null, source, error });

/** Waits `ms` unless `signal` aborts first; injectable so tests decide when a budget runs out. */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

export const timerSleep: Sleep = (ms, signal) =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });

/**
 * Bounds a lookup to the call's time budget: when the budget runs out the lookup is aborted and the
 * answer is `unknown` (issue 4: timeout or error → unknown → the configured action). A failing
 * implementation also answers `unknown`, never an exception on the verdict path.
 */
export function withTimeBudget(inner: RoamingLookup, source: string, budgetMs: number, sleep: Sleep = timerSleep): RoamingLookup {
  return {
    async lookup(tn, atMs, hints) {
      const abort = new AbortController();
      const budgetOver = sleep(budgetMs, abort.signal).then(() => {
        // The sleep also ends when the answer came first (abort below); only a real timeout is counted.
        if (!abort.signal.aborted) recordRoamingLookupTimeout(source);
        return unknownRoaming(source, `no answer within the ${budgetMs} ms budget`);
      });
      const answered = inner.lookup(tn, atMs, { ...hints, signal: abort.signal }).catch((error: unknown) => unknownRoaming(source, error instanceof Error ? error.message : String(error)));
      try {
        return await Promise.race([answered, budgetOver]);
      } finally {
        abort.abort();
      }
    },
  };
}

interface CachedAnswer {
  answer: RoamingAnswer;
  storedAtMs: number;
}

/** Per-isolate cache of definitive answers, by scope (roamingCacheScope) and number; `unknown` is not cached, so the next call asks again. */
const roamingCache = new LRUCache<string, CachedAnswer>({ max: 50_000 });

/**
 * This isolate's remembered answer for a number, when it is younger than `ttlMs`; read without waiting.
 * A roaming answer is served only while its observation (when the source did not say: when it was
 * asked) is young enough to allow a call (`maxObservationAgeMs`); past that the source is asked again.
 */
export function cachedRoamingAnswer(scope: string, tn: string, ttlMs: number, clock: Clock, maxObservationAgeMs: number | null): RoamingAnswer | null {
  const cached = roamingCache.get(`${scope}:${tn}`);
  if (!cached) return null;
  const { answer, storedAtMs } = cached;
  const nowMs = clock.now();
  if (nowMs - storedAtMs >= ttlMs) return null;
  if (answer.status === "roaming" && observationTrouble(answer.observedAt ?? storedAtMs, nowMs, maxObservationAgeMs) !== null) return null;
  return { ...answer, source: `${answer.source}+cache` };
}

export function withIsolateCache(inner: RoamingLookup, scope: string, ttlMs: number, clock: Clock, maxObservationAgeMs: number | null): RoamingLookup {
  return {
    async lookup(tn, atMs, hints) {
      const cached = cachedRoamingAnswer(scope, tn, ttlMs, clock, maxObservationAgeMs);
      if (cached) return cached;
      const answer = await inner.lookup(tn, atMs, hints);
      if (answer.status !== "unknown" && ttlMs > 0) roamingCache.set(`${scope}:${tn}`, { answer, storedAtMs: clock.now() });
      return answer;
    },
  };
}

/** After an operator edits the roaming table, this isolate answers from the table again at once. */
export function forgetCachedRoamingStatus(tn: string): void {
  for (const key of roamingCache.keys()) if (key.endsWith(`:${tn}`)) roamingCache.delete(key);
}
