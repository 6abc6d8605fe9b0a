import type { Context } from "hono";
import type { Runtime } from "../runtime";
import type { Operator } from "./auth";

/**
 * Hono environment of every route: the Worker's bindings and the per-request variables. `operator` is
 * set on every operator route (src/api/authenticate.ts): who is acting.
 */
export interface AppEnv {
  Bindings: Env;
  Variables: { requestId: string; runtime: Runtime; operator: Operator };
}

/**
 * Work that may finish after the response (statistics, cache refreshes). In the Workers runtime it is
 * handed to waitUntil; where no execution context exists (app.request in tests) it runs detached.
 */
export function backgroundTasks(c: Context<AppEnv>): (promise: Promise<unknown>) => void {
  try {
    const context = c.executionCtx;
    return (promise) => context.waitUntil(promise);
  } catch {
    return (promise) => void promise.catch((error: unknown) => console.error(JSON.stringify({ level: "error", background: String(error) })));
  }
}
