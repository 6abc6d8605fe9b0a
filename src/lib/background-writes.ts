import { TimeoutError, withTimeout } from "./timeout";

/** The writes' names in `shaken_background_timeouts_total{task}`. */
export type CacheWriteTask = "cache-write:certificates" | "cache-write:trust";

/**
 * Writes that the isolate's long-lived caches start while serving a request and that no request waits
 * for: the trust set's last good copy and a fetched chain, each put into the location's Workers cache.
 * Each request that ends while some are pending hands them to its waitUntil (src/app.ts), so the
 * runtime does not cancel a write with its response.
 *
 * A write's I/O belongs to the request that started it, and so does the timer bounding it: once that
 * request is gone (a chain fetched after its verdict's deadline is put in the cache from its waitUntil,
 * after the response), the put may never settle and its timer never fire. So a write is kept at most
 * `timeoutMs` by the clock, not by its timer: older, it is dropped and counted as timed out. And what a
 * request hands its waitUntil is bounded by a timer of its own: before, one such put stayed pending for
 * the isolate's life, every later request's waitUntil waited on it, and no request was ever let go (the
 * soak's live heap grew by 28 KB a verdict: BENCHMARKS.md "Memory over many verdicts").
 */
export class BackgroundWrites {
  /** Each pending write, by its settled promise: when it started and what it is. */
  private readonly pending = new Map<Promise<unknown>, { startedAtMs: number; task: CacheWriteTask }>();

  constructor(
    private readonly timeoutMs: number,
    private readonly onTimeout: (task: CacheWriteTask) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /** Starts `write` and keeps it until it settles or its bound passes; answers its outcome within that bound. */
  start<T>(write: () => Promise<T>, task: CacheWriteTask, what: string): Promise<T> {
    // A binding that throws synchronously fails its write, not the caller that started it.
    const bounded = withTimeout(new Promise<T>((resolve) => resolve(write())), this.timeoutMs, what);
    const settled: Promise<unknown> = bounded
      .catch((error: unknown) => {
        // One already dropped by age was counted then.
        if (error instanceof TimeoutError && this.pending.has(settled)) this.onTimeout(task);
      })
      .finally(() => this.pending.delete(settled));
    this.pending.set(settled, { startedAtMs: this.now(), task });
    return bounded;
  }

  /**
   * Every write pending now, once settled or once `timeoutMs` have passed on the caller's own timer
   * (never rejects); null when none is. Writes older than `timeoutMs` are dropped first.
   */
  settled(): Promise<unknown> | null {
    const now = this.now();
    for (const [write, { startedAtMs, task }] of this.pending) {
      if (now - startedAtMs < this.timeoutMs) continue;
      this.pending.delete(write);
      this.onTimeout(task);
    }
    if (this.pending.size === 0) return null;
    return withTimeout(Promise.all(this.pending.keys()), this.timeoutMs, "the pending cache writes").catch(() => undefined);
  }
}

/** The location's Workers cache, with where the writes into it run. */
export interface LocationCache {
  cache: Cache;
  writes: BackgroundWrites;
  /** Told when a read from it did not answer within its bound (and was taken as a miss). */
  onReadTimeout?: (cache: "certificates" | "trust") => void;
}
