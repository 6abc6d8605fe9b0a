/** A background wait that outlived its bound (`withTimeout`). */
export class TimeoutError extends Error {
  readonly code = "ERR_TIMEOUT";
}

/**
 * The work's outcome, or a `TimeoutError` once `ms` have passed: for background work that holds a
 * slot (a reload in flight, a flush), so that one store call that never returns cannot hold the slot,
 * and everything queued behind it, forever. The work is not cancelled (Workers cannot cancel a binding
 * call); its late outcome is ignored, and a late rejection is no unhandled rejection.
 */
export function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  // Assigned before the constructor returns: a promise's executor runs synchronously.
  let timer!: ReturnType<typeof setTimeout>;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([work, expired]).finally(() => {
    if (timer !== null) clearTimeout(timer);
  });
}

/** Where background work runs (the request's waitUntil) and how long any one of its waits may take (BACKGROUND_TIMEOUT_MS). */
export interface BackgroundWork {
  waitUntil: (promise: Promise<unknown>) => void;
  timeoutMs: number;
}
