import { Hono } from "hono";
import { describeRoute } from "hono-openapi";
import type { AppEnv } from "../api/app-env";
import { METRICS_SECURITY } from "../openapi/shared";
import { EXPOSITION_CONTENT_TYPE, renderExposition } from "./exposition";
import { flushMetricsNow } from "./isolate-counters";
import { crlAgeSeries } from "./record";
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
      "Counters and histograms in the Prometheus text exposition format (0.0.4), summed across isolates, and the CRL age gauge of the answering isolate's trust set. Authenticate with a metrics scrape token (METRICS_TOKENS_SHA256) or any operator's credential.",
    responses: { 200: { description: "The exposition", content: { [EXPOSITION_CONTENT_TYPE]: { schema: { type: "string" } } } } },
  }),
  async (c) => {
    await flushMetricsNow(c.env.DB, c.get("runtime").config.backgroundTimeoutMs);
    const { trust, clock } = c.get("runtime");
    const series = [...(await readMetricSums(c.env.DB)), ...crlAgeSeries((await trust.current()).crls, clock.now())];
    return c.body(renderExposition(series), 200, { "Content-Type": EXPOSITION_CONTENT_TYPE, "Cache-Control": "no-store" });
  },
);
