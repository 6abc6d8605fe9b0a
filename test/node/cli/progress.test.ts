import "reflect-metadata";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { CompactSign } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../../cli/main";
import { progressReporter } from "../../../cli/progress";
import { createDevelopmentCa } from "../../../src/pki";
import { cli, temporaryDirectory } from "./support";

/** The admin API's import endpoint, as far as `rules import` uses it: records batches, rejects a batch holding a reason of "bad". */
interface ImportBatch {
  importId: string;
  first: number;
  rules: Record<string, unknown>[];
  publish: boolean;
  author?: string;
}
interface AdminStub {
  url: string;
  received: { authorization: string | undefined; body: ImportBatch }[];
}
let server: Server;
let stub: AdminStub;

const readBody = (request: IncomingMessage) =>
  new Promise<string>((done) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => done(body));
  });

beforeAll(async () => {
  const received: AdminStub["received"] = [];
  server = createServer(async (request, response) => {
    const body = JSON.parse(await readBody(request)) as ImportBatch;
    if (request.method !== "POST" || request.url !== "/v1/admin/rules/import") return void response.writeHead(404).end();
    const bad = body.rules.findIndex((rule) => rule.reason === "bad");
    if (bad !== -1) {
      response.writeHead(400, { "Content-Type": "application/json" });
      return void response.end(JSON.stringify({ error: { code: "ERR_VALIDATION", message: "invalid rule", fields: { [`rules.${bad}.criteria.cli`]: "expected digits" } } }));
    }
    received.push({ authorization: request.headers.authorization, body });
    response.writeHead(200, { "Content-Type": "application/json" });
    response.end(JSON.stringify({ importId: body.importId, ids: body.rules.map((_, index) => `r${body.first + index}`), created: body.rules.length, publishedVersion: body.publish ? 1 : null }));
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  stub = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
});

afterAll(() => new Promise<void>((done) => server.close(() => done())));

const rule = (n: number, reason = `spoofed campaign ${n}`) => JSON.stringify({ criteria: { cli: { prefix: `7727250${n}` } }, action: "block", reason });

function jsonl(lines: string[]): string {
  const file = join(temporaryDirectory(), "rules.jsonl");
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}

describe("rules import", () => {
  const reasons = () => stub.received.flatMap((request) => request.body.rules.map((rule) => rule.reason));

  it("posts the lines in order, in batches of one import, with the admin token, reporting progress on stderr with --progress", async () => {
    stub.received.length = 0;
    const run = await cli("rules", "import", jsonl([rule(1), "", rule(2), rule(3)]), "--url", stub.url, "--token", "t0k3n", "--author", "bulk", "--progress");
    expect(run.code).toBe(0);
    expect(reasons()).toEqual(["spoofed campaign 1", "spoofed campaign 2", "spoofed campaign 3"]);
    expect(stub.received).toMatchObject([{ authorization: "Bearer t0k3n", body: { first: 0, publish: true, author: "bulk" } }]);
    expect(run.stderr.trim().split("\n").at(-1)).toBe("imported 3/3");
    expect(run.stdout).toMatch(/imported 3 rule\(s\)/);
  });

  it("publishes once, with the last batch: isolates compile the import when it is complete", async () => {
    stub.received.length = 0;
    const run = await cli("rules", "import", jsonl(Array.from({ length: 1_201 }, (_, n) => rule(n))), "--url", stub.url, "--token", "t", "--json");
    expect(run.code).toBe(0);
    expect(stub.received.map(({ body }) => ({ first: body.first, rules: body.rules.length, publish: body.publish }))).toEqual([
      { first: 0, rules: 500, publish: false },
      { first: 500, rules: 500, publish: false },
      { first: 1_000, rules: 201, publish: true },
    ]);
    expect(new Set(stub.received.map(({ body }) => body.importId)).size).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ imported: 1_201, skipped: 0, importId: stub.received[0]!.body.importId });
  });

  it("prints no progress to a non-terminal unless asked", async () => {
    const run = await cli("rules", "import", jsonl([rule(1)]), "--url", stub.url, "--token", "t");
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("");
  });

  it("shows progress by default when stderr is a terminal", async () => {
    let stderr = "";
    const code = await runCli(["rules", "import", jsonl([rule(1), rule(2)]), "--url", stub.url, "--token", "t"], { stdout: () => {}, stderr: (text) => (stderr += `${text}\n`), stderrIsTerminal: true });
    expect(code).toBe(0);
    expect(stderr).toMatch(/^imported 2\/2$/m);
  });

  it("stops at a rejected rule, naming its line and how to resume the same import, and puts in force what went before", async () => {
    stub.received.length = 0;
    const lines = Array.from({ length: 502 }, (_, n) => rule(n));
    lines[500] = rule(500, "bad");
    const file = jsonl(lines);
    const run = await cli("rules", "import", file, "--url", stub.url, "--token", "t");
    expect(run.code).toBe(2);
    const importId = stub.received[0]!.body.importId;
    expect(run.stderr).toContain(`${file}:501: not imported: POST /v1/admin/rules/import: HTTP 400 ERR_VALIDATION invalid rule`);
    expect(run.stderr).toContain("rules.0.criteria.cli: expected digits");
    expect(run.stderr).toContain(`500 rule(s) imported before its batch of 2; once the cause is fixed, resume with --skip 500 --import-id ${importId}`);
    expect(stub.received.map(({ body }) => ({ first: body.first, rules: body.rules.length, publish: body.publish }))).toEqual([
      { first: 0, rules: 500, publish: false },
      { first: 500, rules: 0, publish: true },
    ]);
  });

  it("--skip and --import-id resume the same import after the rules already imported", async () => {
    stub.received.length = 0;
    const importId = crypto.randomUUID();
    const run = await cli("rules", "import", jsonl([rule(1), rule(2), rule(3)]), "--url", stub.url, "--token", "t", "--skip", "2", "--import-id", importId, "--json");
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ imported: 1, skipped: 2, importId, ids: ["r2"] });
    expect(stub.received).toMatchObject([{ body: { importId, first: 2, publish: true } }]);
    expect(reasons()).toEqual(["spoofed campaign 3"]);
  });

  it("refuses a file with a line that is not a rule object before sending anything", async () => {
    stub.received.length = 0;
    const file = jsonl([rule(1), "{not json", rule(3)]);
    const run = await cli("rules", "import", file, "--url", stub.url, "--token", "t");
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${file}:2: not JSON`);
    expect(stub.received).toHaveLength(0);
  });
});

describe("trust import-stipa progress", () => {
  it("reports each root read with --progress", async () => {
    const validity = { country: "US", notBefore: new Date("2025-01-01"), notAfter: new Date("2035-01-01") };
    const [stipa, ...roots] = await Promise.all(["STI-PA", "CA One", "CA Two"].map((organization) => createDevelopmentCa({ organization, ...validity })));
    const payload = { version: 1, sequence: 7, exp: 2_000_000_000, trustList: roots.map((ca) => ca.root.certificate.toString("pem")) };
    const dir = temporaryDirectory();
    writeFileSync(join(dir, "stipa.pem"), stipa!.root.certificate.toString("pem"));
    writeFileSync(join(dir, "list.jws"), await new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader({ alg: "ES256" }).sign(stipa!.root.privateKey));
    const run = await cli("trust", "import-stipa", join(dir, "list.jws"), "--stipa-cert", join(dir, "stipa.pem"), "--trust-dir", join(dir, "trust"), "--progress");
    expect(run.code).toBe(0);
    expect(run.stderr.trim().split("\n")).toEqual(["read roots 1/2", "read roots 2/2"]);
  });
});

describe("progress reporter", () => {
  it("reports at most once a second, and always the last item", () => {
    const lines: string[] = [];
    let now = 0;
    const report = progressReporter((line) => lines.push(line), true, () => now);
    for (let done = 1; done <= 10_000; done++) {
      now = done; // one millisecond per item
      report(done, 10_000, "imported");
    }
    expect(lines).toEqual(["imported 1/10000", ...Array.from({ length: 9 }, (_, i) => `imported ${(i + 1) * 1000 + 1}/10000`), "imported 10000/10000"]);
  });
});
