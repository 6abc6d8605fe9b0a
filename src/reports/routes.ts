import { Hono } from "hono";
import { describeRoute } from "hono-openapi";
import * as z from "zod";
import { actorOf, authorField, clockOf, DOCUMENTED_PLAN, invalidQuery, notFound, numberQuery, pagingQuery, planOf, readNumberQuery, readValidBody, validationError } from "../admin/http";
import { IDEMPOTENCY_DOCUMENTATION, idempotentCreate, idempotentResponse } from "../admin/idempotency";
import type { AppEnv } from "../api/app-env";
import { ADMIN_SECURITY, errorResponse, jsonBody, jsonResponse, validQuery } from "../openapi/shared";
import { markIsolateSnapshotsStale } from "../origin/snapshot";
import { presentRule, ruleInputSchema } from "../rules/rule";
import { createRule, parseRuleCursor, ruleCursorOf } from "../rules/store";
import { fraudReportInputSchema, presentReport } from "./report";
import { createReport, getReport, listReports } from "./store";

/**
 * `/v1/reports`: fraud reports, and the analysts' shortcut from a report to a blocking rule in one
 * call (issue 4 "Fraud reports"). Both creates are audited and take an Idempotency-Key.
 */
export const reportsRoutes = new Hono<AppEnv>();

const REPORTS = { tags: ["Reports"], security: ADMIN_SECURITY };
const listReportsQuery = z.object({
  cli: numberQuery.optional().describe("The presented CLI, read as the verdict reads a caller ID"),
  since: z.iso.datetime({ offset: true }).optional().describe("Only reports received since"),
  ...pagingQuery,
  after: z.string().max(160).optional().describe("Only reports after this place in the listing: the previous page's `next` (paging that stays exact while reports are filed)"),
});

const REPORT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

reportsRoutes.post(
  "/",
  describeRoute({ ...REPORTS, summary: "File a fraud report", description: IDEMPOTENCY_DOCUMENTATION.description, requestBody: jsonBody(fraudReportInputSchema(0, DOCUMENTED_PLAN)), responses: { 201: jsonResponse("`{report}`"), 400: errorResponse("A field is invalid"), ...IDEMPOTENCY_DOCUMENTATION.responses } }),
  idempotentCreate,
  async (c) => {
    const now = clockOf(c).now();
    const body = await readValidBody(c, fraudReportInputSchema(now, planOf(c)));
    if ("response" in body) return body.response;
    const report = await createReport(c.env.DB, body.value, actorOf(c), now, (created) => idempotentResponse(c, 201, { report: presentReport(created) }));
    return c.json({ report: presentReport(report) }, 201);
  },
);

reportsRoutes.get("/", describeRoute({ ...REPORTS, summary: "List fraud reports, newest first", responses: { 200: jsonResponse("`{reports: [...], next}`: `next` (null at the end) is the `after` of the next page"), 400: errorResponse("A query parameter is invalid") } }), validQuery(listReportsQuery), async (c) => {
  const { cli, since, limit, offset, after } = c.req.valid("query");
  const presentedCli = readNumberQuery(c, "cli", cli);
  if (typeof presentedCli === "object") return presentedCli.response;
  // The rules listing's cursor: reports are ordered the same way, newest first and then by id.
  const cursor = after === undefined ? undefined : parseRuleCursor(after);
  if (cursor === null) return invalidQuery("after", "not a cursor this API gave as `next`");
  if (cursor !== undefined && offset > 0) return invalidQuery("after", "give either after or offset, not both");
  const reports = await listReports(c.env.DB, { presentedCli, sinceMs: since === undefined ? undefined : Date.parse(since), limit, offset, after: cursor });
  // A report filed while an analyst pages would shift offset pages by one, showing a report twice.
  return c.json({ reports: reports.map(presentReport), next: reports.length === limit ? ruleCursorOf(reports.at(-1)!) : null });
});

reportsRoutes.get("/:id", describeRoute({ ...REPORTS, summary: "Read a fraud report", responses: { 200: jsonResponse("`{report}`"), 404: errorResponse("No such report") } }), async (c) => {
  const id = c.req.param("id");
  const report = REPORT_ID.test(id) ? await getReport(c.env.DB, id) : null;
  return report ? c.json({ report: presentReport(report) }) : notFound("report");
});

/** What the analyst may change when turning a report into a rule; everything else comes from the report. */
const ruleFromReportSchema = z
  .object({
    action: z.string().optional(),
    reason: z.string().optional(),
    label: z.string().nullable().optional(),
    author: authorField.optional(),
    expiresAt: z.unknown().optional(),
    criteria: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

/**
 * `POST /v1/reports/{id}/rules`: blocks the presented CLI (by default exactly that number, action block)
 * and links the rule to the report. Body fields override the defaults and are validated like any rule;
 * `criteria` adds to the reported CLI (and replaces it only with a `cli` of its own).
 * The report's notes stay with the report: the rule's reason names the report, and its id leads there.
 */
reportsRoutes.post(
  "/:id/rules",
  describeRoute({
    ...REPORTS,
    summary: "Block the CLI a report names",
    description: `Creates a rule (by default: block exactly the presented CLI) linked to the report; body fields override the defaults, and \`criteria\` adds to the presented CLI (a \`cli\` of its own replaces it). ${IDEMPOTENCY_DOCUMENTATION.description}`,
    requestBody: jsonBody(ruleFromReportSchema),
    responses: { 201: jsonResponse("`{rule, report}`"), 400: errorResponse("The resulting rule is invalid"), 404: errorResponse("No such report"), ...IDEMPOTENCY_DOCUMENTATION.responses },
  }),
  idempotentCreate,
  async (c) => {
    const id = c.req.param("id");
    const report = REPORT_ID.test(id) ? await getReport(c.env.DB, id) : null;
    if (!report) return notFound("report");
    const overrides = await readValidBody(c, ruleFromReportSchema);
    if ("response" in overrides) return overrides.response;
    const now = clockOf(c).now();
    const { criteria, ...fields } = overrides.value;
    const proposed = {
      // The report keeps canonical digits; a rule reads digits without `+` as a number typed at home, so
      // the Tokyo 81312345678 would be the Kazakh 8 131 234 5678. With `+` it names the number reported.
      // The analyst's criteria narrow the reported CLI's rule (a trunk, a time window) and replace the CLI
      // only when they name one: `{criteria: {trunk}}` alone would block every call on the trunk.
      criteria: { cli: { exact: `+${report.presentedCli}` }, ...criteria },
      action: "block",
      reason: `fraud report ${report.id} (${report.channel})`,
      ...fields,
      reportId: report.id,
    };
    const rule = ruleInputSchema(now, planOf(c)).safeParse(proposed);
    if (!rule.success) return validationError(rule.error);
    const created = await createRule(c.env.DB, rule.data, actorOf(c, rule.data.author), now, (ruled) => idempotentResponse(c, 201, { rule: presentRule(ruled), report: presentReport(report) }));
    markIsolateSnapshotsStale();
    return c.json({ rule: presentRule(created), report: presentReport(report) }, 201);
  },
);
