import { Hono, type Context } from "hono";
import { describeRoute } from "hono-openapi";
import { z } from "zod";
import type { AppEnv } from "../api/app-env";
import { nativeError } from "../api/native-errors";
import { CONFIG_SECTION_SCHEMAS, CONFIG_SECTIONS, isConfigSection, type ConfigSection } from "../origin/config/sections";
import { getConfigSection, putConfigSection } from "../origin/config/store";
import { homeCountryOf } from "../origin/deps";
import { forgetCachedRoamingStatus } from "../origin/roaming/lookup";
import { deleteRoamingEntry, getRoamingEntry, putRoamingEntry, roamingEntrySchema } from "../origin/roaming/table-lookup";
import { markIsolateSnapshotsStale } from "../origin/snapshot";
import { ADMIN_SECURITY, errorResponse, jsonBody, jsonResponse, queryParameters } from "../openapi/shared";
import { presentRule, ruleInputSchema, ruleReplacementSchema } from "../rules/rule";
import { createRule, deleteRule, expireRule, getRule, listRules, replaceRule, type RuleWriteResult } from "../rules/store";
import { listAudit } from "./audit-log";
import { actorOf, basedOnVersion, clockOf, conflict, invalidQuery, notFound, pagingOf, queryInteger, readValidBody, requireAdmin } from "./http";

/**
 * `/v1/admin`: the analysts' and operators' API (issue 4 "Operator rules"): blocking rules, the audit
 * log, operator configuration and the roaming table. Every write is audited, versioned, and marks
 * this isolate's compiled snapshot stale; other isolates pick it up within the refresh interval.
 */
export const adminRoutes = new Hono<AppEnv>();
adminRoutes.use("*", requireAdmin);

const ADMIN = { tags: ["Admin"], security: ADMIN_SECURITY };
const listRulesQuery = z.object({
  cli: z.string().optional().describe("Digits the rule's CLI criteria contain"),
  active: z.enum(["true", "false"]).optional().describe("Only rules in force now"),
  limit: z.number().int().min(1).max(1000).optional().describe("Default 100"),
  offset: z.number().int().min(0).optional(),
});
const auditQuery = z.object({
  entity: z.enum(["rule", "config", "roaming"]).optional(),
  id: z.string().optional().describe("The entity's id"),
  limit: z.number().int().min(1).max(1000).optional().describe("Default 100"),
  before: z.number().int().positive().optional().describe("Only entries with a smaller seq (paging)"),
});
const authorQuery = z.object({ author: z.string().optional().describe("Who, for the audit log; default: the admin token's label") });

const RULE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const optionalAuthor = z.object({ author: z.string().trim().min(1).max(128).optional(), version: z.number().int().positive().optional() }).strict();

function ruleWriteResponse(c: Context<AppEnv>, result: RuleWriteResult, status: 200 | 201 = 200): Response {
  if ("error" in result) return result.error === "ERR_NOT_FOUND" ? notFound("rule") : conflict(presentRule(result.current));
  markIsolateSnapshotsStale();
  c.header("ETag", `"${result.rule.version}"`);
  return c.json({ rule: presentRule(result.rule) }, status);
}

adminRoutes.get("/rules", describeRoute({ ...ADMIN, summary: "List rules", parameters: queryParameters(listRulesQuery), responses: { 200: jsonResponse("`{rules: [...]}`"), 400: errorResponse("A query parameter is invalid") } }), async (c) => {
  const paging = pagingOf(c);
  if ("response" in paging) return paging.response;
  const cli = c.req.query("cli")?.replace(/^\+/, "");
  if (cli !== undefined && !/^[0-9]{1,15}$/.test(cli)) return invalidQuery("cli", "expected digits");
  const active = c.req.query("active");
  if (active !== undefined && active !== "true" && active !== "false") return invalidQuery("active", "expected true or false");
  const rules = await listRules(c.env.DB, { activeAt: active === "true" ? clockOf(c).now() : undefined, cliContains: cli, ...paging });
  return c.json({ rules: rules.map(presentRule) });
});

adminRoutes.post("/rules", describeRoute({ ...ADMIN, summary: "Create a rule", requestBody: jsonBody(ruleInputSchema(0)), responses: { 201: jsonResponse("`{rule}`, with its ETag"), 400: errorResponse("A field is invalid") } }), async (c) => {
  const now = clockOf(c).now();
  const body = await readValidBody(c, ruleInputSchema(now));
  if ("response" in body) return body.response;
  const rule = await createRule(c.env.DB, body.value, await actorOf(c, body.value.author), now);
  return ruleWriteResponse(c, { rule }, 201);
});

adminRoutes.get("/rules/:id", describeRoute({ ...ADMIN, summary: "Read a rule", responses: { 200: jsonResponse("`{rule}`, with its ETag"), 404: errorResponse("No such rule") } }), async (c) => {
  const id = c.req.param("id");
  const rule = RULE_ID.test(id) ? await getRule(c.env.DB, id) : null;
  if (!rule) return notFound("rule");
  c.header("ETag", `"${rule.version}"`);
  return c.json({ rule: presentRule(rule) });
});

adminRoutes.put("/rules/:id", describeRoute({ ...ADMIN, summary: "Replace a rule", description: "Optimistic versioning: send If-Match or the version you read.", requestBody: jsonBody(ruleReplacementSchema(0)), responses: { 200: jsonResponse("`{rule}`"), 409: errorResponse("The rule changed since you read it"), 428: errorResponse("No version given") } }), async (c) => {
  const id = c.req.param("id");
  if (!RULE_ID.test(id)) return notFound("rule");
  const now = clockOf(c).now();
  const body = await readValidBody(c, ruleReplacementSchema(now));
  if ("response" in body) return body.response;
  const basedOn = basedOnVersion(c, body.value.version);
  if ("response" in basedOn) return basedOn.response;
  if (basedOn.version === undefined) return nativeError(428, "ERR_VERSION_REQUIRED", "send If-Match or a version field with the version you read", { fields: { version: "required" } });
  return ruleWriteResponse(c, await replaceRule(c.env.DB, id, body.value, basedOn.version, await actorOf(c, body.value.author), now));
});

adminRoutes.post("/rules/:id/expire", describeRoute({ ...ADMIN, summary: "Expire a rule now", requestBody: jsonBody(optionalAuthor), responses: { 200: jsonResponse("`{rule}`"), 404: errorResponse("No such rule"), 409: errorResponse("The rule changed since you read it") } }), async (c) => {
  const id = c.req.param("id");
  if (!RULE_ID.test(id)) return notFound("rule");
  const body = await readValidBody(c, optionalAuthor);
  if ("response" in body) return body.response;
  const basedOn = basedOnVersion(c, body.value.version);
  if ("response" in basedOn) return basedOn.response;
  return ruleWriteResponse(c, await expireRule(c.env.DB, id, basedOn.version ?? null, await actorOf(c, body.value.author), clockOf(c).now()));
});

adminRoutes.delete("/rules/:id", describeRoute({ ...ADMIN, summary: "Delete a rule", parameters: queryParameters(authorQuery), responses: { 200: jsonResponse("`{rule}` as it was"), 404: errorResponse("No such rule") } }), async (c) => {
  const id = c.req.param("id");
  if (!RULE_ID.test(id)) return notFound("rule");
  const basedOn = basedOnVersion(c, undefined);
  if ("response" in basedOn) return basedOn.response;
  const author = c.req.query("author");
  return ruleWriteResponse(c, await deleteRule(c.env.DB, id, basedOn.version ?? null, await actorOf(c, author), clockOf(c).now()));
});

adminRoutes.get("/audit", describeRoute({ ...ADMIN, summary: "Read the audit log", parameters: queryParameters(auditQuery), responses: { 200: jsonResponse("`{entries: [...]}`, newest first") } }), async (c) => {
  const limit = queryInteger(c.req.query("limit"), 100, 1, 1000);
  if (limit === null) return invalidQuery("limit", "expected an integer from 1 to 1000");
  const before = queryInteger(c.req.query("before"), 0, 1, Number.MAX_SAFE_INTEGER);
  if (before === null) return invalidQuery("before", "expected a sequence number");
  const entity = c.req.query("entity");
  if (entity !== undefined && !["rule", "config", "roaming"].includes(entity)) return invalidQuery("entity", "expected rule, config or roaming");
  const entries = await listAudit(c.env.DB, { entity, entityId: c.req.query("id"), limit, beforeSeq: before || undefined });
  return c.json({ entries });
});

adminRoutes.get("/config", describeRoute({ ...ADMIN, summary: "Read the operator configuration, every section", responses: { 200: jsonResponse("`{homeCountry, sections}`") } }), async (c) => {
  const homeCountry = homeCountryOf(c.env);
  const sections = await Promise.all(CONFIG_SECTIONS.map((section) => getConfigSection(c.env.DB, section, homeCountry)));
  return c.json({ homeCountry, sections: Object.fromEntries(sections.map((section) => [section.section, section])) });
});

adminRoutes.get("/config/:section", describeRoute({ ...ADMIN, summary: "Read one configuration section", description: `Sections: ${CONFIG_SECTIONS.join(", ")}.`, responses: { 200: jsonResponse("`{section, document, version}`, with its ETag"), 404: errorResponse("No such section") } }), async (c) => {
  const section = c.req.param("section");
  if (!isConfigSection(section)) return notFound(`configuration section (one of ${CONFIG_SECTIONS.join(", ")})`);
  const current = await getConfigSection(c.env.DB, section, homeCountryOf(c.env));
  c.header("ETag", `"${current.version}"`);
  return c.json(current);
});

adminRoutes.put("/config/:section", describeRoute({ ...ADMIN, summary: "Replace one configuration section", description: `Body: {document, version, author?}; the document's schema depends on the section (${CONFIG_SECTIONS.join(", ")}).`, responses: { 200: jsonResponse("The section as written"), 400: errorResponse("A field is invalid"), 409: errorResponse("The section changed since you read it") } }), async (c) => {
  const section = c.req.param("section");
  if (!isConfigSection(section)) return notFound(`configuration section (one of ${CONFIG_SECTIONS.join(", ")})`);
  const body = await readValidBody(c, configWriteSchema(section));
  if ("response" in body) return body.response;
  const basedOn = basedOnVersion(c, body.value.version);
  if ("response" in basedOn) return basedOn.response;
  if (basedOn.version === undefined) return nativeError(428, "ERR_VERSION_REQUIRED", "send If-Match or a version field with the version you read (0 for a section never written)", { fields: { version: "required" } });
  const actor = await actorOf(c, body.value.author);
  const result = await putConfigSection(c.env.DB, section, body.value.document, basedOn.version, actor, clockOf(c).now(), homeCountryOf(c.env));
  if ("error" in result) return conflict(result.current);
  markIsolateSnapshotsStale();
  c.header("ETag", `"${result.section.version}"`);
  return c.json(result.section);
});

const configWriteSchema = (section: ConfigSection) =>
  z
    .object({
      document: CONFIG_SECTION_SCHEMAS[section],
      version: z.number().int().min(0).optional(),
      author: z.string().trim().min(1).max(128).optional(),
    })
    .strict();

const TN_PARAMETER = /^\+?([0-9]{1,15})$/;

adminRoutes.get("/roaming/:tn", describeRoute({ ...ADMIN, summary: "Read a roaming table entry", responses: { 200: jsonResponse("`{tn, status, visitedCountry, observedAt}`"), 404: errorResponse("No entry") } }), async (c) => {
  const tn = TN_PARAMETER.exec(c.req.param("tn"))?.[1];
  if (!tn) return invalidQuery("tn", "expected a telephone number of 1–15 digits");
  const entry = await getRoamingEntry(c.env.DB, tn);
  return entry ? c.json({ tn, ...entry }) : notFound("roaming entry");
});

adminRoutes.put("/roaming/:tn", describeRoute({ ...ADMIN, summary: "Write a roaming table entry", requestBody: jsonBody(roamingEntrySchema), responses: { 200: jsonResponse("The entry as written"), 400: errorResponse("A field is invalid") } }), async (c) => {
  const tn = TN_PARAMETER.exec(c.req.param("tn"))?.[1];
  if (!tn) return invalidQuery("tn", "expected a telephone number of 1–15 digits");
  const body = await readValidBody(c, roamingEntrySchema);
  if ("response" in body) return body.response;
  const entry = await putRoamingEntry(c.env.DB, tn, body.value, await actorOf(c, body.value.author), clockOf(c).now());
  forgetCachedRoamingStatus(tn);
  return c.json({ tn, ...entry });
});

adminRoutes.delete("/roaming/:tn", describeRoute({ ...ADMIN, summary: "Delete a roaming table entry", parameters: queryParameters(authorQuery), responses: { 204: { description: "Deleted" }, 404: errorResponse("No entry") } }), async (c) => {
  const tn = TN_PARAMETER.exec(c.req.param("tn"))?.[1];
  if (!tn) return invalidQuery("tn", "expected a telephone number of 1–15 digits");
  const removed = await deleteRoamingEntry(c.env.DB, tn, await actorOf(c, c.req.query("author")), clockOf(c).now());
  forgetCachedRoamingStatus(tn);
  return removed ? c.body(null, 204) : notFound("roaming entry");
});
