import { Hono } from "hono";
import { describeRoute } from "hono-openapi";
import * as z from "zod";
import { clockOf, invalidQuery } from "../admin/http";
import type { AppEnv } from "../api/app-env";
import { ADMIN_SECURITY, errorResponse, jsonResponse, validQuery } from "../openapi/shared";
import { RULE_ID } from "../rules/rule";
import { MAX_TOP_BLOCKED_CLIS, readRuleHits, readTracebackStats } from "./read";

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
  responses: { 200: jsonResponse("`{from, to, total, byAction, byMonitoredAction, byCheck, byDecidingCheck, byCarrier, byHour: [{hour, hours, calls, byAction, byMonitoredAction}], topBlockedClis}`"), 400: errorResponse("A query parameter is invalid") },
});

statsRoutes.get("/", describeStats, validQuery(statsQuery), async (c) => {
  const query = c.req.valid("query");
  const toMs = query.to !== undefined ? Date.parse(query.to) : clockOf(c).now();
  const fromMs = query.from !== undefined ? Date.parse(query.from) : toMs - 24 * HOUR_MS;
  if (fromMs > toMs) return invalidQuery("from", "must not be after to");
  if (toMs - fromMs > MAX_RANGE_HOURS * HOUR_MS) return invalidQuery("from", `the range may span at most ${MAX_RANGE_HOURS} hours`);
  return c.json(await readTracebackStats(c.env.DB, fromMs, toMs, query.top));
});

/** As many rule ids as the dashboard's rules page lists at once. */
const MAX_RULE_IDS = 200;

const ruleHitsQuery = z.object({
  ids: z
    .string()
    .transform((ids) => ids.split(","))
    .pipe(z.array(z.string().regex(RULE_ID, "expected rule ids (UUIDs) separated by commas")).min(1).max(MAX_RULE_IDS, `at most ${MAX_RULE_IDS} rule ids`))
    .describe(`Rule ids, comma-separated, at most ${MAX_RULE_IDS}`),
});

statsRoutes.get(
  "/rules",
  describeRoute({
    tags: ["Statistics"],
    security: ADMIN_SECURITY,
    summary: "Each rule's hits over the last 24 hours and 7 days",
    description:
      "A hit is a verdict whose call the rule matched, whether or not it decided the call (a verdict lists its first 20 matched rules, and counts those). `enforced` counts the matches of a rule in force, `monitored` those in monitor mode (the rule's own, or POLICY_MODE=monitor). `day` is the current UTC hour and the 23 before it, `week` the current hour and the 167 before it.",
    responses: { 200: jsonResponse("`{periods: {day: {from, to}, week: {from, to}}, rules: [{id, enforced: {day, week}, monitored: {day, week}}]}`, in the order asked"), 400: errorResponse("A query parameter is invalid") },
  }),
  validQuery(ruleHitsQuery),
  async (c) => c.json(await readRuleHits(c.env.DB, c.req.valid("query").ids, clockOf(c).now())),
);
