import { Hono } from "hono";
import { describeRoute } from "hono-openapi";
import type { AppEnv } from "../api/app-env";
import { requireBearer } from "../api/auth";
import { AUTH_FAILURE_MESSAGES, nativeError } from "../api/native-errors";
import { EXPOSITION_CONTENT_TYPE, renderExposition } from "./exposition";
import { flushMetricsNow } from "./isolate-counters";
import { crlAgeSeries } from "./record";
import { readMetricSums } from "./store";

/**
 * `GET /metrics`: the Prometheus scrape. Sums across isolates come from D1; this isolate's own
 * increments are flushed first, so a scrape never lags behind the isolate answering it.
 */
export const metricsRoutes = new Hono<AppEnv>();
metricsRoutes.use("*", requireBearer("metrics", (_c, failure) => nativeError(401, "ERR_UNAUTHENTICATED", AUTH_FAILURE_MESSAGES[failure])));

metricsRoutes.get(
  "/",
  describeRoute({
    tags: ["Operations"],
    summary: "Prometheus metrics",
    description:
      "Counters and histograms in the Prometheus text exposition format (0.0.4), summed across isolates, and the CRL age gauge of the answering isolate's trust set. Authenticate with a metrics token (METRICS_TOKENS_SHA256) or an admin token.",
    responses: { 200: { description: "The exposition", content: { [EXPOSITION_CONTENT_TYPE]: { schema: { type: "string" } } } } },
  }),
  async (c) => {
    await flushMetricsNow(c.env.DB, c.get("runtime").config.backgroundTimeoutMs);
    const { trust, clock } = c.get("runtime");
    const series = [...(await readMetricSums(c.env.DB)), ...crlAgeSeries((await trust.current()).crls, clock.now())];
    return c.body(renderExposition(series), 200, { "Content-Type": EXPOSITION_CONTENT_TYPE, "Cache-Control": "no-store" });
  },
);
