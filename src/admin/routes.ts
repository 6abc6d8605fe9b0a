import { Hono, type Context } from "hono";
import { describeRoute } from "hono-openapi";
import * as z from "zod";
import { backgroundTasks, type AppEnv } from "../api/app-env";
import { systemClock } from "../lib/clock";
import { nativeError } from "../api/native-errors";
import { RECENT_VERDICTS_KEPT } from "../dashboard/recent-verdicts";
import { ambiguousPrefixes, withInternationalPrefixes } from "../numbering/number-pattern";
import type { DiallingPlan } from "../numbers/telephone-number";
import { duplicateIngressRefusal, type IngressConfig } from "../origin/config/ingress-config";
import { CONFIG_SECTION_SCHEMAS, CONFIG_SECTIONS, isConfigSection, type ConfigSection } from "../origin/config/sections";
import { getConfigSection, putConfigSection, type VersionedSection } from "../origin/config/store";
import { homeCountryOf, type OriginEnv } from "../origin/deps";
import { forgetCachedRoamingStatus } from "../origin/roaming/lookup";
import { futureObservation } from "../origin/roaming/observation-age";
import { camaraAllowedHosts, camaraHostRefusal, type RoamingSettings } from "../origin/roaming/settings";
import { deleteRoamingEntry, getRoamingEntry, listRoamingEntries, putRoamingEntry, roamingEntrySchema, type RoamingWriteResult } from "../origin/roaming/table-lookup";
import { markIsolateSnapshotsStale, saveConfigCopy } from "../origin/snapshot";
import { ADMIN_SECURITY, errorResponse, jsonBody, jsonResponse, validQuery } from "../openapi/shared";
import { presentRule, RULE_ID, ruleInputSchema, ruleReplacementSchema } from "../rules/rule";
import { PREVIEW_SAMPLE_SIZE, previewRule } from "../rules/preview";
import { createRule, deleteRule, expireRule, getListedRule, importRules, listRules, MAX_IMPORT_BATCH, newRule, parseRuleCursor, publishRules, replaceRule, ruleCursorOf, type RuleWriteResult } from "../rules/store";
import { AUDITED_ENTITIES, listAudit } from "./audit-log";
import { actorOf, authorField, authorQuery, basedOnVersion, clockOf, conflict, DOCUMENTED_PLAN, invalidQuery, notFound, numberQuery, pagingQuery, planOf, readNumberQuery, readValidBody } from "./http";
import { IDEMPOTENCY_DOCUMENTATION, idempotentCreate, idempotentResponse } from "./idempotency";
import { recordTrustSet } from "./trust-audit";

/**
 * `/v1/admin`: the analysts' and operators' API (issue 4 "Operator rules"): blocking rules, the audit
 * log, operator configuration, the roaming table, and the record of trust-set pushes. Every write is
 * audited and marks this isolate's compiled snapshot stale; other isolates pick it up within the
 * refresh interval. Which role may call which route: src/api/authenticate.ts.
 */
export const adminRoutes = new Hono<AppEnv>();

const ADMIN = { tags: ["Admin"], security: ADMIN_SECURITY };
const listRulesQuery = z.object({
  cli: numberQuery.optional().describe("Digits the rule's CLI criteria contain, or that its CLI prefix or range covers; a whole number is read as the verdict reads a caller ID"),
  active: z.enum(["true", "false"]).optional().describe("Only rules not expired now"),
  published: z
    .enum(["true", "false"])
    .optional()
    .describe("Only the published rules (true), or only those an unfinished import left unpublished (false): enforced by no isolate until the origin version moves"),
  ...pagingQuery,
  after: z.string().max(160).optional().describe("Only rules after this place in the listing: the previous page's `next` (paging that stays exact while rules are added or deleted)"),
});
const auditQuery = z.object({
  entity: z.enum(AUDITED_ENTITIES).optional(),
  id: z.string().max(128).optional().describe("The entity's id"),
  limit: pagingQuery.limit,
  before: z.coerce.number().int().positive().optional().describe("Only entries with a smaller seq (paging)"),
});

const optionalAuthor = z.object({ author: authorField.optional(), version: z.number().int().positive().optional() }).strict();
const optionalAuthorOnly = z.object({ author: authorField.optional() }).strict();

function ruleWriteResponse(c: Context<AppEnv>, result: RuleWriteResult, status: 200 | 201 = 200): Response {
  if ("error" in result) return result.error === "ERR_NOT_FOUND" ? notFound("rule") : conflict(presentRule(result.current));
  markIsolateSnapshotsStale();
  c.header("ETag", `"${result.rule.version}"`);
  return c.json({ rule: presentRule(result.rule) }, status);
}

adminRoutes.get("/rules", describeRoute({ ...ADMIN, summary: "List rules", responses: { 200: jsonResponse("`{rules: [...], next}`: newest first, each rule with `published`; `next` (null at the end) is the `after` of the next page"), 400: errorResponse("A query parameter is invalid") } }), validQuery(listRulesQuery), async (c) => {
  const { cli, active, published, limit, offset, after } = c.req.valid("query");
  const cliContains = readNumberQuery(c, "cli", cli);
  if (typeof cliContains === "object") return cliContains.response;
  const cursor = after === undefined ? undefined : parseRuleCursor(after);
  if (cursor === null) return invalidQuery("after", "not a cursor this API gave as `next`");
  if (cursor !== undefined && offset > 0) return invalidQuery("after", "give either after or offset, not both");
  const rules = await listRules(c.env.DB, { activeAt: active === "true" ? clockOf(c).now() : undefined, cliContains, published: published === undefined ? undefined : published === "true", limit, offset, after: cursor });
  // A full page may have more after it; `next` is where to continue, null once the listing has ended.
  return c.json({ rules: rules.map(presentRule), next: rules.length === limit ? ruleCursorOf(rules.at(-1)!) : null });
});

adminRoutes.post(
  "/rules",
  describeRoute({ ...ADMIN, summary: "Create a rule", description: IDEMPOTENCY_DOCUMENTATION.description, requestBody: jsonBody(ruleInputSchema(0, DOCUMENTED_PLAN)), responses: { 201: jsonResponse("`{rule}`, with its ETag"), 400: errorResponse("A field is invalid"), ...IDEMPOTENCY_DOCUMENTATION.responses } }),
  idempotentCreate,
  async (c) => {
    const now = clockOf(c).now();
    const body = await readValidBody(c, ruleInputSchema(now, planOf(c)));
    if ("response" in body) return body.response;
    const rule = await createRule(c.env.DB, body.value, actorOf(c, body.value.author), now, (created) => idempotentResponse(c, 201, { rule: presentRule(created) }, `"${created.version}"`));
    return ruleWriteResponse(c, { rule }, 201);
  },
);

adminRoutes.post(
  "/rules/preview",
  describeRoute({
    ...ADMIN,
    summary: "Preview a rule against recent verdicts",
    description: `The body is a rule as \`POST /v1/admin/rules\` takes it, validated the same way; nothing is written or audited. The rule is matched, by the verdict's own matcher, against each of the last ${RECENT_VERDICTS_KEPT} verdicts at the verdict's time (time windows and expiry judged then); \`otherwiseAllowed\` counts the matched verdicts whose action was allow, \`sample\` lists the newest ${PREVIEW_SAMPLE_SIZE} matched.`,
    requestBody: jsonBody(ruleInputSchema(0, DOCUMENTED_PLAN)),
    responses: { 200: jsonResponse("`{window: {verdicts, from, to}, matched, otherwiseAllowed, sample: [{requestId, at, cli, action}]}`"), 400: errorResponse("A field is invalid") },
  }),
  async (c) => {
    const now = clockOf(c).now();
    const body = await readValidBody(c, ruleInputSchema(now, planOf(c)));
    if ("response" in body) return body.response;
    return c.json(await previewRule(c.env.DB, newRule("candidate", body.value, actorOf(c, body.value.author), now)));
  },
);

/**
 * One batch of an import. Rules are written in the batch's order, all or none; `first` is the position
 * of the batch's first rule in the whole import, and with `importId` it names each rule, so a batch
 * sent again writes nothing twice. Only a batch with `publish` moves the origin version: an import
 * publishes once, with its last batch (issue 22 item 7).
 */
const importBatchSchema = (nowMs: number, plan: DiallingPlan) =>
  z
    .object({
      importId: z.uuid(),
      first: z.number().int().min(0).max(1_000_000_000),
      rules: z.array(ruleInputSchema(nowMs, plan)).max(MAX_IMPORT_BATCH),
      publish: z.boolean().default(true),
      author: authorField.optional(),
    })
    .strict();

adminRoutes.post("/rules/import", describeRoute({ ...ADMIN, summary: "Import a batch of rules", description: "All of the batch or none of it; `rules.<i>.<field>` names a bad field. Sending a batch again (same importId and first) writes nothing twice. The origin version moves only with `publish` (default true): send it with the last batch. Until a publishing batch, or any other change that moves the version, the batch's rules are listed with `published: false` and enforced by no isolate; `POST /v1/admin/rules/publish` publishes what an abandoned import left.", requestBody: jsonBody(importBatchSchema(0, DOCUMENTED_PLAN)), responses: { 200: jsonResponse("`{importId, ids, created, publishedVersion}`"), 400: errorResponse("A rule is invalid") } }), async (c) => {
  const now = clockOf(c).now();
  const body = await readValidBody(c, importBatchSchema(now, planOf(c)));
  if ("response" in body) return body.response;
  const { importId, first, rules, publish, author } = body.value;
  const batch = rules.map((input, index) => ({ position: first + index, input }));
  const outcome = await importRules(c.env.DB, importId, batch, actorOf(c, author), now, publish);
  if (publish) markIsolateSnapshotsStale();
  return c.json({ importId, ...outcome });
});

adminRoutes.post(
  "/rules/publish",
  describeRoute({
    ...ADMIN,
    summary: "Publish the rules an unfinished import left",
    description:
      "Moves the origin version, as an import's publishing batch does: every rule listed with `published: false` is then enforced by every isolate within the refresh interval. For an import whose client stopped before its last batch. Admin role; audited (`operation: publish`, before and after: `{version, unpublished}`).",
    requestBody: jsonBody(optionalAuthorOnly),
    responses: { 200: jsonResponse("`{version}`: the origin version the rules are published at"), 400: errorResponse("A field is invalid"), 409: errorResponse("Other writes kept moving the version; send again") },
  }),
  async (c) => {
    const body = await readValidBody(c, optionalAuthorOnly);
    if ("response" in body) return body.response;
    const published = await publishRules(c.env.DB, actorOf(c, body.value.author), clockOf(c).now());
    if (!published) return nativeError(409, "ERR_VERSION_CONFLICT", "other writes kept moving the origin version (each publishes what was written before it); send the publish again");
    markIsolateSnapshotsStale();
    return c.json({ version: published.version });
  },
);

adminRoutes.get("/rules/:id", describeRoute({ ...ADMIN, summary: "Read a rule", responses: { 200: jsonResponse("`{rule}`, with `published` and its ETag"), 404: errorResponse("No such rule") } }), async (c) => {
  const id = c.req.param("id");
  const rule = RULE_ID.test(id) ? await getListedRule(c.env.DB, id) : null;
  if (!rule) return notFound("rule");
  c.header("ETag", `"${rule.version}"`);
  return c.json({ rule: presentRule(rule) });
});

adminRoutes.put("/rules/:id", describeRoute({ ...ADMIN, summary: "Replace a rule", description: "Optimistic versioning: send If-Match or the version you read.", requestBody: jsonBody(ruleReplacementSchema(0, DOCUMENTED_PLAN)), responses: { 200: jsonResponse("`{rule}`"), 409: errorResponse("The rule changed since you read it"), 428: errorResponse("No version given") } }), async (c) => {
  const id = c.req.param("id");
  if (!RULE_ID.test(id)) return notFound("rule");
  const now = clockOf(c).now();
  const body = await readValidBody(c, ruleReplacementSchema(now, planOf(c)));
  if ("response" in body) return body.response;
  const basedOn = basedOnVersion(c, body.value.version);
  if ("response" in basedOn) return basedOn.response;
  if (basedOn.version === undefined) return nativeError(428, "ERR_VERSION_REQUIRED", "send If-Match or a version field with the version you read", { fields: { version: "required" } });
  return ruleWriteResponse(c, await replaceRule(c.env.DB, id, body.value, basedOn.version, actorOf(c, body.value.author), now));
});

adminRoutes.post("/rules/:id/expire", describeRoute({ ...ADMIN, summary: "Expire a rule now", requestBody: jsonBody(optionalAuthor), responses: { 200: jsonResponse("`{rule}`"), 404: errorResponse("No such rule"), 409: errorResponse("The rule changed since you read it") } }), async (c) => {
  const id = c.req.param("id");
  if (!RULE_ID.test(id)) return notFound("rule");
  const body = await readValidBody(c, optionalAuthor);
  if ("response" in body) return body.response;
  const basedOn = basedOnVersion(c, body.value.version);
  if ("response" in basedOn) return basedOn.response;
  return ruleWriteResponse(c, await expireRule(c.env.DB, id, basedOn.version ?? null, actorOf(c, body.value.author), clockOf(c).now()));
});

adminRoutes.delete("/rules/:id", describeRoute({ ...ADMIN, summary: "Delete a rule", responses: { 200: jsonResponse("`{rule}` as it was"), 404: errorResponse("No such rule") } }), validQuery(authorQuery), async (c) => {
  const id = c.req.param("id");
  if (!RULE_ID.test(id)) return notFound("rule");
  const basedOn = basedOnVersion(c, undefined);
  if ("response" in basedOn) return basedOn.response;
  const { author } = c.req.valid("query");
  return ruleWriteResponse(c, await deleteRule(c.env.DB, id, basedOn.version ?? null, actorOf(c, author), clockOf(c).now()));
});

adminRoutes.get("/audit", describeRoute({ ...ADMIN, summary: "Read the audit log", responses: { 200: jsonResponse("`{entries: [...]}`, newest first") } }), validQuery(auditQuery), async (c) => {
  const { entity, id, limit, before } = c.req.valid("query");
  const entries = await listAudit(c.env.DB, { entity, entityId: id, limit, beforeSeq: before });
  return c.json({ entries });
});

adminRoutes.get("/config", describeRoute({ ...ADMIN, summary: "Read the operator configuration, every section", responses: { 200: jsonResponse("`{homeCountry, sections}`") } }), async (c) => {
  const homeCountry = homeCountryOf(c.env);
  const sections = await Promise.all(CONFIG_SECTIONS.map((section) => getConfigSection(c.env.DB, section, homeCountry)));
  return c.json({ homeCountry, sections: Object.fromEntries(sections.map((section) => [section.section, presentSection(section)])) });
});

adminRoutes.get("/config/:section", describeRoute({ ...ADMIN, summary: "Read one configuration section", description: `Sections: ${CONFIG_SECTIONS.join(", ")}.`, responses: { 200: jsonResponse("`{section, document, version}`, with its ETag"), 404: errorResponse("No such section") } }), async (c) => {
  const section = c.req.param("section");
  if (!isConfigSection(section)) return notFound(`configuration section (one of ${CONFIG_SECTIONS.join(", ")})`);
  const current = await getConfigSection(c.env.DB, section, homeCountryOf(c.env));
  c.header("ETag", `"${current.version}"`);
  return c.json(presentSection(current));
});

/** Sections whose documents hold number patterns: their prefixes are shown and refused as ambiguousPrefixes says. */
const PATTERN_SECTIONS: ReadonlySet<ConfigSection> = new Set(["numbering", "allow-list"]);

/** A section as the admin API shows it: prefixes with `+` (withInternationalPrefixes). */
const presentSection = (section: VersionedSection): VersionedSection =>
  PATTERN_SECTIONS.has(section.section) ? { ...section, document: withInternationalPrefixes(section.document) } : section;

const configWriteSchema = (section: ConfigSection) =>
  z
    .object({
      document: CONFIG_SECTION_SCHEMAS[section],
      version: z.number().int().min(0).optional(),
      author: authorField.optional(),
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
  // The CAMARA token goes to camaraBaseUrl: only to a host the deployment allows (issue 22 item 11).
  const deployment: OriginEnv = c.env;
  const refusal = section === "roaming" ? camaraHostRefusal(body.value.document as RoamingSettings, camaraAllowedHosts(deployment)) : null;
  if (refusal) return nativeError(400, "ERR_VALIDATION", `invalid request: document.camaraBaseUrl: ${refusal}`, { fields: { "document.camaraBaseUrl": refusal } });
  const duplicate = section === "ingress" ? duplicateIngressRefusal(body.value.document as IngressConfig) : null;
  if (duplicate) return nativeError(400, "ERR_VALIDATION", `invalid request: ${duplicate.field}: ${duplicate.message}`, { fields: { [duplicate.field]: duplicate.message } });
  const homeCountry = homeCountryOf(c.env);
  const [ambiguous] = PATTERN_SECTIONS.has(section) ? ambiguousPrefixes((body.json as { document?: unknown }).document, planOf(c)) : [];
  if (ambiguous) return nativeError(400, "ERR_VALIDATION", `invalid request: ${ambiguous.field}: ${ambiguous.message}`, { fields: { [ambiguous.field]: ambiguous.message } });
  const result = await putConfigSection(c.env.DB, section, body.value.document, basedOn.version, actorOf(c, body.value.author), clockOf(c).now(), homeCountry);
  if ("error" in result) return conflict(result.current);
  markIsolateSnapshotsStale();
  // The copy a fresh isolate applies while D1 is down follows every change (src/origin/saved-snapshot.ts).
  backgroundTasks(c)(
    saveConfigCopy({ db: c.env.DB, saved: c.env.ORIGIN_SNAPSHOTS }, homeCountry, systemClock.now()).catch((error: unknown) =>
      console.error(JSON.stringify({ level: "error", event: "config-copy-save-failed", error: String(error) })),
    ),
  );
  c.header("ETag", `"${result.section.version}"`);
  return c.json(presentSection(result.section));
});

/** The number in a roaming route's path, read as the verdict reads a caller ID. */
const roamingTnOf = (c: Context<AppEnv>) => readNumberQuery(c, "tn", c.req.param("tn"));

function roamingWriteResponse(c: Context<AppEnv>, result: RoamingWriteResult, status: 200 | 204 = 200): Response {
  if ("error" in result) return result.error === "ERR_NOT_FOUND" ? notFound("roaming entry") : conflict(result.current);
  forgetCachedRoamingStatus(result.entry.tn);
  if (status === 204) return c.body(null, 204);
  c.header("ETag", `"${result.entry.version}"`);
  return c.json(result.entry);
}

const listRoamingQuery = z.object({
  after: z.string().regex(/^[0-9]{0,15}$/, "expected the canonical number (digits) the previous page ended with").default("").describe("The last number of the previous page (paging by number)"),
  limit: pagingQuery.limit,
});

adminRoutes.get("/roaming", describeRoute({ ...ADMIN, summary: "List the roaming table", description: "In number order, a page at a time: pass the `next` of one answer as `after` for the next page.", responses: { 200: jsonResponse("`{entries: [{tn, status, visitedCountry, observedAt, source, version}], next}`; `next` is null on the last page"), 400: errorResponse("A query parameter is invalid") } }), validQuery(listRoamingQuery), async (c) => {
  const { after, limit } = c.req.valid("query");
  const entries = await listRoamingEntries(c.env.DB, after, limit);
  return c.json({ entries, next: entries.length === limit ? entries[entries.length - 1]!.tn : null });
});

adminRoutes.get("/roaming/:tn", describeRoute({ ...ADMIN, summary: "Read a roaming table entry", responses: { 200: jsonResponse("`{tn, status, visitedCountry, observedAt, source, version}`, with its ETag"), 404: errorResponse("No entry") } }), async (c) => {
  const tn = roamingTnOf(c);
  if (typeof tn === "object") return tn.response;
  const entry = tn === undefined ? null : await getRoamingEntry(c.env.DB, tn);
  if (!entry) return notFound("roaming entry");
  c.header("ETag", `"${entry.version}"`);
  return c.json(entry);
});

adminRoutes.put(
  "/roaming/:tn",
  describeRoute({
    ...ADMIN,
    summary: "Write a roaming table entry",
    description: "Versioned: send If-Match (or `version`) with the version you read, 0 for a number without an entry; without one, the write applies only to the entry as it is when it arrives.",
    requestBody: jsonBody(roamingEntrySchema),
    responses: { 200: jsonResponse("The entry as written, with its ETag"), 400: errorResponse("A field is invalid"), 409: errorResponse("The entry changed since you read it") },
  }),
  async (c) => {
    const tn = roamingTnOf(c);
    if (typeof tn === "object") return tn.response;
    const body = await readValidBody(c, roamingEntrySchema);
    if ("response" in body) return body.response;
    // Check 6 would judge such an entry unknown until its time came, with maxObservationAgeSeconds, and young for ever without.
    const future = body.value.observedAt === undefined ? null : futureObservation(body.value.observedAt, clockOf(c).now());
    if (future) return nativeError(400, "ERR_VALIDATION", `invalid request: observedAt: ${future}`, { fields: { observedAt: future } });
    const basedOn = basedOnVersion(c, body.value.version);
    if ("response" in basedOn) return basedOn.response;
    return roamingWriteResponse(c, await putRoamingEntry(c.env.DB, tn!, body.value, basedOn.version, actorOf(c, body.value.author), clockOf(c).now()));
  },
);

adminRoutes.delete("/roaming/:tn", describeRoute({ ...ADMIN, summary: "Delete a roaming table entry", description: "Send If-Match to delete only the version you read.", responses: { 204: { description: "Deleted" }, 404: errorResponse("No entry"), 409: errorResponse("The entry changed since you read it") } }), validQuery(authorQuery), async (c) => {
  const tn = roamingTnOf(c);
  if (typeof tn === "object") return tn.response;
  const basedOn = basedOnVersion(c, undefined);
  if ("response" in basedOn) return basedOn.response;
  return roamingWriteResponse(c, await deleteRoamingEntry(c.env.DB, tn!, basedOn.version, actorOf(c, c.req.valid("query").author), clockOf(c).now()), 204);
});

adminRoutes.post(
  "/trust/audit",
  describeRoute({
    ...ADMIN,
    summary: "Record the trust anchors and CRLs now in KV in the audit log",
    description:
      "`trust push` and `crl push` write KV with Cloudflare credentials the Worker never sees; they then call this route (with `--url`), so the audit log holds who pushed, and what is in KV as the Worker reads it. A document unchanged since its last record writes nothing.",
    requestBody: jsonBody(optionalAuthorOnly),
    responses: { 200: jsonResponse("`{recorded: [keys whose change was recorded], documents: {key: summary}}`") },
  }),
  async (c) => {
    const body = await readValidBody(c, optionalAuthorOnly);
    if ("response" in body) return body.response;
    return c.json(await recordTrustSet(c.env.DB, c.env.TRUST, actorOf(c, body.value.author), clockOf(c).now()));
  },
);
