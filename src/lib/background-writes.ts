import { TimeoutError, withTimeout } from "./timeout";

/** The writes' names in `shaken_background_timeouts_total{task}`. */
export type CacheWriteTask = "cache-write:certificates" | "cache-write:trust";

/**
 * Writes that the isolate's long-lived caches start while serving a request and that no request waits
 * for: the trust set's last good copy and a fetched chain, each put into the location's Workers cache.
 * Each is bounded by `timeoutMs` (BACKGROUND_TIMEOUT_MS), so a put that never settles is abandoned
 * rather than held for the isolate's life; and each request that ends while some are pending hands
 * them to its waitUntil (src/app.ts), so the runtime does not cancel a write with its response.
 */
export class BackgroundWrites {
  private readonly pending = new Set<Promise<unknown>>();

  constructor(
    private readonly timeoutMs: number,
    private readonly onTimeout: (task: CacheWriteTask) => void = () => undefined,
  ) {}

  /** Starts `write` and keeps it until it settles or its bound passes; answers its outcome within that bound. */
  start<T>(write: () => Promise<T>, task: CacheWriteTask, what: string): Promise<T> {
    // A binding that throws synchronously fails its write, not the caller that started it.
    const bounded = withTimeout(new Promise<T>((resolve) => resolve(write())), this.timeoutMs, what);
    const settled: Promise<unknown> = bounded
      .catch((error: unknown) => {
        if (error instanceof TimeoutError) this.onTimeout(task);
      })
      .finally(() => this.pending.delete(settled));
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
  /** Told when a read from it did not answer within its bound (and was taken as a miss). */
  onReadTimeout?: (cache: "certificates" | "trust") => void;
}
