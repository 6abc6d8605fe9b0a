import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { presentRule, type Rule } from "../../../src/rules/rule";
import { runCli } from "../../../cli/main";
import { cli, issueWithCli, temporaryDirectory } from "./support";

/**
 * `calls replay` (issue 20, "What-if replay"): recorded calls through the Worker's own pipeline,
 * offline. The README's example file is compared with `/v1/verdict` over HTTP in test/e2e/readme.ts.
 */

const HEADER = "time,from,to,trunk,carrier,international,identity";
const dir = temporaryDirectory();
let files = 0;
const file = (content: string, extension = "csv") => {
  const path = join(dir, `input-${++files}.${extension}`);
  writeFileSync(path, content);
  return path;
};
const csv = (...lines: string[]) => file([HEADER, ...lines].join("\n") + "\n");

interface Line {
  line: number;
  action?: string;
  verstat?: string;
  decidedBy?: string | null;
  failed?: string[];
  invalid?: string;
  summary?: { calls: number; invalid: number; outOfOrder: number; byAction: Record<string, number>; byDecidedBy: Record<string, number>; byCarrier: Record<string, Record<string, number>>; byCallerName: Record<string, number> };
}

async function replay(...args: string[]): Promise<{ code: number; lines: Line[]; stderr: string }> {
  const run = await cli("calls", "replay", ...args, "--json");
  const lines = run.stdout
    .split("\n")
    .filter(Boolean)
    .map((text) => JSON.parse(text) as Line);
  return { code: run.code, lines, stderr: run.stderr };
}
const actions = (lines: Line[]) => lines.filter((line) => line.action).map((line) => [line.line, line.action]);
const summaryOf = (lines: Line[]) => lines.at(-1)!.summary!;

const rule = (id: string, fields: Partial<Rule>): Rule => ({
  id,
  criteria: {},
  action: "block",
  mode: "enforce",
  reason: "test",
  label: null,
  author: "analyst",
  expiresAt: null,
  reportId: null,
  version: 1,
  createdAt: Date.parse("2026-11-01T00:00:00Z"),
  updatedAt: Date.parse("2026-11-01T00:00:00Z"),
  ...fields,
});
const exportFile = (content: object) => file(JSON.stringify(content), "json");

describe("bad lines are reported with their number and reason, counted as invalid, and never stop the run", () => {
  it("CSV: quoting, columns, time, and what /v1/verdict refuses", async () => {
    const input = csv(
      '2026-11-27T10:00:00+05:00,"+77272501234,+77012345678,kt-1,,false,',
      "2026-11-27T10:00:01+05:00,+77272501234,+77012345678,kt-1",
      "yesterday,+77272501234,+77012345678,kt-1,,false,",
      "1795804500123,+77272501234,+77012345678,kt-1,,false,",
      "2026-11-27T10:00:04+05:00,+77272501234,+77012345678,,,,",
      "2026-11-27T10:00:05+05:00,+77272501234,+77012345678,kt-1,,maybe,",
      '2026-11-27T10:00:06+05:00,+77272501234,+77012345678,kt-1,"Kazakh""telecom",false,',
    );
    const { code, lines } = await replay("--input", input);
    expect(code).toBe(0);
    expect(lines.filter((line) => line.invalid)).toEqual([
      { line: 2, invalid: "a quoted field is not closed on its line" },
      { line: 3, invalid: "4 fields where the header has 7" },
      { line: 4, invalid: expect.stringMatching(/^time "yesterday": expected an ISO 8601 instant/) },
      { line: 5, invalid: expect.stringMatching(/^time "1795804500123": expected/) },
      { line: 6, invalid: expect.stringMatching(/^ingress: say where the call came in/) },
      { line: 7, invalid: expect.stringMatching(/^ingress.international: must be true or false/) },
    ]);
    expect(actions(lines)).toEqual([[8, "allow"]]);
    expect(summaryOf(lines)).toMatchObject({ calls: 1, invalid: 6, byCarrier: { 'Kazakh"telecom': { allow: 1 } } });
  });

  it("without --json, each on stderr and the count in the summary table", async () => {
    const run = await cli("calls", "replay", "--input", csv("2026-11-27T10:00:00+05:00,+77272501234,+77012345678,intl-1,,true,", "x,y"));
    expect(run.code).toBe(0);
    expect(run.stderr).toContain("line 3: 2 fields where the header has 7");
    expect(run.stdout).toMatch(/^calls 1, invalid lines 1\nby action\n {2}block +1\n/);
  });

  it("JSON Lines: not JSON, not an object, an unknown member", async () => {
    const input = file(
      [
        '{"time":"2026-11-27T10:00:00+05:00","from":"+77272501234","to":"+77012345678","ingress":{"international":true}}',
        "{not json",
        "[1,2]",
        '{"time":1795804500,"from":"+77272501234","ingres":{"international":true}}',
      ].join("\n"),
      "jsonl",
    );
    const { lines } = await replay("--input", input);
    expect(actions(lines)).toEqual([[1, "block"]]);
    expect(lines.filter((line) => line.invalid).map((line) => [line.line, line.invalid])).toEqual([
      [2, "not valid JSON"],
      [3, "not a JSON object (a /v1/verdict call plus time)"],
      [4, expect.stringMatching(/^ingres: unknown name/)],
    ]);
  });

  it("--json output is written as it goes, a thousand lines at a time, bad lines included", async () => {
    const writes: string[] = [];
    const input = csv(...Array.from({ length: 2_500 }, () => "not,a,call"), "2026-11-27T10:00:00+05:00,+77272501234,+77012345678,intl-1,,true,");
    expect(await runCli(["calls", "replay", "--input", input, "--json"], { stdout: (text) => writes.push(text), stderr: () => {} })).toBe(0);
    expect(writes.map((text) => text.split("\n").length)).toEqual([1_000, 1_000, 502]);
    expect(JSON.parse(writes.at(-1)!.split("\n").at(-1)!)).toMatchObject({ summary: { calls: 1, invalid: 2_500 } });
  });

  it.each([
    ["a missing input", ["--input", join(dir, "missing.csv")], /missing\.csv: cannot be read \(--input\): ENOENT/],
    ["an unknown column", ["--input", file("time,from,to,trunk,carrier,international,identity,notes\n")], /unknown column "notes"/],
    ["a missing column", ["--input", file("time,from,to\n")], /the header has no trunk, carrier, international column/],
    ["an unknown extension", ["--input", file("", "txt")], /give --format csv or --format jsonl/],
    ["a missing trust directory", ["--input", csv(), "--trust-dir", join(dir, "no-trust")], /no such trust-anchor directory/],
    ["a missing CRL", ["--input", csv(), "--crl", join(dir, "no.crl")], /no\.crl: cannot be read/],
    ["a bad --at", ["--input", csv(), "--at", "tomorrow"], /--at: time "tomorrow"/],
    ["an invalid export", ["--input", csv(), "--config", exportFile({ rules: [{ id: "r", criteria: {}, action: "drop" }] })], /--config: rules\.0\.action/],
    ["an unknown section", ["--input", csv(), "--config", exportFile({ config: { routing: {} } })], /config\.routing: no such section/],
  ])("%s stops the run before it starts: exit 2, one line", async (_, args, message) => {
    const run = await cli("calls", "replay", ...args);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toMatch(message);
  });
});

describe("each call is judged at its own time, or at --at", () => {
  // Weeknights 22:00–06:00 in Almaty (UTC+5), until 28 Nov 00:00 local.
  const config = exportFile({
    rules: [presentRule(rule("night", { criteria: { cli: { prefix: "7727333" }, timeWindow: { start: "22:00", end: "06:00", utcOffset: "+05:00" } }, expiresAt: Date.parse("2026-11-28T00:00:00+05:00") }))],
  });
  const input = csv(
    "2026-11-27T12:00:00+05:00,+77273331234,+77012345678,kt-1,,false,",
    "2026-11-27T23:30:00+05:00,+77273331234,+77012345678,kt-1,,false,",
    // 22:30 on the 28th: in the window, but after the rule's expiry.
    `${Date.parse("2026-11-28T22:30:00+05:00") / 1000},+77273331234,+77012345678,kt-1,,false,`,
  );

  it("a time window and an expiry, by the call's time", async () => {
    const { lines } = await replay("--input", input, "--config", config);
    expect(actions(lines)).toEqual([
      [2, "allow"],
      [3, "block"],
      [4, "allow"],
    ]);
    expect(lines[1]).toMatchObject({ decidedBy: "rules.operator" });
  });

  it("--at judges every call at that instant", async () => {
    expect(actions((await replay("--input", input, "--config", config, "--at", "2026-11-27T23:00:00+05:00")).lines)).toEqual([
      [2, "block"],
      [3, "block"],
      [4, "block"],
    ]);
    expect(actions((await replay("--input", input, "--config", config, "--at", String(Date.parse("2026-11-27T12:00:00Z") / 1000))).lines).map(([, action]) => action)).toEqual(["allow", "allow", "allow"]);
  });
});

describe("a rule on a phrase of the caller's display name", () => {
  const config = exportFile({ rules: [presentRule(rule("bank-name", { criteria: { name: "Halyk Bank", trunk: "intl-1" } }))] });
  const input = () =>
    file(
      [
        // The name with a Cyrillic а, the same number without it, and the name on another trunk.
        '{"time":"2026-11-27T10:00:00+05:00","from":"\\"H\u0430lyk Bank\\" <sip:+4930123456789@gw.example>","to":"+77012345678","ingress":{"trunk":"intl-1","international":true}}',
        '{"time":"2026-11-27T10:00:01+05:00","from":"+4930123456789","to":"+77012345678","ingress":{"trunk":"intl-1","international":true}}',
        '{"time":"2026-11-27T10:00:02+05:00","from":"\\"Halyk Bank\\" <sip:+4930123456789@gw.example>","to":"+77012345678","ingress":{"trunk":"intl-2","international":true}}',
      ].join("\n"),
      "jsonl",
    );

  it("is read from the export and judges the recorded calls' names as the Worker does", async () => {
    const { lines } = await replay("--input", input(), "--config", config);
    expect(actions(lines)).toEqual([
      [1, "block"],
      [2, "allow"],
      [3, "allow"],
    ]);
  });
});

describe("rules an unfinished import left unpublished", () => {
  // The deployment enforces none of them until the origin version moves (src/rules/store.ts), so neither does the replay.
  const config = exportFile({
    rules: [
      { ...presentRule(rule("imported", { criteria: { cli: { exact: "77273334444" } } })), published: false },
      { ...presentRule(rule("in-force", { criteria: { cli: { exact: "77273335555" } } })), published: true },
    ],
  });
  const input = csv("2026-11-27T12:00:00+05:00,+77273334444,+77012345678,kt-1,,false,", "2026-11-27T12:00:00+05:00,+77273335555,+77012345678,kt-1,,false,");

  it("are left out, as the deployment leaves them out, and the replay says so", async () => {
    const { lines, stderr } = await replay("--input", input, "--config", config);
    expect(actions(lines)).toEqual([
      [2, "allow"],
      [3, "block"],
    ]);
    expect(stderr).toMatch(/1 rule\(s\) in --config are not published .*left out here too/);
  });

  it("--unpublished judges with them, as the deployment will once they are published", async () => {
    const { lines, stderr } = await replay("--input", input, "--config", config, "--unpublished");
    expect(actions(lines)).toEqual([
      [2, "block"],
      [3, "block"],
    ]);
    expect(stderr).toMatch(/judged with them too/);
  });
});

describe("signed calls verify offline: the trust directory, and chains from --certs by the x5u's file name", () => {
  const IAT = 1_795_800_000;
  it("verified with the chain at hand; without it, the verifier's own fetch failure; a replayed PASSporT fails", async () => {
    const pki = await issueWithCli("818H");
    const sign = await cli("passport", "sign", "--key", pki.key, "--x5u", "https://cr.example.net/sp/sp.pem", "--orig", "77272501234", "--dest", "77012345678", "--attest", "A", "--iat", String(IAT));
    const identity = sign.stdout.trim();
    const certs = join(dir, "certs");
    mkdirSync(certs, { recursive: true });
    copyFileSync(pki.chain, join(certs, "sp.pem"));
    const line = `${IAT + 2},+77272501234,+77012345678,kt-1,,false,"${identity}"`;
    const input = csv(line, line);
    const signed = await replay("--input", input, "--trust-dir", pki.trustDir, "--certs", certs);
    expect(signed.lines.slice(0, 2)).toEqual([
      expect.objectContaining({ line: 2, action: "allow", verstat: "TN-Validation-Passed" }),
      // The same PASSporT on another call (no Call-ID to tell a re-send): a replay, as the Worker's guard judges it.
      expect.objectContaining({ line: 3, verstat: "TN-Validation-Failed", failed: expect.arrayContaining(["passport.replay"]) }),
    ]);
    const unfetched = await replay("--input", csv(line), "--trust-dir", pki.trustDir);
    expect(unfetched.lines[0]).toMatchObject({ verstat: "No-TN-Validation", failed: expect.arrayContaining(["x5u.fetch"]) });
  });
});

describe("display names: what CALLER_NAMES would let the callee see", () => {
  afterEach(() => {
    delete process.env.CALLER_NAMES;
  });
  const input = () =>
    file(
      [
        // A bank's name beside a foreign number from abroad, a domestic caller's name, and a call with none.
        '{"time":"2026-11-27T10:00:00+05:00","from":"\\"Halyk Bank\\" <sip:+4930123456789@gw.example>","to":"+77012345678","ingress":{"trunk":"intl-1","international":true}}',
        '{"time":"2026-11-27T10:00:01+05:00","from":"\\"Almaty Office\\" <sip:+77272501234@gw.example>","to":"+77012345678","ingress":{"trunk":"kt-1","international":false}}',
        '{"time":"2026-11-27T10:00:02+05:00","from":"+77272501234","to":"+77012345678","ingress":{"trunk":"kt-1","international":false}}',
      ].join("\n"),
      "jsonl",
    );

  it("each call's line says whether the name would be shown, and the summary counts both", async () => {
    const { lines } = await replay("--input", input());
    expect(lines.filter((line) => line.action).map((line) => [line.line, line.action, (line as { callerName?: { presentation: string } }).callerName?.presentation])).toEqual([
      [1, "allow", "removed"],
      [2, "allow", "shown"],
      [3, "allow", undefined],
    ]);
    expect(summaryOf(lines)).toMatchObject({ byCallerName: { removed: 1, shown: 1 } });
  });

  it("reads CALLER_NAMES from the environment, as the Worker does", async () => {
    process.env.CALLER_NAMES = "peer";
    expect(summaryOf((await replay("--input", input())).lines)).toMatchObject({ byCallerName: { shown: 2 } });
  });
});

describe("velocity is counted over the file in time order", () => {
  afterEach(() => {
    delete process.env.VELOCITY_CALLS_PER_CLI;
  });
  const at = (second: number) => new Date(Date.parse("2026-11-27T10:00:00Z") + second * 1000).toISOString();
  const call = (second: number, cli: string) => `${at(second)},${cli},+77012345678,kt-1,,false,`;

  it("a caller past VELOCITY_CALLS_PER_CLI is flagged from the call after the limit, judged on the seconds before", async () => {
    process.env.VELOCITY_CALLS_PER_CLI = "3/60:block";
    const input = csv(call(0, "+77272501234"), call(1, "+77272501234"), call(1, "+77011111111"), call(2, "+77272501234"), call(3, "+77272501234"), call(4, "+77272501234"), call(70, "+77272501234"));
    const { lines } = await replay("--input", input);
    expect(actions(lines)).toEqual([
      [2, "allow"],
      [3, "allow"],
      [4, "allow"],
      [5, "allow"],
      [6, "allow"],
      // 4 calls within 60 s before it: more than 3.
      [7, "block"],
      // A minute later the window has moved on.
      [8, "allow"],
    ]);
    expect(lines[5]).toMatchObject({ decidedBy: "velocity.calls-per-cli" });
    expect(summaryOf(lines).outOfOrder).toBe(0);
  });

  it("a file out of time order is counted in file order, and the calls that go back in time are counted", async () => {
    process.env.VELOCITY_CALLS_PER_CLI = "3/60:block";
    const { lines, stderr } = await replay("--input", csv(call(4, "+77272501234"), call(3, "+77272501234"), call(2, "+77272501234"), call(1, "+77272501234"), call(0, "+77272501234")));
    expect(summaryOf(lines).outOfOrder).toBe(4);
    expect(stderr).toContain("4 calls are earlier than a call before them");
  });
});

describe("config export round-trips: what it writes, replay judges with", () => {
  const TOKEN = "test-admin-token";
  // 1 001 rules: two pages of the admin API (1 000 a page); the one that decides is on the second.
  const rules = [...Array.from({ length: 1_000 }, (_, index) => rule(`filler-${index}`, { criteria: { cli: { exact: String(77_000_000_000 + index) } } })), rule("second-page", { criteria: { cli: { prefix: "7727333" } } })];
  const roaming = Array.from({ length: 1_001 }, (_, index) => ({ tn: String(77_050_000_000 + index), status: index === 1_000 ? "home" : "roaming", visitedCountry: index === 1_000 ? undefined : "TR", observedAt: Date.parse("2026-11-27T00:00:00.000Z"), source: "table", version: 1 }));
  const sections = {
    policy: { section: "policy", document: { outcomes: { "origin.national-on-international:fixed": { action: "tag", label: "Intl presenting KZ" } } }, version: 3, updatedAt: null, updatedBy: null },
  };
  let server: Server;
  let url: string;
  const requests: string[] = [];
  let deleteListedRule = false;
  let legacyListing = false;
  let roamingSection: object | null = null;

  beforeAll(async () => {
    server = createServer((request, response) => {
      const target = new URL(request.url!, "http://x");
      requests.push(`${target.pathname}${target.search}`);
      const send = (status: number, body: unknown) => response.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
      if (request.headers.authorization !== `Bearer ${TOKEN}`) return send(401, { error: { code: "ERR_UNAUTHENTICATED", message: "no" } });
      const limit = Number(target.searchParams.get("limit") ?? 100);
      if (target.pathname === "/v1/admin/config") return send(200, { homeCountry: "KZ", sections: roamingSection ? { ...sections, roaming: roamingSection } : sections });
      if (target.pathname === "/v1/admin/rules") {
        // The API's listing: newest first, then by id, a page after the `after` cursor (`<createdAt>_<id>`).
        const listed = [...rules].sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? -1 : 1));
        const cursor = target.searchParams.get("after")?.split("_");
        const after = cursor ? listed.filter((rule) => rule.createdAt < Number(cursor[0]) || (rule.createdAt === Number(cursor[0]) && rule.id > cursor[1]!)) : listed;
        const page = after.slice(0, limit);
        if (legacyListing) return send(200, { rules: page.map(presentRule) });
        // What an analyst does meanwhile: a rule already listed is deleted before the next page is asked for.
        if (deleteListedRule) rules.splice(rules.indexOf(page[0]!), 1);
        deleteListedRule = false;
        return send(200, { rules: page.map(presentRule), next: page.length === limit ? `${page.at(-1)!.createdAt}_${page.at(-1)!.id}` : null });
      }
      if (target.pathname === "/v1/admin/roaming") {
        const page = roaming.filter((entry) => entry.tn > (target.searchParams.get("after") ?? "")).slice(0, limit);
        return send(200, { entries: page, next: page.length === limit ? page.at(-1)!.tn : null });
      }
      send(404, { error: { code: "ERR_NOT_FOUND", message: "no" } });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const input = csv(
    // The policy section: tagged instead of blocked.
    "2026-11-27T10:00:00+05:00,+77272501234,+77012345678,intl-1,,true,",
    // The rule on the second page.
    "2026-11-27T10:00:01+05:00,+77273331234,+77012345678,kt-1,,false,",
    // The roaming table: roaming (first page) and at home (second page).
    "2026-11-27T10:00:02+05:00,+77050000007,+77012345678,intl-1,,true,",
    "2026-11-27T10:00:03+05:00,+77050001000,+77012345678,intl-1,,true,",
  );

  it("every section, every page of rules and of the roaming table, and the answers they give", async () => {
    const out = join(dir, "export.json");
    const exported = await cli("config", "export", "--url", url, "--token", TOKEN, "--out", out);
    expect(exported.stderr).toBe("");
    expect(exported.stdout).toContain("1 configuration sections, 1001 rules, 1001 roaming entries");
    expect(requests).toEqual(expect.arrayContaining(["/v1/admin/rules?limit=1000", "/v1/admin/roaming?limit=1000&after=77050000999"]));
    expect(requests.filter((request) => request.startsWith("/v1/admin/rules?limit=1000&after="))).toHaveLength(1);

    const { lines, stderr } = await replay("--input", input, "--config", out);
    expect(stderr).toBe("");
    expect(lines.filter((line) => line.action).map((line) => [line.line, line.action, line.decidedBy])).toEqual([
      [2, "tag", "origin.national-on-international"],
      [3, "block", "rules.operator"],
      [4, "allow", null],
      [5, "block", "origin.roaming"],
    ]);
    // Without the export, the defaults of a fresh deployment: a different answer for each.
    expect(actions((await replay("--input", input)).lines).map(([, action]) => action)).toEqual(["block", "allow", "withhold", "withhold"]);
  });

  it("carries when each roaming entry was observed, so a replay with maxObservationAgeSeconds judges its age as the deployment does", async () => {
    roamingSection = { section: "roaming", document: { source: "table", budgetMs: 150, cacheTtlSeconds: 300, maxObservationAgeSeconds: 3_600 }, version: 2, updatedAt: null, updatedBy: null };
    try {
      const out = join(dir, "export-aged.json");
      expect((await cli("config", "export", "--url", url, "--token", TOKEN, "--out", out)).stderr).toBe("");
      // Line 4's entry was observed at 00:00Z, five hours before its call: too old to say the subscriber is abroad now.
      const { lines } = await replay("--input", input, "--config", out);
      expect(lines.find((line) => line.line === 4)).toMatchObject({ action: "withhold", decidedBy: "origin.roaming" });
    } finally {
      roamingSection = null;
    }
  });

  it("a rule deleted between two pages moves no other rule out of the export", async () => {
    deleteListedRule = true;
    const out = join(dir, "export-deleted.json");
    const exported = await cli("config", "export", "--url", url, "--token", TOKEN, "--out", out);
    expect(exported.stderr).toBe("");
    // The rule deleted was read on the first page; every other rule is read once, the second page's included.
    const ids = (JSON.parse(readFileSync(out, "utf8")) as { rules: { id: string }[] }).rules.map((rule) => rule.id);
    expect(ids).toHaveLength(1_001);
    expect(new Set(ids).size).toBe(1_001);
    expect(ids).toContain("second-page");
  });

  it("a deployment whose listing gives no cursor is refused, not read short", async () => {
    legacyListing = true;
    try {
      const run = await cli("config", "export", "--url", url, "--token", TOKEN, "--out", join(dir, "export-legacy.json"));
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/no `next` cursor/);
    } finally {
      legacyListing = false;
    }
  });

  it("a refused token is a one-line error, exit 2", async () => {
    const run = await cli("config", "export", "--url", url, "--token", "wrong");
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/GET \/v1\/admin\/config: HTTP 401 ERR_UNAUTHENTICATED/);
  });
});
