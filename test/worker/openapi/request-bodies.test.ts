import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import readme from "../../../README.md?raw";
import { manualClock, operatorApp } from "../admin/support";

/**
 * Issue 23 item 6: every write route's request body is in the OpenAPI document, generated from the
 * zod schema the route validates with, and the README shows one body for each configuration section,
 * rules, reports and roaming entries. The document's schema (read back as JSON Schema) and the route
 * must agree: both take the README's example, both refuse it with a member neither defines.
 */
const WRITE_METHODS = ["post", "put", "patch"] as const;
type JsonSchema = { title?: string; anyOf?: JsonSchema[]; [keyword: string]: unknown };
type Operation = { requestBody?: { content?: Record<string, { schema?: JsonSchema }> } };
type Document = { paths: Record<string, Partial<Record<(typeof WRITE_METHODS)[number], Operation>>> };

/** After the README's example times (27 Nov 2026), before its rule's expiry. */
const NOW = Date.parse("2026-11-28T00:00:00Z");

async function openApiDocument(): Promise<Document> {
  return (await (await operatorApp(manualClock(NOW)).app.request("/openapi.json", {}, env)).json()) as Document;
}

interface ReadmeExample {
  method: string;
  path: string;
  body: Record<string, unknown>;
}

/** The README's ```http blocks: `METHOD /path` on the first line, the JSON body after it. */
function readmeExamples(): ReadmeExample[] {
  return [...readme.matchAll(/^```http\n(POST|PUT|PATCH) (\S+)\n([\s\S]*?)^```$/gm)].map(([, method, path, body]) => ({ method: method!, path: path!, body: JSON.parse(body!) as Record<string, unknown> }));
}

/** The document's operation for a concrete path: `/v1/admin/config/ingress` is `/v1/admin/config/{section}`. */
function documentedBodySchema(document: Document, method: string, path: string): JsonSchema {
  const template = Object.keys(document.paths).find((candidate) => new RegExp(`^${candidate.replace(/\{[^}]+\}/g, "[^/]+")}$`).test(path));
  const schema = template && document.paths[template]?.[method.toLowerCase() as (typeof WRITE_METHODS)[number]]?.requestBody?.content?.["application/json"]?.schema;
  if (!schema) throw new Error(`no documented JSON body for ${method} ${path}`);
  // A body that depends on a path value is one alternative per value, titled with it.
  const titled = schema.anyOf?.find((alternative) => alternative.title !== undefined && path.endsWith(`/${alternative.title}`));
  return titled ?? schema;
}

const acceptedBySchema = (schema: JsonSchema, body: unknown) => z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]).safeParse(body).success;

describe("every write route documents its JSON request body", () => {
  it("each POST, PUT and PATCH operation has a request body schema", async () => {
    const document = await openApiDocument();
    const writes = Object.entries(document.paths).flatMap(([path, item]) => WRITE_METHODS.filter((method) => item[method]).map((method) => ({ operation: `${method.toUpperCase()} ${path}`, schema: item[method]!.requestBody?.content?.["application/json"]?.schema })));
    expect(writes.length).toBeGreaterThan(8);
    expect(writes.filter(({ schema }) => schema === undefined || Object.keys(schema).length === 0).map(({ operation }) => operation)).toEqual([]);
  });

  it("PUT /v1/admin/config/{section} has one alternative per section, titled with its name", async () => {
    const schema = (await openApiDocument()).paths["/v1/admin/config/{section}"]!.put!.requestBody!.content!["application/json"]!.schema!;
    expect(schema.anyOf?.map((alternative) => alternative.title)).toEqual(["ingress", "numbering", "allow-list", "policy", "roaming", "attestation"]);
  });
});

describe("the README's example request bodies", () => {
  const examples = readmeExamples();
  const named = examples.map((example) => [`${example.method} ${example.path}`, example] as const);

  it("cover every configuration section, rules and their preview, fraud reports and roaming entries", () => {
    expect(named.map(([name]) => name)).toEqual([
      "PUT /v1/admin/config/ingress",
      "PUT /v1/admin/config/numbering",
      "PUT /v1/admin/config/allow-list",
      "PUT /v1/admin/config/policy",
      "PUT /v1/admin/config/attestation",
      "PUT /v1/admin/config/roaming",
      "PUT /v1/admin/roaming/77051234567",
      "POST /v1/admin/rules",
      "POST /v1/admin/rules/preview",
      "POST /v1/reports",
    ]);
  });

  it.each(named)("%s: the documented schema takes it, and so does the route", async (_name, { method, path, body }) => {
    expect(acceptedBySchema(documentedBodySchema(await openApiDocument(), method, path), body)).toBe(true);
    const response = await operatorApp(manualClock(NOW)).send(method, path, body);
    expect(response.status, await response.clone().text()).toBeLessThan(300);
  });

  it.each(named)("%s with a member neither defines: the documented schema refuses it, and the route answers 400 naming it", async (_name, { method, path, body }) => {
    const wrong = { ...body, colour: "blue" };
    expect(acceptedBySchema(documentedBodySchema(await openApiDocument(), method, path), wrong)).toBe(false);
    const response = await operatorApp(manualClock(NOW)).send(method, path, wrong);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: "ERR_VALIDATION", message: expect.stringContaining('"colour"') } });
  });

  it("a configuration section's body is documented and accepted for that section only", async () => {
    const ingress = examples.find((example) => example.path === "/v1/admin/config/ingress")!;
    expect(acceptedBySchema(documentedBodySchema(await openApiDocument(), "PUT", "/v1/admin/config/policy"), ingress.body)).toBe(false);
    expect((await operatorApp(manualClock(NOW)).send("PUT", "/v1/admin/config/policy", ingress.body)).status).toBe(400);
  });
});
