import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { kvTarget } from "../../../cli/wrangler";
import { cli, temporaryDirectory } from "./support";

/** A stand-in for the operator API that answers as the Worker does and records every request. */
interface Seen {
  method: string;
  path: string;
  idempotencyKey: string | undefined;
  authorization: string | undefined;
  body: Record<string, unknown> | null;
}
let server: Server;
let url: string;
let seen: Seen[] = [];
/** Bodies by Idempotency-Key, as the Worker keeps them: a repeated key is answered, not created again. */
const created = new Map<string, unknown>();

const WORKER_VALIDATION_ERROR = {
  error: {
    code: "ERR_VALIDATION",
    message: "invalid request: criteria.cli.exact: expected a telephone number, e.g. +7 727 250 12 34, 8 727 250 12 34 or 77272501234",
    fields: { "criteria.cli.exact": "expected a telephone number, e.g. +7 727 250 12 34, 8 727 250 12 34 or 77272501234" },
  },
};

beforeAll(async () => {
  server = createServer((request, response) => {
    let text = "";
    request.on("data", (chunk: Buffer) => (text += chunk.toString()));
    request.on("end", () => {
      const body = text ? (JSON.parse(text) as Record<string, unknown>) : null;
      const idempotencyKey = request.headers["idempotency-key"] as string | undefined;
      seen.push({ method: request.method ?? "", path: request.url ?? "", idempotencyKey, authorization: request.headers.authorization, body });
      const answer = (status: number, payload: unknown) => response.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(payload));
      if (request.url === "/v1/admin/trust/audit") return answer(200, { recorded: ["crls"], documents: {} });
      const exact = ((body?.criteria as { cli?: { exact?: string } } | undefined)?.cli?.exact ?? "").replace(/[\s()+.-]/g, "");
      if (!/^[0-9]{1,15}$/.test(exact)) return answer(400, WORKER_VALIDATION_ERROR);
      const rule = (idempotencyKey && created.get(idempotencyKey)) ?? { id: `r${seen.length}`, action: "block", reason: body?.reason, author: "aigerim", expiresAt: null, criteria: body?.criteria };
      if (idempotencyKey) created.set(idempotencyKey, rule);
      return answer(201, { rule });
    });
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((done) => server.close(() => done())));
beforeEach(() => {
  seen = [];
});

describe("numbers typed on the command line (issue 23 item 5)", () => {
  it("rules add sends the number as typed; the operator API reads it as the verdict does", async () => {
    const run = await cli("rules", "add", "--cli", "+7 705 111 22 33", "--reason", "spoofed bank", "--url", url, "--token", "t");
    expect(run.code).toBe(0);
    expect(seen[0]!.body).toMatchObject({ criteria: { cli: { exact: "+7 705 111 22 33" } } });
  });

  it("a refused number is printed once, with the field it belongs to", async () => {
    const run = await cli("rules", "add", "--cli", "bank", "--reason", "spoofed bank", "--url", url, "--token", "t");
    expect(run.code).toBe(2);
    expect(run.stderr.match(/expected a telephone number/g)).toHaveLength(1);
    expect(run.stderr).toContain("criteria.cli.exact");
  });
});

describe("a trust or CRL push is recorded in the deployment's audit log (issue 22 item 12)", () => {
  const context = (values: Record<string, string | boolean>, warnings: string[] = []) => ({ values, positionals: [], warn: (message: string) => warnings.push(message), progress: () => {}, write: async () => {} });

  it("with --url, through POST /v1/admin/trust/audit with the admin token", async () => {
    const target = kvTarget(context({ remote: true, url, token: "admin-secret" }));
    await target.recordPush!();
    expect(seen).toEqual([expect.objectContaining({ method: "POST", path: "/v1/admin/trust/audit", authorization: "Bearer admin-secret" })]);
  });

  it("without --url, a remote push warns that it is not recorded", () => {
    const warnings: string[] = [];
    expect(kvTarget(context({ remote: true }, warnings)).recordPush).toBeNull();
    expect(warnings).toEqual([expect.stringContaining("not in the deployment's audit log")]);
    expect(kvTarget(context({ local: true }, warnings)).recordPush).toBeNull();
    expect(warnings).toHaveLength(1);
  });
});
