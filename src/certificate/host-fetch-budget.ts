import { LRUCache } from "lru-cache";
import type { Clock } from "../lib/clock";
import { TimeoutError, withTimeout } from "../lib/timeout";

/** Domains whose buckets an isolate keeps; one evicted starts full again, so spraying many domains is bounded per call instead (src/verification/verify-call.ts). */
const DOMAINS_KEPT = 1_000;

/**
 * Whose bucket a repository host's fetches take from: its registrable domain, the public suffix and
 * one label more (the Public Suffix List, its private section included, so each `*.github.io` site is
 * its own). Names under one domain are one party's to mint, and one wildcard DNS record
 * points them all at one web server: keyed by host, `a1.victim.example`, `a2.victim.example`, … would
 * each get a fresh bucket, and a peer spraying random subdomains would have the verifier fetch from the
 * victim as fast as calls arrive. An IP address, or a name with no registrable domain (a public suffix
 * itself), is its own.
 *
 * The list is loaded on the isolate's first uncached fetch, not at its start: its tables are about 2 MB
 * of heap that an isolate answering from cached certificates never needs (BENCHMARKS.md "The half-rate
 * tail": the live heap sets how long a full collection pauses).
 */
export async function fetchBudgetDomain(hostname: string): Promise<string> {
  const { getDomain } = await import("tldts");
  // A URL's hostname is lower case already; tldts reads a trailing dot (`victim.example.`) as the same name.
  return getDomain(hostname, { allowPrivateDomains: true }) ?? hostname;
}

/**
 * A token bucket per repository domain (fetchBudgetDomain) for the isolate's new (uncached) x5u
 * fetches. The x5u is a stranger's URL: with a random path or subdomain each call misses every cache,
 * and without a bound the verifier fetches from whatever server the stranger names as fast as calls
 * arrive. A full bucket holds `burst` fetches and refills at `perSecond`; a cached credential never
 * takes from it.
 */
export class HostFetchBudget {
  private readonly buckets = new LRUCache<string, { tokens: number; atMs: number }>({ max: DOMAINS_KEPT });

  constructor(
    readonly perSecond: number,
    private readonly burst: number,
    private readonly clock: Clock,
  ) {}

  /** Takes one fetch from the bucket of `domain` (fetchBudgetDomain): false when it is empty. */
  take(domain: string): boolean {
    const now = this.clock.now();
    const bucket = this.buckets.get(domain);
    const tokens = bucket ? Math.min(this.burst, bucket.tokens + (Math.max(0, now - bucket.atMs) / 1000) * this.perSecond) : this.burst;
    const granted = tokens >= 1;
    this.buckets.set(domain, { tokens: granted ? tokens - 1 : tokens, atMs: now });
    return granted;
  }
}

/** The location's budget for new fetches from a domain (fetchBudgetDomain), shared by all its isolates. */
export interface LocationFetchBudget {
  /** Takes one fetch from the domain's budget: false when the location has spent it. */
  take(domain: string): Promise<boolean>;
}

/**
 * How long the location's limiter may take to answer. It answers from the location itself, in well under
 * a millisecond when well; the fetch it guards has most of the verdict's budget to spend.
 */
const LOCATION_LIMITER_TIMEOUT_MS = 50;

/**
 * The location's budget from Workers' rate-limiting binding (X5U_FETCH_LIMITER, keyed by domain): each
 * isolate's HostFetchBudget bounds what one isolate asks, and a location runs many isolates, so a peer
 * spreading calls over them multiplies the fetches a domain gets; the binding counts them all together.
 * A limiter that fails or does not answer in time grants: the isolate's budget still bounds the fetch,
 * and `onUnavailable` is told which it was.
 */
export function locationFetchBudget(limiter: Pick<RateLimit, "limit">, onUnavailable: (problem: "timeout" | "error") => void): LocationFetchBudget {
  return {
    async take(domain) {
      try {
        const { success } = await withTimeout(limiter.limit({ key: domain }), LOCATION_LIMITER_TIMEOUT_MS, "the x5u fetch limiter");
        return success;
      } catch (error) {
        onUnavailable(error instanceof TimeoutError ? "timeout" : "error");
        return true;
      }
    },
  };
}
