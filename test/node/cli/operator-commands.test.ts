import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { cli } from "./support";

/** The operator API as far as the CLI uses it: records each request, answers as the Worker does. */
interface Seen {
  method: string;
  path: string;
  query: Record<string, string>;
  authorization: string | undefined;
  body: Record<string, unknown> | null;
}
let server: Server;
let url: string;
let seen: Seen[] = [];

const RULE = { id: "5f0c2f8e-1d2a-4c59-9a57-2b8e3c1f0a11", criteria: { cli: { prefix: "7727250" } }, action: "block", reason: "bank spoofing wave", label: null, author: "analyst", expiresAt: null, reportId: null, version: 1 };
const REPORT = { id: "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d", victim: "77012345678", presentedCli: "77272501234", time: "2026-11-27T10:00:00.000Z", channel: "call", notes: "caller said he was the bank" };

beforeAll(async () => {
  server = createServer((request, response) => {
    let text = "";
    request.on("data", (chunk: Buffer) => (text += chunk.toString()));
    request.on("end", () => {
      const requestUrl = new URL(request.url ?? "/", "http://stub");
      seen.push({ method: request.method ?? "", path: requestUrl.pathname, query: Object.fromEntries(requestUrl.searchParams), authorization: request.headers.authorization, body: text ? (JSON.parse(text) as Record<string, unknown>) : null });
      const answer = (status: number, body: unknown) => response.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
      if (request.headers.authorization !== "Bearer admin-secret") return answer(401, { error: { code: "ERR_UNAUTHENTICATED", message: "the bearer key is not accepted" } });
      if (request.method === "POST" && requestUrl.pathname === "/v1/admin/rules") return answer(201, { rule: { ...RULE, ...(JSON.parse(text) as object) } });
      if (request.method === "GET" && requestUrl.pathname === "/v1/admin/rules") return answer(200, { rules: requestUrl.searchParams.get("published") === "false" ? [{ ...RULE, published: false }] : [{ ...RULE, published: true }] });
      if (request.method === "POST" && requestUrl.pathname === `/v1/admin/rules/${RULE.id}/expire`) return answer(200, { rule: { ...RULE, expiresAt: "2026-11-27T12:00:00.000Z", version: 2 } });
      if (request.method === "GET" && requestUrl.pathname === "/v1/reports") return answer(200, { reports: [REPORT] });
      if (request.method === "POST" && requestUrl.pathname === "/v1/reports") {
        const filed = JSON.parse(text) as { presentedCli: string; victim: string; time: string; channel: string; notes?: string };
        return answer(201, { report: { id: REPORT.id, presentedCli: filed.presentedCli.replace(/\D/g, ""), victim: filed.victim.replace(/\D/g, ""), callTime: filed.time, channel: filed.channel, notes: filed.notes ?? null } });
      }
      return answer(404, { error: { code: "ERR_NOT_FOUND", message: "no such route" } });
    });
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((done) => server.close(() => done())));
beforeEach(() => {
  seen = [];
});

describe("rules and reports from the command line (the operator API)", () => {
  it("rules add sends the criteria, action, reason and author with the admin token", async () => {
    const run = await cli("rules", "add", "--cli-prefix", "7727250", "--carrier", "TransitCo", "--reason", "bank spoofing wave", "--author", "analyst", "--ttl", "7d", "--url", url, "--token", "admin-secret", "--json");
    expect(run.code).toBe(0);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: "POST", path: "/v1/admin/rules", authorization: "Bearer admin-secret" });
    expect(seen[0]!.body).toMatchObject({ criteria: { cli: { prefix: "7727250" }, carrier: "TransitCo" }, action: "block", reason: "bank spoofing wave", author: "analyst" });
    expect(typeof seen[0]!.body!.expiresAt).toBe("string");
    expect(JSON.parse(run.stdout)).toMatchObject({ id: RULE.id, criteria: { carrier: "TransitCo" } });
  });

  it("rules add --name sends a phrase of the caller's display name, alone or beside other criteria", async () => {
    const run = await cli("rules", "add", "--name", "Halyk Bank", "--trunk", "intl-1", "--reason", "bank name from abroad", "--url", url, "--token", "admin-secret", "--json");
    expect(run.code).toBe(0);
    expect(seen[0]!.body).toMatchObject({ criteria: { name: "Halyk Bank", trunk: "intl-1" }, action: "block" });
  });

  it("rules list passes its filters and prints the rules", async () => {
    const run = await cli("rules", "list", "--active", "--cli", "7727", "--limit", "10", "--url", url, "--token", "admin-secret");
    expect(run.code).toBe(0);
    expect(seen[0]).toMatchObject({ method: "GET", path: "/v1/admin/rules", query: { active: "true", cli: "7727", limit: "10" } });
    expect(run.stdout).toContain(RULE.id);
    expect(run.stdout).toContain("7727250");
    expect(run.stdout).not.toContain("NOT PUBLISHED");
  });

  it("rules list --unpublished asks for the rules an unfinished import left, and says they are not published", async () => {
    const run = await cli("rules", "list", "--unpublished", "--url", url, "--token", "admin-secret");
    expect(run.code).toBe(0);
    expect(seen[0]).toMatchObject({ method: "GET", path: "/v1/admin/rules", query: { published: "false" } });
    expect(run.stdout).toMatch(new RegExp(`^${RULE.id}  block    NOT PUBLISHED \\{`));
  });

  it("rules expire expires one rule by id", async () => {
    const run = await cli("rules", "expire", RULE.id, "--author", "analyst", "--url", url, "--token", "admin-secret", "--json");
    expect(run.code).toBe(0);
    expect(seen[0]).toMatchObject({ method: "POST", path: `/v1/admin/rules/${RULE.id}/expire` });
    expect(JSON.parse(run.stdout)).toMatchObject({ id: RULE.id, expiresAt: "2026-11-27T12:00:00.000Z" });
  });

  it("reports list passes its filters and prints the reports", async () => {
    const run = await cli("reports", "list", "--cli", "+77272501234", "--since", "2026-11-01T00:00:00Z", "--url", url, "--token", "admin-secret");
    expect(run.code).toBe(0);
    expect(seen[0]).toMatchObject({ method: "GET", path: "/v1/reports" });
    expect(seen[0]!.query.since).toBe("2026-11-01T00:00:00Z");
    expect(run.stdout).toContain("77272501234");
  });

  it("reports add files a report with the admin token and prints it", async () => {
    const run = await cli("reports", "add", "--cli", "+77272501234", "--victim", "+77012345678", "--time", "2026-11-27T10:00:00Z", "--channel", "call-centre", "--notes", "caller said he was the bank", "--url", url, "--token", "admin-secret");
    expect(run.code).toBe(0);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: "POST", path: "/v1/reports", authorization: "Bearer admin-secret" });
    expect(seen[0]!.body).toEqual({ presentedCli: "+77272501234", victim: "+77012345678", time: "2026-11-27T10:00:00Z", channel: "call-centre", notes: "caller said he was the bank" });
    expect(run.stdout).toBe(`filed ${REPORT.id}  2026-11-27T10:00:00Z  +77272501234 → +77012345678  (call-centre)  caller said he was the bank\n`);
  });

  it("reports add takes the token from SHAKEN_EDGE_ADMIN_TOKEN", async () => {
    process.env.SHAKEN_EDGE_ADMIN_TOKEN = "admin-secret";
    try {
      const run = await cli("reports", "add", "--cli", "77272501234", "--victim", "77012345678", "--time", "2026-11-27T10:00:00Z", "--channel", "app", "--url", url, "--json");
      expect(run.code).toBe(0);
      expect(seen[0]).toMatchObject({ authorization: "Bearer admin-secret" });
      expect(JSON.parse(run.stdout)).toMatchObject({ id: REPORT.id, channel: "app" });
    } finally {
      delete process.env.SHAKEN_EDGE_ADMIN_TOKEN;
    }
  });

  it("reports add without a required field sends nothing: one line, exit 2", async () => {
    const run = await cli("reports", "add", "--cli", "77272501234", "--victim", "77012345678", "--channel", "app", "--url", url, "--token", "admin-secret");
    expect(run).toMatchObject({ code: 2, stdout: "", stderr: "shaken-edge reports add: --time is required\n" });
    expect(seen).toHaveLength(0);
  });

  it("a refused token is a one-line error and a non-zero exit", async () => {
    const run = await cli("rules", "list", "--url", url, "--token", "wrong");
    expect(run.code).not.toBe(0);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toMatch(/not accepted|401/);
  });

  it("an unreachable instance is a one-line error, exit 2", async () => {
    const run = await cli("reports", "list", "--url", "http://127.0.0.1:9", "--token", "admin-secret");
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
  });
});
