import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../../src/app";
import { sha256Hex } from "../../../src/lib/sha256";
import { adminAuth, NAMED, sbcAuth } from "../support/auth";

/**
 * Issue 20 "Named analysts and roles", as a matrix over every operator route the router knows:
 * viewer (dashboard, statistics, recent verdicts) < analyst (+ rules, reports, the audit log) < admin
 * (+ configuration, the roaming table, the trust-set record). Scrape tokens open /metrics only; an
 * SBC key opens none of them.
 */
const ROLE_BY_PREFIX: [prefix: string, role: "viewer" | "analyst" | "admin"][] = [
  ["/v1/stats", "viewer"],
  ["/v1/admin/verdicts", "viewer"],
  ["/v1/admin/rules/publish", "admin"],
  ["/v1/admin/rules", "analyst"],
  ["/v1/admin/audit", "analyst"],
  ["/v1/reports", "analyst"],
  ["/v1/admin/config", "admin"],
  ["/v1/admin/roaming", "admin"],
  ["/v1/admin/trust", "admin"],
];
const RANK = { viewer: 0, analyst: 1, admin: 2 } as const;

const SAMPLE_PARAMETERS: Record<string, string> = { id: "123e4567-e89b-12d3-a456-426655440000", section: "policy", tn: "77012345678" };
const OPERATOR_ROUTES = [
  ...new Set(
    createApp()
      .routes.filter((route) => route.method !== "ALL" && !route.path.includes("*") && /^\/(v1\/admin|v1\/reports|v1\/stats)/.test(route.path))
      .map((route) => `${route.method} ${route.path}`),
  ),
];

const roleFor = (route: string) => ROLE_BY_PREFIX.find(([prefix]) => route.split(" ")[1]!.startsWith(prefix))?.[1];

const SCRAPE_TOKEN = "test-scrape-token";
const bindings = { ...env, METRICS_TOKENS_SHA256: await sha256Hex(SCRAPE_TOKEN) };

function call(route: string, headers: Record<string, string>) {
  const [method, pattern] = route.split(" ") as [string, string];
  const path = pattern.replace(/:(\w+)/g, (_, name: string) => SAMPLE_PARAMETERS[name] ?? "x");
  const body = method === "GET" || method === "DELETE" ? undefined : "{}";
  return createApp().request(path, { method, headers: { ...headers, ...(body ? { "Content-Type": "application/json" } : {}) }, body }, bindings);
}

describe("role boundaries", () => {
  it("every operator route is in the matrix", () => {
    expect(OPERATOR_ROUTES.length).toBeGreaterThanOrEqual(15);
    expect(OPERATOR_ROUTES.filter((route) => roleFor(route) === undefined)).toEqual([]);
  });

  it.each(Object.entries(NAMED))("a %s token opens exactly the routes of its role and those below", async (held, { name, headers }) => {
    for (const route of OPERATOR_ROUTES) {
      const needed = roleFor(route)!;
      const response = await call(route, headers);
      if (RANK[held as keyof typeof RANK] >= RANK[needed]) {
        expect([401, 403], `${held} on ${route}`).not.toContain(response.status);
      } else {
        expect(response.status, `${held} on ${route}`).toBe(403);
        expect(await response.json()).toEqual({ error: { code: "ERR_FORBIDDEN", message: `${name} holds the ${held} role; this route needs the ${needed} role` } });
      }
    }
  });

  it("a digest-only token (ADMIN_TOKENS_SHA256) is an admin", async () => {
    for (const route of OPERATOR_ROUTES) expect([401, 403], route).not.toContain((await call(route, adminAuth)).status);
  });

  it.each([
    ["a scrape token", { Authorization: `Bearer ${SCRAPE_TOKEN}` }],
    ["an SBC key", sbcAuth],
  ])("%s opens no operator route", async (_, headers) => {
    for (const route of OPERATOR_ROUTES) expect((await call(route, headers)).status, route).toBe(401);
  });

  it.each([
    ["a scrape token", { Authorization: `Bearer ${SCRAPE_TOKEN}` }, 200],
    ["a viewer", NAMED.viewer.headers, 200],
    ["an admin", NAMED.admin.headers, 200],
    ["an SBC key", sbcAuth, 401],
  ])("/metrics takes %s", async (_, headers, status) => {
    expect((await call("GET /metrics", headers)).status).toBe(status);
  });

  it("a token whose ADMIN_TOKENS entry does not read opens nothing", async () => {
    const broken = { ...env, ADMIN_TOKENS: `eve:superuser:${await sha256Hex("eve-token")},:admin:${await sha256Hex("nameless-token")}` };
    for (const token of ["eve-token", "nameless-token"]) {
      expect((await createApp().request("/v1/stats", { headers: { Authorization: `Bearer ${token}` } }, broken)).status).toBe(401);
    }
  });
});
