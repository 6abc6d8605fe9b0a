import { LRUCache } from "lru-cache";
import type { Clock } from "../lib/clock";

/** Hosts whose buckets an isolate keeps; one evicted starts full again, so spraying many hosts is bounded per call instead (src/verification/verify-call.ts). */
const HOSTS_KEPT = 1_000;

/**
 * A token bucket per repository host for the isolate's new (uncached) x5u fetches. The x5u is a
 * stranger's URL: with a random query string each call misses every cache, and without a bound the
 * verifier fetches from whatever host the stranger names as fast as calls arrive. A full bucket holds
 * `burst` fetches and refills at `perSecond`; a cached credential never takes from it.
 */
export class HostFetchBudget {
  private readonly buckets = new LRUCache<string, { tokens: number; atMs: number }>({ max: HOSTS_KEPT });

  constructor(
    readonly perSecond: number,
    private readonly burst: number,
    private readonly clock: Clock,
  ) {}

  /** Takes one fetch from the host's bucket: false when it is empty. */
  take(host: string): boolean {
    const now = this.clock.now();
    const bucket = this.buckets.get(host);
    const tokens = bucket ? Math.min(this.burst, bucket.tokens + (Math.max(0, now - bucket.atMs) / 1000) * this.perSecond) : this.burst;
    const granted = tokens >= 1;
    this.buckets.set(host, { tokens: granted ? tokens - 1 : tokens, atMs: now });
    return granted;
  }
}
