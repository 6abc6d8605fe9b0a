import { withTimeout } from "./timeout";

/**
 * Writes that the isolate's long-lived caches start while serving a request and that no request waits
 * for: the trust set's last good copy and a fetched chain, each put into the location's Workers cache.
 * Each is bounded by `timeoutMs` (BACKGROUND_TIMEOUT_MS), so a put that never settles is abandoned
 * rather than held for the isolate's life; and each request that ends while some are pending hands
 * them to its waitUntil (src/app.ts), so the runtime does not cancel a write with its response.
 */
export class BackgroundWrites {
  private readonly pending = new Set<Promise<unknown>>();

  constructor(private readonly timeoutMs: number) {}

  /** Starts `write` and keeps it until it settles or its bound passes; answers its outcome within that bound. */
  start<T>(write: () => Promise<T>, what: string): Promise<T> {
    // A binding that throws synchronously fails its write, not the caller that started it.
    const bounded = withTimeout(new Promise<T>((resolve) => resolve(write())), this.timeoutMs, what);
    const settled: Promise<unknown> = bounded.catch(() => undefined).finally(() => this.pending.delete(settled));
    this.pending.add(settled);
    return bounded;
  }

  /** Every write pending now, once settled (never rejects); null when none is. */
  settled(): Promise<unknown> | null {
    return this.pending.size === 0 ? null : Promise.all(this.pending);
  }
}

/** The location's Workers cache, with where the writes into it run. */
export interface LocationCache {
  cache: Cache;
  writes: BackgroundWrites;
}
