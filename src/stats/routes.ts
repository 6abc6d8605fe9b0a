import { Hono } from "hono";
import { describeRoute } from "hono-openapi";
import { z } from "zod";
import { clockOf, invalidQuery } from "../admin/http";
import type { AppEnv } from "../api/app-env";
import { ADMIN_SECURITY, errorResponse, jsonResponse, validQuery } from "../openapi/shared";
import { MAX_TOP_BLOCKED_CLIS, readTracebackStats } from "./read";

/**
 * `GET /v1/stats?from=…&to=…&top=…`: traceback statistics over whole UTC hours (default: the last 24):
 * verdicts by action, failed check, deciding check, ingress carrier and hour; the presented CLIs
 * blocked most; and each carrier's share of spoofed calls — the figures that identified the transit
 * carriers in the Kazakh case (cli-spoofing.md §1, §3 check 10).
 */
export const statsRoutes = new Hono<AppEnv>();

const HOUR_MS = 3_600_000;
const MAX_RANGE_HOURS = 24 * 93;

const statsQuery = z.object({
  from: z.iso.datetime({ offset: true }).optional().describe("Default: 24 hours before to"),
  to: z.iso.datetime({ offset: true }).optional().describe("Default: now"),
  top: z.coerce.number().int().min(1).max(MAX_TOP_BLOCKED_CLIS).default(20).describe("How many blocked CLIs to list; default 20"),
});

const describeStats = describeRoute({
  tags: ["Statistics"],
  security: ADMIN_SECURITY,
  summary: "Traceback statistics over whole UTC hours",
  description:
    `Hours older than STATS_HOURLY_RETENTION_DAYS are rolled up into days. A range that reaches such a day counts it whole (from and to say so), ` +
    `its byHour entry has hours: 24, and its blocked CLIs are the day's ${MAX_TOP_BLOCKED_CLIS} most blocked.`,
  responses: { 200: jsonResponse("`{from, to, total, byAction, byMonitoredAction, byCheck, byDecidingCheck, byCarrier, byHour: [{hour, hours, calls, byAction}], topBlockedClis}`"), 400: errorResponse("A query parameter is invalid") },
});

statsRoutes.get("/", describeStats, validQuery(statsQuery), async (c) => {
  const query = c.req.valid("query");
  const toMs = query.to !== undefined ? Date.parse(query.to) : clockOf(c).now();
  const fromMs = query.from !== undefined ? Date.parse(query.from) : toMs - 24 * HOUR_MS;
  if (fromMs > toMs) return invalidQuery("from", "must not be after to");
  if (toMs - fromMs > MAX_RANGE_HOURS * HOUR_MS) return invalidQuery("from", `the range may span at most ${MAX_RANGE_HOURS} hours`);
  return c.json(await readTracebackStats(c.env.DB, fromMs, toMs, query.top));
});
