import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../../src/app";

const app = createApp();
const HTTP_METHODS = ["get", "put", "post", "delete", "patch", "head", "options"] as const;

interface Operation {
  operationId?: string;
  summary?: string;
  responses?: Record<string, unknown>;
  parameters?: { name: string; in: string }[];
}
type Document = { openapi: string; info: { title: string; version: string }; paths: Record<string, Partial<Record<(typeof HTTP_METHODS)[number], Operation>>>; components: { securitySchemes: Record<string, unknown> } };

async function fetchDocument(): Promise<Document> {
  const response = await app.request("/openapi.json", {}, env);
  expect(response.status).toBe(200);
  return (await response.json()) as Document;
}

/** Every method + path the application answers, in OpenAPI path syntax; catch-all ALL routes (405/404 answers, middleware) are not operations. */
function mountedOperations(): string[] {
  const operations = app.routes.filter((route) => route.method !== "ALL").map((route) => `${route.method} ${route.path.replace(/:([A-Za-z0-9_]+)/g, "{$1}")}`);
  return [...new Set(operations)].sort();
}

function documentedOperations(document: Document): string[] {
  return Object.entries(document.paths)
    .flatMap(([path, item]) => HTTP_METHODS.filter((method) => item[method]).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();
}

describe("GET /openapi.json", () => {
  it("is an OpenAPI 3.1 document", async () => {
    const document = await fetchDocument();
    expect(document.openapi).toMatch(/^3\.1\.\d+$/);
    expect(document.info).toMatchObject({ title: "shaken-edge", version: expect.any(String) });
    expect(Object.keys(document.components.securitySchemes).sort()).toEqual(["adminToken", "cloudflareAccess", "metricsToken", "sbcKey"]);
    const operationIds = new Set<string>();
    for (const [path, item] of Object.entries(document.paths)) {
      expect(path).toMatch(/^\//);
      for (const method of HTTP_METHODS) {
        const operation = item[method];
        if (!operation) continue;
        expect(operation.summary, `${method} ${path}`).toEqual(expect.any(String));
        expect(Object.keys(operation.responses ?? {}), `${method} ${path}`).not.toHaveLength(0);
        expect(operationIds.has(operation.operationId!), `duplicate operationId ${operation.operationId}`).toBe(false);
        operationIds.add(operation.operationId!);
        const pathParameters = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]);
        expect((operation.parameters ?? []).filter((parameter) => parameter.in === "path").map((parameter) => parameter.name).sort(), `${method} ${path}`).toEqual(pathParameters.sort());
      }
    }
  });

  it("describes every mounted route, so a route added without a description fails here", async () => {
    expect(documentedOperations(await fetchDocument())).toEqual(mountedOperations());
  });

  it.each(["POST /stir/v1/verification", "POST /v1/verdict", "POST /v1/admin/rules", "GET /v1/admin/verdicts", "POST /v1/reports", "GET /v1/stats", "GET /metrics", "GET /healthz"])("covers %s", async (operation) => {
    expect(documentedOperations(await fetchDocument())).toContain(operation);
  });

  it("takes request bodies from the validators' schemas", async () => {
    const document = (await fetchDocument()) as unknown as { paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { required?: string[]; properties?: Record<string, unknown> } }> } }>> };
    const ruleBody = document.paths["/v1/admin/rules"]!.post!.requestBody!.content["application/json"]!.schema;
    expect(ruleBody.required).toEqual(expect.arrayContaining(["criteria", "action", "reason"]));
    const reportBody = document.paths["/v1/reports"]!.post!.requestBody!.content["application/json"]!.schema;
    expect(Object.keys(reportBody.properties!)).toEqual(expect.arrayContaining(["victim", "presentedCli", "time", "channel"]));
  });
});

describe("GET /docs", () => {
  it("renders every operation without scripts", async () => {
    const response = await app.request("/docs", {}, env);
    expect(response.headers.get("Content-Type")).toMatch(/^text\/html/);
    const page = await response.text();
    expect(page).not.toContain("<script");
    for (const operation of mountedOperations()) expect(page).toContain(`<code>${operation.split(" ")[1]}</code>`);
  });
});
