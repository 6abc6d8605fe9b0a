/**
 * Lets the isolate serve what is waiting (other requests, their timers) before long synchronous work
 * goes on: one macrotask turn. Compiling a large saved rule base in slices keeps verdicts answering
 * while it runs.
 */
export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));
