import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../../../src/app";
import { STORE_RETRY_AFTER_SECONDS } from "../../../src/api/native-errors";
import { adminAuth } from "../support/auth";

afterEach(() => vi.restoreAllMocks());

/** A D1 binding whose every query fails with `message`, as the real binding reports a failed query. */
function failingD1(message: string) {
  const fail = () => Promise.reject(new Error(message));
  const statement: Record<string, unknown> = { bind: () => statement, first: fail, all: fail, run: fail, raw: fail };
  return { prepare: () => statement, batch: fail, exec: fail };
}

const adminRequest = (method: string, path: string, DB: unknown, body?: unknown) =>
  createApp().request(
    path,
    { method, headers: { ...adminAuth, ...(body === undefined ? {} : { "Content-Type": "application/json" }) }, body: body === undefined ? undefined : JSON.stringify(body) },
    { ...env, DB },
  );

describe("the operator API when D1 does not answer", () => {
  it.each([
    ["GET", "/v1/admin/rules", undefined],
    ["POST", "/v1/admin/rules", { criteria: { cli: { prefix: "7916555" } }, action: "block", reason: "bank impersonation campaign", author: "analyst.aigerim" }],
    ["GET", "/v1/stats", undefined],
    ["GET", "/v1/reports", undefined],
  ] as const)("%s %s answers 503 with Retry-After, not 500", async (method, path, body) => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const response = await adminRequest(method, path, failingD1("D1_ERROR: Network connection lost."), body);
    expect(response.status).toBe(503);
    expect(response.headers.get("Retry-After")).toBe(String(STORE_RETRY_AFTER_SECONDS));
    expect(await response.json()).toMatchObject({ error: { code: "ERR_STORE_UNAVAILABLE" } });
    // The outage is still logged for the operator, with the request id the response carries.
    expect(logged.mock.calls.map(([line]) => String(line)).join("\n")).toContain(response.headers.get("X-RequestID")!);
  });

  it("keeps a fault in our own query a 500: D1_TYPE_ERROR is not an outage", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const response = await adminRequest("GET", "/v1/admin/rules", failingD1("D1_TYPE_ERROR: Type 'object' not supported for value '[object Object]'"));
    expect(response.status).toBe(500);
    expect(response.headers.get("Retry-After")).toBeNull();
    expect(await response.json()).toMatchObject({ error: { code: "ERR_INTERNAL" } });
  });
});
