import { Hono } from "hono";
import { describeRoute } from "hono-openapi";
import { z } from "zod";
import { clockOf, invalidQuery } from "../admin/http";
import type { AppEnv } from "../api/app-env";
import { ADMIN_SECURITY, errorResponse, jsonResponse, validQuery } from "../openapi/shared";
import { hourOf, type StatsDimension } from "./record";

/**
 * `GET /v1/stats?from=…&to=…&top=…`: traceback statistics over whole UTC hours (default: the last 24):
 * verdicts by action, failed check, deciding check, ingress carrier and hour; the presented CLIs
 * blocked most; and each carrier's share of spoofed calls — the figures that identified the transit
 * carriers in the Kazakh case (cli-spoofing.md §1, §3 check 10).
 */
export const statsRoutes = new Hono<AppEnv>();

const HOUR_MS = 3_600_000;
const MAX_RANGE_HOURS = 24 * 93;

interface CounterRow {
  hour: string;
  dimension: StatsDimension;
  key: string;
  count: number;
}

const statsQuery = z.object({
  from: z.iso.datetime({ offset: true }).optional().describe("Default: 24 hours before to"),
  to: z.iso.datetime({ offset: true }).optional().describe("Default: now"),
  top: z.coerce.number().int().min(1).max(500).default(20).describe("How many blocked CLIs to list; default 20"),
});

const describeStats = describeRoute({
  tags: ["Statistics"],
  security: ADMIN_SECURITY,
  summary: "Traceback statistics over whole UTC hours",
  responses: { 200: jsonResponse("`{from, to, total, byAction, byCheck, byDecidingCheck, byCarrier, byHour, topBlockedClis}`"), 400: errorResponse("A query parameter is invalid") },
});

statsRoutes.get("/", describeStats, validQuery(statsQuery), async (c) => {
  const query = c.req.valid("query");
  const toMs = query.to !== undefined ? Date.parse(query.to) : clockOf(c).now();
  const fromMs = query.from !== undefined ? Date.parse(query.from) : toMs - 24 * HOUR_MS;
  if (fromMs > toMs) return invalidQuery("from", "must not be after to");
  if (toMs - fromMs > MAX_RANGE_HOURS * HOUR_MS) return invalidQuery("from", `the range may span at most ${MAX_RANGE_HOURS} hours`);
  const { top } = query;

  const { results } = await c.env.DB.prepare(
    "SELECT hour, dimension, key, SUM(count) AS count FROM stats_counters WHERE hour >= ? AND hour <= ? GROUP BY hour, dimension, key",
  )
    .bind(hourOf(fromMs), hourOf(toMs))
    .all<CounterRow>();

  const totals = (dimension: StatsDimension) => {
    const sums = new Map<string, number>();
    for (const row of results) if (row.dimension === dimension) sums.set(row.key, (sums.get(row.key) ?? 0) + row.count);
    return sums;
  };
  const spoofed = totals("carrier-spoofed");
  const actionsByHour = new Map<string, Record<string, number>>();
  for (const row of results) if (row.dimension === "action") actionsByHour.set(row.hour, { ...actionsByHour.get(row.hour), [row.key]: row.count });
  return c.json({
    from: `${hourOf(fromMs)}:00:00Z`,
    to: `${hourOf(toMs)}:59:59Z`,
    total: totals("total").get("all") ?? 0,
    byAction: Object.fromEntries(totals("action")),
    byCheck: Object.fromEntries(totals("check")),
    byDecidingCheck: Object.fromEntries(totals("decided-by")),
    byCarrier: [...totals("carrier")]
      .map(([carrier, calls]) => ({ carrier, calls, spoofed: spoofed.get(carrier) ?? 0, spoofedShare: calls > 0 ? (spoofed.get(carrier) ?? 0) / calls : 0 }))
      .sort((a, b) => b.spoofedShare - a.spoofedShare || b.calls - a.calls),
    byHour: results
      .filter((row) => row.dimension === "total")
      .map((row) => ({ hour: row.hour, calls: row.count, byAction: actionsByHour.get(row.hour) ?? {} }))
      .sort((a, b) => a.hour.localeCompare(b.hour)),
    topBlockedClis: [...totals("blocked-cli")].map(([cli, count]) => ({ cli, count })).sort((a, b) => b.count - a.count).slice(0, top),
  });
});
