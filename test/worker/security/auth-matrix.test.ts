import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../../src/app";
import { adminAuth, sbcAuth } from "../support/auth";

/**
 * Who may call what, over every route the application registers — listed from the router itself, so
 * a route added later is covered without touching this file. Only these answer without credentials:
 * the liveness probe, and the static documents that hold no operator data (the dashboard page and its
 * files, which fetch every figure from the admin API with the analyst's token; the API description).
 */
const PUBLIC_ROUTES = new Set(["GET /healthz", "GET /dashboard", "GET /dashboard/assets/:file", "GET /openapi.json", "GET /docs"]);
/** Operator surfaces: an SBC's key opens none of them. */
const OPERATOR_PREFIXES = ["/v1/admin", "/v1/reports", "/v1/stats", "/metrics"];

const SAMPLE_PARAMETERS: Record<string, string> = { id: "123e4567-e89b-12d3-a456-426655440000", section: "policy", tn: "77012345678", file: "dashboard.js" };

/** Every concrete (method, path) the router knows; middleware (`ALL`, wildcards) is not a route. */
const ROUTES = [...new Set(createApp().routes.filter((route) => route.method !== "ALL" && !route.path.includes("*")).map((route) => `${route.method} ${route.path}`))];

function requestFor(route: string, authorization: string | undefined) {
  const [method, pattern] = route.split(" ") as [string, string];
  const path = pattern.replace(/:(\w+)/g, (_, name: string) => SAMPLE_PARAMETERS[name] ?? "x");
  const body = method === "GET" || method === "DELETE" ? undefined : "{}";
  const headers: Record<string, string> = body === undefined ? {} : { "Content-Type": "application/json", "Content-Length": "2" };
  if (authorization !== undefined) headers.Authorization = authorization;
  return createApp().request(path, { method, headers, body }, env);
}

async function expectUnauthenticated(route: string, response: Response) {
  expect(response.status, route).toBe(401);
  expect(response.headers.get("WWW-Authenticate"), route).toMatch(/^Bearer /);
  const body = await response.json();
  if (route.includes(" /stir/")) expect(body, route).toMatchObject({ requestError: { policyException: { messageId: "POL4001" } } });
  else expect(body, route).toMatchObject({ error: { code: "ERR_UNAUTHENTICATED", message: expect.any(String) } });
}

const PROTECTED = ROUTES.filter((route) => !PUBLIC_ROUTES.has(route));

describe("authentication on every route", () => {
  it("the router lists the routes this matrix covers", () => {
    expect(PROTECTED).toEqual(expect.arrayContaining(["POST /stir/v1/verification", "POST /v1/verdict", "GET /v1/admin/rules", "POST /v1/reports", "GET /v1/stats"]));
  });

  it("answers the public routes without credentials", async () => {
    for (const route of ROUTES.filter((candidate) => PUBLIC_ROUTES.has(candidate))) expect((await requestFor(route, undefined)).status, route).toBe(200);
  });

  it.each([
    ["missing", undefined],
    ["empty", ""],
    ["another scheme", "Basic dGVzdC1zYmMta2V5Og=="],
    ["a bare scheme", "Bearer"],
    ["two tokens", "Bearer test-sbc-key extra"],
    // ASCII: a header value with a non-ASCII character makes workerd print a warning for every request.
    ["characters outside token68", "Bearer test-sbc-key!"],
    ["an oversized key", `Bearer ${"k".repeat(4096)}`],
    ["a wrong key", "Bearer not-a-configured-key"],
  ])("rejects %s credentials with 401 in the endpoint's error format", async (_case, authorization) => {
    for (const route of PROTECTED) await expectUnauthenticated(route, await requestFor(route, authorization));
  });
});

describe("an SBC's key opens the verification endpoints only", () => {
  const operatorRoutes = PROTECTED.filter((route) => OPERATOR_PREFIXES.some((prefix) => route.split(" ")[1]!.startsWith(prefix)));

  it("covers every operator route", () => {
    expect(operatorRoutes.length).toBeGreaterThanOrEqual(15);
    expect(PROTECTED.filter((route) => !operatorRoutes.includes(route)).sort()).toEqual(["POST /stir/v1/verification", "POST /v1/verdict"]);
  });

  it("is refused on every admin, report, statistics and metrics route", async () => {
    for (const route of operatorRoutes) await expectUnauthenticated(route, await requestFor(route, sbcAuth.Authorization));
  });
});

describe("rules need an admin token", () => {
  const rule = JSON.stringify({ criteria: { cli: { exact: "77272500001" } }, action: "block", reason: "auth matrix" });
  const createRuleWith = (authorization: string) =>
    createApp().request("/v1/admin/rules", { method: "POST", headers: { Authorization: authorization, "Content-Type": "application/json" }, body: rule }, env);

  it("refuses an SBC key and accepts the admin token", async () => {
    await expectUnauthenticated("POST /v1/admin/rules", await createRuleWith(sbcAuth.Authorization));
    expect((await createRuleWith(adminAuth.Authorization)).status).toBe(201);
  });
});
