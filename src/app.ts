import "./lib/reflect-metadata";
import { Hono } from "hono";
import { describeRoute } from "hono-openapi";
import { backgroundTasks, type AppEnv } from "./api/app-env";
import { atisError } from "./api/atis-errors";
import { atisRoutes } from "./api/atis";
import { authenticate } from "./api/authenticate";
import { isStoreOutage, nativeError, storeUnavailable } from "./api/native-errors";
import { requestId } from "./api/request-id";
import { verdictRoutes } from "./api/verdict-route";
import { adminRoutes } from "./admin/routes";
import { dashboardRoutes } from "./dashboard/routes";
import { recentVerdictsRoutes } from "./dashboard/recent-verdicts-routes";
import { metricsRoutes } from "./metrics/routes";
import { openApiRoutes } from "./openapi/routes";
import { reportsRoutes } from "./reports/routes";
import { statsRoutes } from "./stats/routes";
import { ConfigError } from "./config";
import { systemClock } from "./lib/clock";
import { createRuntime, type RuntimeOverrides, type WorkerRuntime } from "./runtime";

/**
 * Builds the HTTP application. The runtime (caches, trust set) is created once per isolate and
 * environment; tests pass overrides (an injected clock, a fetcher) to a fresh application.
 */
export function createApp(overrides: RuntimeOverrides = {}): Hono<AppEnv> {
  const runtimes = new WeakMap<object, WorkerRuntime>();
  const app = new Hono<AppEnv>();

  app.use("*", requestId);
  app.use("*", authenticate({ clock: overrides.clock ?? systemClock, fetcher: overrides.fetcher ?? ((request) => fetch(request)) }));
  // A query parameter given twice (`?international=true&international=false`) has no one meaning: refused
  // before a route reads the first or the last. The ATIS API reads no query.
  app.use("/v1/*", async (c, next) => {
    const repeated = Object.entries(c.req.queries()).find(([, values]) => values.length > 1);
    if (repeated === undefined) return next();
    const name = repeated[0].slice(0, 64);
    return nativeError(400, "ERR_VALIDATION", `query parameter '${name}' is given more than once`, { field: name, fields: { [name]: "given more than once" } });
  });
  app.use("*", async (c, next) => {
    let runtime = runtimes.get(c.env);
    if (!runtime) {
      runtime = createRuntime(c.env, overrides);
      runtimes.set(c.env, runtime);
    }
    c.set("runtime", runtime);
    await next();
    // The cache writes still pending (src/lib/background-writes.ts) finish after the response, not with it.
    const writes = runtime.writes.settled();
    if (writes) backgroundTasks(c)(writes);
  });

  app.get("/healthz", describeRoute({ tags: ["Operations"], summary: "Liveness", responses: { 200: { description: '`{"status":"ok"}`' } } }), (c) => c.json({ status: "ok" }));
  app.route("/stir/v1", atisRoutes);
  app.route("/v1/verdict", verdictRoutes);
  app.route("/v1/admin/verdicts", recentVerdictsRoutes);
  app.route("/v1/admin", adminRoutes);
  app.route("/v1/reports", reportsRoutes);
  app.route("/v1/stats", statsRoutes);
  app.route("/metrics", metricsRoutes);
  app.route("/dashboard", dashboardRoutes);
  app.route("/", openApiRoutes(app));

  app.notFound((c) => (c.req.path.startsWith("/stir/") ? atisError("SVC4003") : nativeError(404, "ERR_NOT_FOUND", `no route ${c.req.method} ${c.req.path}`)));
  app.onError((error, c) => {
    // Anything reaching here is our fault, never the caller's: log it with the request id, answer in the endpoint's format.
    console.error(JSON.stringify({ level: "error", requestId: c.get("requestId"), path: c.req.path, error: String(error), stack: (error as Error).stack }));
    if (c.req.path.startsWith("/stir/")) return atisError("POL5000");
    // A deployment mistake names the variable, so the operator can fix it from the response alone.
    if (error instanceof ConfigError) return nativeError(500, error.code, error.message);
    // The database not answering is an outage to wait out, not a fault to report: 503, with when to retry.
    if (isStoreOutage(error)) return storeUnavailable();
    return nativeError(500, "ERR_INTERNAL", "internal error; the request id identifies it in the logs");
  });
  return app;
}
