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
import { ADMIN_SECURITY, errorResponse, jsonBody, jsonResponse, validQuery } from "../openapi/shared";
import { presentRule, ruleInputSchema, ruleReplacementSchema } from "../rules/rule";
import { createRule, deleteRule, expireRule, getRule, listRules, replaceRule, type RuleWriteResult } from "../rules/store";
import { listAudit } from "./audit-log";
import { actorOf, authorQuery, basedOnVersion, clockOf, conflict, invalidQuery, notFound, pagingQuery, readValidBody, requireAdmin, telephoneNumberQuery } from "./http";

/**
 * `/v1/admin`: the analysts' and operators' API (issue 4 "Operator rules"): blocking rules, the audit
 * log, operator configuration and the roaming table. Every write is audited, versioned, and marks
 * this isolate's compiled snapshot stale; other isolates pick it up within the refresh interval.
 */
export const adminRoutes = new Hono<AppEnv>();
adminRoutes.use("*", requireAdmin);

const ADMIN = { tags: ["Admin"], security: ADMIN_SECURITY };
const listRulesQuery = z.object({
  cli: telephoneNumberQuery.optional().describe("Digits the rule's CLI criteria contain"),
  active: z.enum(["true", "false"]).optional().describe("Only rules in force now"),
  ...pagingQuery,
});
const auditQuery = z.object({
  entity: z.enum(["rule", "config", "roaming"]).optional(),
  id: z.string().max(128).optional().describe("The entity's id"),
  limit: pagingQuery.limit,
  before: z.coerce.number().int().positive().optional().describe("Only entries with a smaller seq (paging)"),
});

const RULE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const optionalAuthor = z.object({ author: z.string().trim().min(1).max(128).optional(), version: z.number().int().positive().optional() }).strict();

function ruleWriteResponse(c: Context<AppEnv>, result: RuleWriteResult, status: 200 | 201 = 200): Response {
  if ("error" in result) return result.error === "ERR_NOT_FOUND" ? notFound("rule") : conflict(presentRule(result.current));
  markIsolateSnapshotsStale();
  c.header("ETag", `"${result.rule.version}"`);
  return c.json({ rule: presentRule(result.rule) }, status);
}

adminRoutes.get("/rules", describeRoute({ ...ADMIN, summary: "List rules", responses: { 200: jsonResponse("`{rules: [...]}`"), 400: errorResponse("A query parameter is invalid") } }), validQuery(listRulesQuery), async (c) => {
  const { cli, active, limit, offset } = c.req.valid("query");
  const rules = await listRules(c.env.DB, { activeAt: active === "true" ? clockOf(c).now() : undefined, cliContains: cli, limit, offset });
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

adminRoutes.delete("/rules/:id", describeRoute({ ...ADMIN, summary: "Delete a rule", responses: { 200: jsonResponse("`{rule}` as it was"), 404: errorResponse("No such rule") } }), validQuery(authorQuery), async (c) => {
  const id = c.req.param("id");
  if (!RULE_ID.test(id)) return notFound("rule");
  const basedOn = basedOnVersion(c, undefined);
  if ("response" in basedOn) return basedOn.response;
  const { author } = c.req.valid("query");
  return ruleWriteResponse(c, await deleteRule(c.env.DB, id, basedOn.version ?? null, await actorOf(c, author), clockOf(c).now()));
});

adminRoutes.get("/audit", describeRoute({ ...ADMIN, summary: "Read the audit log", responses: { 200: jsonResponse("`{entries: [...]}`, newest first") } }), validQuery(auditQuery), async (c) => {
  const { entity, id, limit, before } = c.req.valid("query");
  const entries = await listAudit(c.env.DB, { entity, entityId: id, limit, beforeSeq: before });
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

const configWriteSchema = (section: ConfigSection) =>
  z
    .object({
      document: CONFIG_SECTION_SCHEMAS[section],
      version: z.number().int().min(0).optional(),
      author: z.string().trim().min(1).max(128).optional(),
    })
    .strict();

/** Each section's body, as one alternative titled with the section the path names (OpenAPI has no schema per path value). */
const configWriteBodies = z.union(CONFIG_SECTIONS.map((section) => configWriteSchema(section).meta({ title: section, description: `The body of PUT /v1/admin/config/${section}` })));

adminRoutes.put("/config/:section", describeRoute({ ...ADMIN, summary: "Replace one configuration section", description: `Body: {document, version, author?}; the document's schema depends on the section (${CONFIG_SECTIONS.join(", ")}): the body schema has one alternative per section, titled with its name.`, requestBody: jsonBody(configWriteBodies), responses: { 200: jsonResponse("The section as written"), 400: errorResponse("A field is invalid"), 409: errorResponse("The section changed since you read it") } }), async (c) => {
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

adminRoutes.delete("/roaming/:tn", describeRoute({ ...ADMIN, summary: "Delete a roaming table entry", responses: { 204: { description: "Deleted" }, 404: errorResponse("No entry") } }), validQuery(authorQuery), async (c) => {
  const tn = TN_PARAMETER.exec(c.req.param("tn"))?.[1];
  if (!tn) return invalidQuery("tn", "expected a telephone number of 1–15 digits");
  const removed = await deleteRoamingEntry(c.env.DB, tn, await actorOf(c, c.req.valid("query").author), clockOf(c).now());
  forgetCachedRoamingStatus(tn);
  return removed ? c.body(null, 204) : notFound("roaming entry");
});
