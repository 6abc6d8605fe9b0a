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
    .describe("Matches the presented CLI or the called number"),
  carrier: z.string().min(1).max(128).optional().describe("Ingress carrier, as the verdict classified it"),
  check: z.string().regex(/^[a-z0-9.:-]{1,64}$/, "expected a check id, e.g. x5u.fetch").optional().describe("A check id that failed, e.g. x5u.fetch"),
  action: z.enum(ACTIONS).optional(),
  signed: z.enum(["true", "false"]).optional().describe("Only calls with (true) or without (false) an Identity header"),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  before: z.coerce.number().int().positive().optional().describe("The seq of the last verdict of the previous page"),
});

recentVerdictsRoutes.get(
  "/",
  describeRoute({
    tags: ["Admin"],
    summary: "Recent verdicts with their evidence",
    description: `The newest verdicts first; the dashboard keeps the last ${RECENT_VERDICTS_KEPT}.`,
    security: ADMIN_SECURITY,
    responses: { 200: jsonResponse("`{verdicts: [{seq, requestId, at, cli, destination, action, verstat, signed, attest, decidedBy, monitored (when not empty), failedChecks, carrier, ingress: {trunk, carrier, carrierName, international}, elapsedMs, checks}]}`"), 400: errorResponse("A query parameter is invalid") },
  }),
  validQuery(recentVerdictsQuery),
  async (c) => {
    const { signed, before, ...filter } = c.req.valid("query");
    const verdicts = await listRecentVerdicts(c.env.DB, { ...filter, signed: signed === undefined ? undefined : signed === "true", beforeSeq: before });
    return c.json({ verdicts });
  },
);
