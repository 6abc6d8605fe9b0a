/**
 * Per-isolate write-behind for what a verdict records after its response (traceback statistics,
 * recent verdicts, velocity observations). Entries wait in memory until WRITE_BEHIND_LINGER_MS has
 * passed since the first of them, or until `batchSize` have accumulated, and then go out in one write:
 * a busy isolate writes each store a few times a second instead of once per verdict, and an idle one
 * still writes every entry within that time. The flush runs in the waitUntil of the verdict that
 * started it. The linger is short because a test (or an SBC) waiting for a verdict's waitUntil work
 * waits for it too.
 */
export const WRITE_BEHIND_LINGER_MS = 250;
/** A flush started by one verdict keeps writing what arrives meanwhile, but not beyond this (waitUntil is bounded). */
const MAX_FLUSH_SPAN_MS = 10_000;

export interface WriteBehindStore {
  /** How many entries wait. */
  pending(): number;
  /** Writes what waits; false when the store refused (the entries stay, or are dropped and counted, as the store decides). */
  write(): Promise<boolean>;
}

export class WriteBehind {
  private flushing: Promise<void> | null = null;
  private wake: (() => void) | null = null;

  constructor(
    private readonly store: WriteBehindStore,
    private readonly batchSize: number,
  ) {}

  /** Called after entries were added: starts a flush unless one is lingering or writing; a full batch ends the linger. */
  schedule(waitUntil: (promise: Promise<unknown>) => void): void {
    if (this.flushing) {
      if (this.store.pending() >= this.batchSize) this.wake?.();
      return;
    }
    this.flushing = this.flush().finally(() => {
      this.flushing = null;
    });
    waitUntil(this.flushing);
  }

  private async flush(): Promise<void> {
    const startedAt = Date.now();
    while (this.store.pending() > 0 && Date.now() - startedAt < MAX_FLUSH_SPAN_MS) {
      if (this.store.pending() < this.batchSize) await this.linger();
      if (!(await this.store.write())) return;
    }
  }

  private linger(): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, WRITE_BEHIND_LINGER_MS);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => {
      this.wake = null;
    });
  }
}
