import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../../src/app";
import { adminAuth } from "../support/auth";

const get = (path: string) => createApp().request(path, { headers: adminAuth }, env);

describe("list routes validate their query with the schema the OpenAPI document shows", () => {
  it.each([
    ["/v1/admin/rules?limit=0", "limit"],
    ["/v1/admin/rules?cli=abc", "cli"],
    ["/v1/admin/rules?active=maybe", "active"],
    ["/v1/admin/rules?published=maybe", "published"],
    ["/v1/admin/audit?entity=user", "entity"],
    ["/v1/admin/audit?before=-1", "before"],
    ["/v1/reports?since=yesterday", "since"],
    ["/v1/reports?offset=x", "offset"],
    ["/v1/reports?cli=bank", "cli"],
    ["/v1/stats?top=501", "top"],
    ["/v1/admin/rules?limit=1&limit=2", "limit"],
    ["/v1/reports?cli=%2B7727&since=2026-01-01T00:00:00Z&cli=%2B7701", "cli"],
  ])("%s → 400 naming %s", async (path, field) => {
    const response = await get(path);
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: string; fields: Record<string, string> } };
    expect(body.error.code).toBe("ERR_VALIDATION");
    expect(Object.keys(body.error.fields)).toContain(field);
  });

  it("accepts a valid query, '+' before a number included", async () => {
    expect((await get("/v1/admin/rules?cli=%2B7727&active=true&limit=5&offset=0")).status).toBe(200);
    expect((await get("/v1/reports?cli=%2B77272501234&since=2026-01-01T00:00:00Z")).status).toBe(200);
  });

  it("documents those parameters in /openapi.json", async () => {
    const document = (await (await createApp().request("/openapi.json", {}, env)).json()) as { paths: Record<string, Record<string, { parameters?: { name: string; in: string }[] }>> };
    const names = (path: string) => (document.paths[path]?.get?.parameters ?? []).filter((parameter) => parameter.in === "query").map((parameter) => parameter.name).sort();
    expect(names("/v1/admin/rules")).toEqual(["active", "after", "cli", "limit", "offset", "published"]);
    expect(names("/v1/reports")).toEqual(["after", "cli", "limit", "offset", "since"]);
    expect(names("/v1/stats")).toEqual(["from", "to", "top"]);
  });
});
