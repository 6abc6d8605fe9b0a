import { Hono } from "hono";
import { describeRoute } from "hono-openapi";
import type { AppEnv } from "../api/app-env";
import { METRICS_SECURITY } from "../openapi/shared";
import { EXPOSITION_CONTENT_TYPE, renderExposition } from "./exposition";
import { flushMetricsNow } from "./isolate-counters";
import { readMetricSums } from "./store";

/**
 * `GET /metrics`: the Prometheus scrape. Sums across isolates come from D1; this isolate's own
 * increments are flushed first, so a scrape never lags behind the isolate answering it.
 */
export const metricsRoutes = new Hono<AppEnv>();

metricsRoutes.get(
  "/",
  describeRoute({
    tags: ["Operations"],
    security: METRICS_SECURITY,
    summary: "Prometheus metrics",
    description:
      "Counters and histograms in the Prometheus text exposition format (0.0.4), summed across isolates. Authenticate with a metrics scrape token (METRICS_TOKENS_SHA256) or any operator's credential.",
    responses: { 200: { description: "The exposition", content: { [EXPOSITION_CONTENT_TYPE]: { schema: { type: "string" } } } } },
  }),
  async (c) => {
    await flushMetricsNow(c.env.DB);
    return c.body(renderExposition(await readMetricSums(c.env.DB)), 200, { "Content-Type": EXPOSITION_CONTENT_TYPE, "Cache-Control": "no-store" });
  },
);
