import { replayStoreFrom, type ReplayStore } from "./abuse/replay";
import { VelocityTracker, velocityStoreFrom } from "./abuse/velocity";
import { CachingCertificateSource, DEFAULT_MINIMUM_TTL_SECONDS } from "./certificate/certificate-source";
import type { Fetcher } from "./certificate/fetch-chain";
import { locationFetchBudget } from "./certificate/host-fetch-budget";
import { KvTrustSource, type TrustSource } from "./certificate/trust-store";
import { recordCacheReadTimeout, recordCacheWriteTimeout, recordCertificateCacheLookup, recordDependencyTrouble, recordX5uFetchRefused, timeX5uFetch } from "./metrics/record";
import { readVerifierConfig, type VerifierConfig } from "./config";
import { BackgroundWrites, type LocationCache } from "./lib/background-writes";
import { systemClock, type Clock } from "./lib/clock";
import { isolateOriginSnapshots } from "./origin/deps";
import type { SnapshotCache } from "./origin/snapshot";
import type { VerifierOptions } from "./verification/verify-identity";

/** What tests (and the benchmark) may replace: time and the network. Production uses the defaults. */
export interface RuntimeOverrides {
  clock?: Clock;
  fetcher?: Fetcher;
  /** Skip the Workers Cache API layer (tests that count repository fetches per isolate). */
  sharedCache?: Cache | null;
  /** Where the last good trust set is kept for isolates that start while KV is down (default: the Workers cache); null to keep none. */
  trustCache?: Cache | null;
  /** The origin snapshot cache: a fresh one is a fresh isolate's (tests of cold starts). */
  snapshots?: SnapshotCache;
}

/**
 * The long-lived parts of the verifier, built once per isolate and reused by every request:
 * configuration, the trust set, and the certificate caches.
 */
export interface Runtime {
  config: VerifierConfig;
  clock: Clock;
  trust: TrustSource;
  verifier: VerifierOptions;
  replay: ReplayStore;
  velocity: VelocityTracker;
  snapshots: SnapshotCache;
}

/** The Worker's runtime: its trust set and certificate source write to the Workers cache, and each request hands the writes still pending to its waitUntil. */
export interface WorkerRuntime extends Runtime {
  writes: BackgroundWrites;
}

/** The verifier's options from the configuration, with the clock, certificate source and trust set it runs on (the Worker's, or the CLI's replay). */
export const verifierOptionsFrom = (config: VerifierConfig, sources: Pick<VerifierOptions, "clock" | "certificates" | "trust">): VerifierOptions => ({
  ...sources,
  x5u: { allowInsecureLoopback: config.x5uAllowInsecureLoopback, allowedHosts: config.x5uAllowedHosts },
  freshnessSeconds: config.freshnessSeconds,
  futureSkewSeconds: config.futureSkewSeconds,
  crlMode: config.crlMode,
  strictProfile: config.strictProfile,
});

export function createRuntime(env: Env, overrides: RuntimeOverrides = {}): WorkerRuntime {
  const config = readVerifierConfig(env as unknown as Record<string, unknown>);
  const clock = overrides.clock ?? systemClock;
  const writes = new BackgroundWrites(config.backgroundTimeoutMs, recordCacheWriteTimeout);
  const locationCache = (cache: Cache | null): LocationCache | null => (cache ? { cache, writes, onReadTimeout: recordCacheReadTimeout } : null);
  const trust = new KvTrustSource(env.TRUST, clock, config.trustRefreshSeconds * 1000, locationCache(overrides.trustCache !== undefined ? overrides.trustCache : defaultSharedCache()));
  const limiter = (env as { X5U_FETCH_LIMITER?: RateLimit }).X5U_FETCH_LIMITER;
  const certificates = new CachingCertificateSource({
    fetcher: overrides.fetcher ?? ((request) => fetch(request)),
    limits: { timeoutMs: config.x5uFetchTimeoutMs, maxBytes: config.x5uMaxBytes },
    clock,
    sharedCache: locationCache(overrides.sharedCache !== undefined ? overrides.sharedCache : defaultSharedCache()),
    minimumTtlSeconds: DEFAULT_MINIMUM_TTL_SECONDS,
    observer: { cacheLookup: recordCertificateCacheLookup, timeFetch: timeX5uFetch, refused: recordX5uFetchRefused },
    failureTtlSeconds: config.x5uFailureCacheSeconds,
    hostFetchesPerSecond: config.x5uHostFetchesPerSecond,
    // A deployment without the binding has the isolate's budget alone.
    locationBudget: limiter ? locationFetchBudget(limiter, (problem) => recordDependencyTrouble("x5u-limiter", problem)) : null,
  });
  return {
    config,
    clock,
    trust,
    verifier: verifierOptionsFrom(config, { clock, certificates, trust }),
    replay: replayStoreFrom(env.REPLAY),
    velocity: new VelocityTracker(velocityStoreFrom(env.VELOCITY), config.velocity, config.backgroundTimeoutMs),
    snapshots: overrides.snapshots ?? isolateOriginSnapshots(env),
    writes,
  };
}

function defaultSharedCache(): Cache | null {
  return typeof caches === "undefined" ? null : (caches as unknown as { default: Cache }).default;
}
