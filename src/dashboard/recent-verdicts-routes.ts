import { Hono } from "hono";
import { describeRoute } from "hono-openapi";
import * as z from "zod";
import type { AppEnv } from "../api/app-env";
import { ADMIN_SECURITY, errorResponse, jsonResponse, validQuery } from "../openapi/shared";
import { ACTIONS } from "../verdict/verdict";
import { listRecentVerdicts, RECENT_VERDICTS_KEPT } from "./recent-verdicts";

/**
 * `GET /v1/admin/verdicts`: the newest verdicts with their checks and evidence, filtered the way an
 * analyst narrows a complaint down: by number, ingress carrier, failed check, action, signed or not.
 */
export const recentVerdictsRoutes = new Hono<AppEnv>();

const recentVerdictsQuery = z.object({
  number: z
    .string()
    .transform((value) => value.replace(/^\+/, ""))
    .pipe(z.string().regex(/^[0-9]{1,15}$/, "expected a telephone number: 1–15 digits, optionally after '+'"))
    .optional()
    .describe("Matches the presented CLI (From's number too, when it presents another), or the called number"),
  carrier: z.string().min(1).max(128).optional().describe("Ingress carrier, as the verdict classified it"),
  check: z.string().regex(/^[a-z0-9.:-]{1,64}$/, "expected a check id, e.g. x5u.fetch").optional().describe("A check id that failed, e.g. x5u.fetch"),
  action: z.enum(ACTIONS).optional(),
  signed: z.enum(["true", "false"]).optional().describe("Only calls with (true) or without (false) an Identity header"),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  before: z.coerce.number().int().positive().optional().describe("The seq of the last verdict of the previous page, or the previous response's `next`"),
  fields: z.enum(["full", "summary"]).default("full").describe("`summary`: each verdict without its `checks` (its `failedChecks` stay), for a count or a breakdown"),
});

/**
 * The characters of verdicts' JSON one response lists at most: a verdict with its checks is 2–3 KB, but
 * the calling peer can make one some 40 KB, and 1 000 of those would be 40 MB held and sent for one
 * request of any viewer. A response the bound cut short says where to go on (`next`).
 */
export const MAX_LISTED_CHARS = 4 * 1024 * 1024;

recentVerdictsRoutes.get(
  "/",
  describeRoute({
    tags: ["Admin"],
    summary: "Recent verdicts with their evidence",
    description: `The newest verdicts first; the dashboard keeps the last ${RECENT_VERDICTS_KEPT}.`,
    security: ADMIN_SECURITY,
    responses: {
      200: jsonResponse(
        `\`{verdicts: [{seq, requestId, at, cli, fromCli (when From presents another number), assertedCli (when P-Asserted-Identity's other identity does), claimedClis (the numbers of Remote-Party-ID and P-Preferred-Identity besides those), callerName: {presented, presentation} (when From has a display name), destination, action, verstat, signed, attest, decidedBy, monitored (when not empty), failedChecks, carrier, ingress: {trunk, carrier, carrierName, international}, elapsedMs, checks (unless fields=summary)}], next}\`: \`next\`, present when ${MAX_LISTED_CHARS / 1024 / 1024} MiB of verdicts' JSON cut the list short of \`limit\`, is the \`before\` of the next page`,
      ),
      400: errorResponse("A query parameter is invalid"),
    },
  }),
  validQuery(recentVerdictsQuery),
  async (c) => {
    const { signed, before, ...filter } = c.req.valid("query");
    const { verdicts, next } = await listRecentVerdicts(c.env.DB, { ...filter, signed: signed === undefined ? undefined : signed === "true", beforeSeq: before, maxChars: MAX_LISTED_CHARS });
    return c.json(next === null ? { verdicts } : { verdicts, next });
  },
);
