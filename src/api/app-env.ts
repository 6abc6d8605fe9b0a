import type { Runtime } from "../runtime";

/** Hono environment of every route: the Worker's bindings and the per-request variables. */
export interface AppEnv {
  Bindings: Env;
  Variables: { requestId: string; runtime: Runtime };
}
