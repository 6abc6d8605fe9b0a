import { TimeoutError, withTimeout, type BackgroundWork } from "./timeout";

/**
 * Per-isolate write-behind for what a verdict records after its response (traceback statistics,
 * recent verdicts, velocity observations). Entries wait in memory until WRITE_BEHIND_LINGER_MS has
 * passed since the first of them, or until `batchSize` have accumulated, and then go out in one write:
 * a busy isolate writes each store a few times a second instead of once per verdict, and an idle one
 * still writes every entry within that time. The flush runs in the waitUntil of the verdict that
 * started it. The linger is short because a test (or an SBC) waiting for a verdict's waitUntil work
 * waits for it too.
 *
 * Only one flush runs at a time, so a store call that never returns would hold that slot, and every
 * entry queued behind it, for the isolate's life (issue 22 item 5). Every store call a write makes is
 * therefore raced against BACKGROUND_TIMEOUT_MS: a call that loses is abandoned and counted, the write
 * ends, and the next verdict starts a new flush.
 */
export const WRITE_BEHIND_LINGER_MS = 250;
/** A flush started by one verdict keeps writing what arrives meanwhile, but not beyond this (waitUntil is bounded). */
const MAX_FLUSH_SPAN_MS = 10_000;

/** A store call raced against the background timeout: its outcome, or a TimeoutError. */
export type BoundedCall = <T>(call: Promise<T>) => Promise<T>;

export interface WriteBehindStore {
  /** How many entries wait. */
  pending(): number;
  /**
   * Writes what waits, every store call through `bounded`. False when the store refused or a call timed
   * out: the store decides what becomes of the entries (kept for the next flush, or dropped and counted).
   */
  write(bounded: BoundedCall): Promise<boolean>;
}

export class WriteBehind<Task extends string> {
  private flushing: Promise<void> | null = null;
  private wake: (() => void) | null = null;

  /** `task` names the store in timeouts; `onTimeout` is told of each abandoned call (the metrics count it). */
  constructor(
    private readonly store: WriteBehindStore,
    private readonly batchSize: number,
    private readonly task: Task,
    private readonly onTimeout: (task: Task) => void,
  ) {}

  /** Called after entries were added: starts a flush unless one is lingering or writing; a full batch ends the linger. */
  schedule(background: BackgroundWork): void {
    if (this.flushing) {
      if (this.store.pending() >= this.batchSize) this.wake?.();
      return;
    }
    this.flushing = this.flush(background.timeoutMs).finally(() => {
      this.flushing = null;
    });
    background.waitUntil(this.flushing);
  }

  private async flush(timeoutMs: number): Promise<void> {
    const bounded: BoundedCall = (call) =>
      withTimeout(call, timeoutMs, this.task).catch((error: unknown) => {
        if (error instanceof TimeoutError) this.onTimeout(this.task);
        throw error;
      });
    const startedAt = Date.now();
    while (this.store.pending() > 0 && Date.now() - startedAt < MAX_FLUSH_SPAN_MS) {
      if (this.store.pending() < this.batchSize) await this.linger();
      if (!(await this.store.write(bounded))) return;
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
