import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { createApp } from "../../../src/app";
import { adminAuth, sbcAuth } from "../support/auth";

/**
 * Issue 22 item 13: a caller without credentials learns nothing about the deployment. Authentication
 * runs before the query is read and before the configuration is, on every route.
 */
const ROUTES = [
  ["POST", "/v1/verdict"],
  ["POST", "/stir/v1/verification"],
  ["GET", "/v1/admin/rules"],
  ["GET", "/v1/reports"],
  ["GET", "/v1/stats"],
  ["GET", "/metrics"],
] as const;

const send = (bindings: object, method: string, path: string, headers: Record<string, string> = {}) =>
  createApp().request(path, { method, headers: { "Content-Type": "application/json", ...headers }, body: method === "POST" ? "{}" : undefined }, bindings);

/** A deployment whose settings do not read: the runtime refuses to start with an ERR_CONFIG naming the variable. */
const misconfigured = { ...env, VERDICT_BUDGET_MS: "soon" };

describe("a misconfigured setting is not shown to an unauthenticated caller", () => {
  it.each(ROUTES)("%s %s answers 401 without credentials, not the 500 naming the setting", async (method, path) => {
    const response = await send(misconfigured, method, path);
    expect(response.status).toBe(401);
    expect(await response.text()).not.toMatch(/VERDICT_BUDGET_MS|ERR_CONFIG/);
  });

  it("still names the setting to a caller who is authenticated", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const response = await send(misconfigured, "GET", "/v1/admin/rules", adminAuth);
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({ error: { code: "ERR_CONFIG", message: expect.stringContaining("VERDICT_BUDGET_MS") } });
    expect(logged).toHaveBeenCalledOnce();
    logged.mockRestore();
  });
});

describe("a repeated query parameter is judged after authentication", () => {
  it.each([
    ["GET", "/v1/admin/rules?limit=1&limit=2"],
    ["GET", "/v1/stats?top=1&top=2"],
    ["POST", "/v1/verdict?trunk=a&trunk=b"],
  ])("%s %s without credentials answers 401, not 400", async (method, path) => {
    expect((await send(env, method, path)).status).toBe(401);
  });

  it("answers 400 naming the parameter once the caller is authenticated", async () => {
    const response = await send(env, "GET", "/v1/admin/rules?limit=1&limit=2", adminAuth);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: "ERR_VALIDATION", field: "limit" } });
  });
});

describe("a refusal says which credential the route needs (issue 23 item 9)", () => {
  it.each([
    ["POST", "/v1/verdict", adminAuth, /needs an SBC key/],
    ["GET", "/v1/admin/rules", sbcAuth, /needs an operator token \(ADMIN_TOKENS\)/],
    ["GET", "/metrics", sbcAuth, /needs a metrics scrape token or an operator token/],
    ["GET", "/v1/admin/rules", {}, /needs an operator token .*Authorization: Bearer/],
  ] as const)("%s %s with the wrong credential", async (method, path, headers, expected) => {
    const response = await send(env, method, path, headers);
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(expected);
  });

  it("in the ATIS error format on the ATIS endpoint", async () => {
    const response = await send(env, "POST", "/stir/v1/verification", adminAuth);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ requestError: { policyException: { messageId: "POL4001", variables: [expect.stringMatching(/needs an SBC key/)] } } });
  });

  it("mentions Cloudflare Access where the deployment uses it", async () => {
    const response = await send({ ...env, ACCESS_TEAM_DOMAIN: "shaken-test.cloudflareaccess.com", ACCESS_AUD: "aud" }, "GET", "/v1/admin/rules");
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/or a Cloudflare Access sign-in/);
  });
});
