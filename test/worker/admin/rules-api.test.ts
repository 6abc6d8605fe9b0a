import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { assessOrigin } from "../../../src/origin/assess";
import { isolateOriginSnapshots, originDepsFromEnv } from "../../../src/origin/deps";
import { markIsolateSnapshotsStale } from "../../../src/origin/snapshot";
import { checkNamed, mostSevereAction, sketchCall } from "../origin/support";
import { adminAuth, NAMED } from "../support/auth";
import { createApp } from "../../../src/app";
import { postVerdictAndSettle } from "../metrics/support";
import { manualClock, operatorApp } from "./support";

const START = Date.parse("2026-11-27T12:00:00Z");
const HOUR = 3_600_000;
const blockRule = { criteria: { cli: { prefix: "7916555" } }, action: "block", reason: "bank impersonation campaign, reports 2026-11-26", author: "analyst.aigerim" };

async function verdictAt(clock: { now(): number }, cli: string) {
  const pending: Promise<unknown>[] = [];
  const assessment = await assessOrigin(sketchCall({ cli }), null, originDepsFromEnv(env, isolateOriginSnapshots(env), (p) => pending.push(p), clock));
  await Promise.all(pending);
  return { action: mostSevereAction(assessment.findings), rules: checkNamed(assessment.checks, "rules.operator") };
}

describe("authentication", () => {
  it.each([
    ["no token", {}],
    ["an SBC key", { Authorization: "Bearer test-sbc-key" }],
  ])("rejects %s with 401 and a JSON error", async (_, headers) => {
    const { app } = operatorApp(manualClock(START));
    const response = await app.request("/v1/admin/rules", { headers }, env);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: { code: "ERR_UNAUTHENTICATED", message: expect.any(String) } });
  });
});

describe("a rule added through the admin API", () => {
  it("blocks the next matching call and stops at its expiry", async () => {
    const clock = manualClock(START);
    const { send } = operatorApp(clock);
    expect((await verdictAt(clock, "+79165551234")).action).toBe("allow");
    const created = await send("POST", "/v1/admin/rules", { ...blockRule, expiresAt: new Date(START + HOUR).toISOString() }, NAMED.analyst.headers);
    expect(created.status).toBe(201);
    const { rule } = (await created.json()) as { rule: { id: string } };

    const during = await verdictAt(clock, "+79165551234");
    expect(during.action).toBe("block");
    expect(during.rules.evidence).toMatchObject({ rules: [{ id: rule.id, author: NAMED.analyst.name }] });
    expect((await verdictAt(clock, "+79165561234")).action).toBe("allow");

    clock.advance(HOUR);
    expect((await verdictAt(clock, "+79165551234")).action).toBe("allow");
  });

  it("stops matching once expired through the API", async () => {
    const clock = manualClock(START);
    const { send } = operatorApp(clock);
    const ownPrefix = { ...blockRule, criteria: { cli: { prefix: "7916777" } } };
    const { rule } = (await (await send("POST", "/v1/admin/rules", ownPrefix)).json()) as { rule: { id: string } };
    expect((await verdictAt(clock, "+79167770000")).action).toBe("block");
    expect((await send("POST", `/v1/admin/rules/${rule.id}/expire`, {})).status).toBe(200);
    expect((await verdictAt(clock, "+79167770000")).action).toBe("allow");
  });
});

describe("a rule on From's number, added through the admin API", () => {
  // The verdict judges From's number beside P-Asserted-Identity's in two assessments. Right after a
  // write in this isolate, the first waited for the rules to reload and the second took the snapshot
  // the write replaced: the call the analyst's new rule names passed.
  it("blocks the very next call presenting it in From behind another P-Asserted-Identity", async () => {
    const clock = manualClock(START);
    const { send } = operatorApp(clock);
    const behindPai = { pai: "+79165591234", from: "+79165599999", to: "+77012345678", ingress: { trunk: "kt-1", international: false } };
    const verdict = async () => {
      const response = await postVerdictAndSettle(createApp({ clock }), behindPai);
      return ((await response.json()) as { verdict: { action: string; decidedBy: string | null } }).verdict;
    };
    expect((await verdict()).action).toBe("allow");
    const created = await send("POST", "/v1/admin/rules", { ...blockRule, criteria: { cli: { exact: "+79165599999" } } }, NAMED.analyst.headers);
    expect(created.status).toBe(201);
    expect(await verdict()).toMatchObject({ action: "block", decidedBy: "rules.operator" });
  });
});

describe("GET /v1/admin/rules?cli= for a number a subscriber reported", () => {
  // The analyst asks whether a reported number is already covered. A rule on its prefix or range covers
  // it, but the listing only looked for the number's digits inside the rule's text: "no rules", and the
  // analyst went looking for a rule that was not matching, or expired the one that was.
  it("lists the rules whose CLI prefix or range covers the number, beside those that name it", async () => {
    const { send } = operatorApp(manualClock(START));
    const create = async (cli: unknown) => ((await (await send("POST", "/v1/admin/rules", { criteria: { cli }, action: "block", reason: "covering" })).json()) as { rule: { id: string } }).rule.id;
    const prefix = await create({ prefix: "+7727281" });
    const range = await create({ from: "+77272810000", to: "+77272819999" });
    const exact = await create({ exact: "+77272815555" });
    await create({ prefix: "+7727282" });
    await create({ from: "+77272820000", to: "+77272829999" });
    const listed = async (query: string) => ((await (await send("GET", `/v1/admin/rules?cli=${encodeURIComponent(query)}`)).json()) as { rules: { id: string }[] }).rules.map(({ id }) => id).sort();
    expect(await listed("+77272815555")).toEqual([prefix, range, exact].sort());
    expect(await listed("+77272814444")).toEqual([prefix, range].sort());
    // Part of a number is looked for inside the rules' numbers, and under their prefixes.
    expect(await listed("772728155")).toEqual([prefix, exact].sort());
  });
});

describe("validation: field-level 400s", () => {
  it.each([
    ["a bad prefix", { ...blockRule, criteria: { cli: { prefix: "7916-55x" } } }, "criteria.cli.prefix"],
    ["an unknown action", { ...blockRule, action: "drop" }, "action"],
    ["an expiry in the past", { ...blockRule, expiresAt: "2026-11-27T11:59:00Z" }, "expiresAt"],
    ["a rule about nobody", { ...blockRule, criteria: { timeWindow: { start: "22:00", end: "06:00" } } }, "criteria"],
    ["a reversed range", { ...blockRule, criteria: { cli: { from: "77272509999", to: "77272500000" } } }, "criteria.cli.to"],
    ["an unknown member", { ...blockRule, colour: "red" }, "(body)"],
  ])("rejects %s", async (_, body, field) => {
    const response = await operatorApp(manualClock(START)).send("POST", "/v1/admin/rules", body);
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as { error: { code: string; fields: Record<string, string> } };
    expect(error.code).toBe("ERR_VALIDATION");
    expect(Object.keys(error.fields)).toContain(field);
  });
  it.each([
    ["past year 9999, in epoch milliseconds", 9_007_199_254_740_991, /at most 9999-12-31T23:59:59.999Z/],
    ["past year 9999, as an ISO instant", "+275760-09-13T00:00:00Z", /an ISO 8601 instant with an offset/],
    ["that is no instant", "tomorrow", /an ISO 8601 instant with an offset \(e\.g\. 2027-01-31T00:00:00Z\) or epoch milliseconds/],
  ])("rejects an expiry %s, saying what it expects", async (_, expiresAt, message) => {
    const { send } = operatorApp(manualClock(START));
    const count = async () => ((await (await send("GET", "/v1/admin/rules")).json()) as { rules: unknown[] }).rules.length;
    const before = await count();
    const response = await send("POST", "/v1/admin/rules", { ...blockRule, expiresAt });
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as { error: { fields: Record<string, string> } };
    expect(error.fields.expiresAt).toMatch(message);
    expect(await count()).toBe(before);
  });
  it("refuses a body sent as a form or as plain text with 415, and creates nothing", async () => {
    const { send } = operatorApp(manualClock(START));
    const count = async () => ((await (await send("GET", "/v1/admin/rules")).json()) as { rules: unknown[] }).rules.length;
    const before = await count();
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]) {
      const response = await send("POST", "/v1/admin/rules", blockRule, { "Content-Type": type });
      expect(response.status).toBe(415);
      expect(await response.json()).toMatchObject({ error: { code: "ERR_CONTENT_TYPE", message: expect.stringContaining(type.split(";")[0]!) } });
    }
    expect(await count()).toBe(before);
  });

  it("bounds a body in bytes while reading it, with or without a declared length", async () => {
    const { app } = operatorApp(manualClock(START));
    // 600 000 "é" are 1 200 000 bytes but only 600 000 UTF-16 code units.
    const text = JSON.stringify({ ...blockRule, reason: "é".repeat(600_000) });
    const bytes = new TextEncoder().encode(text);
    const streamed = () => new ReadableStream({ start: (controller) => { for (let at = 0; at < bytes.length; at += 65_536) controller.enqueue(bytes.slice(at, at + 65_536)); controller.close(); } });
    for (const body of [text, streamed()]) {
      const response = await app.request("/v1/admin/rules", { method: "POST", headers: { ...adminAuth, "Content-Type": "application/json" }, body, ...(typeof body === "string" ? {} : { duplex: "half" }) }, env);
      expect(response.status).toBe(413);
      expect(await response.json()).toMatchObject({ error: { code: "ERR_BODY_TOO_LARGE" } });
    }
  });

  it("rejects a body that is not JSON", async () => {
    const response = await operatorApp(manualClock(START)).send("POST", "/v1/admin/rules", "{not json");
    expect([response.status, ((await response.json()) as { error: { code: string } }).error.code]).toEqual([400, "ERR_JSON"]);
  });
});

describe("optimistic versioning", () => {
  it("an update based on a stale version is refused with 409 and the current rule", async () => {
    const { send } = operatorApp(manualClock(START));
    const { rule } = (await (await send("POST", "/v1/admin/rules", blockRule)).json()) as { rule: { id: string; version: number } };
    const first = await send("PUT", `/v1/admin/rules/${rule.id}`, { ...blockRule, action: "tag", label: "SPAM?" }, { "If-Match": `"${rule.version}"` });
    expect(first.status).toBe(200);
    expect(first.headers.get("ETag")).toBe('"2"');
    const second = await send("PUT", `/v1/admin/rules/${rule.id}`, { ...blockRule, action: "withhold", version: rule.version });
    expect(second.status).toBe(409);
    expect(await second.json()).toMatchObject({ error: { code: "ERR_VERSION_CONFLICT", current: { version: 2, action: "tag" } } });
  });
  it("an update without a version is refused", async () => {
    const { send } = operatorApp(manualClock(START));
    const { rule } = (await (await send("POST", "/v1/admin/rules", blockRule)).json()) as { rule: { id: string } };
    expect((await send("PUT", `/v1/admin/rules/${rule.id}`, blockRule)).status).toBe(428);
  });
});

describe("audit log", () => {
  it("records create, update and delete: who, when, before, after", async () => {
    const clock = manualClock(START);
    const { send } = operatorApp(clock);
    const { rule } = (await (await send("POST", "/v1/admin/rules", blockRule, NAMED.analyst.headers)).json()) as { rule: { id: string } };
    clock.advance(60_000);
    await send("PUT", `/v1/admin/rules/${rule.id}`, { ...blockRule, reason: "widened after more reports", author: "analyst.daniyar", version: 1 }, NAMED.admin.headers);
    clock.advance(60_000);
    expect((await send("DELETE", `/v1/admin/rules/${rule.id}`)).status).toBe(200);
    expect((await send("GET", `/v1/admin/rules/${rule.id}`)).status).toBe(404);

    const { entries } = (await (await send("GET", `/v1/admin/audit?entity=rule&id=${rule.id}`)).json()) as { entries: Record<string, unknown>[] };
    expect(entries).toEqual([
      expect.objectContaining({ operation: "delete", actor: expect.stringMatching(/^admin-token:[0-9a-f]{12}$/), author: null, at: "2026-11-27T12:02:00.000Z", before: expect.objectContaining({ version: 2 }), after: null }),
      expect.objectContaining({ operation: "update", actor: NAMED.admin.name, author: "analyst.daniyar", before: expect.objectContaining({ reason: blockRule.reason }), after: expect.objectContaining({ reason: "widened after more reports", version: 2 }) }),
      expect.objectContaining({ operation: "create", actor: NAMED.analyst.name, author: "analyst.aigerim", at: "2026-11-27T12:00:00.000Z", before: null, after: expect.objectContaining({ id: rule.id }) }),
    ]);
  });
});

describe("a rule stored before expiries were bounded", () => {
  it("still lists, and still blocks its caller, when its expiry is past what a Date can hold", async () => {
    const clock = manualClock(START);
    const { send } = operatorApp(clock);
    const cli = { ...blockRule, criteria: { cli: { exact: "77272509999" } } };
    const { rule } = (await (await send("POST", "/v1/admin/rules", cli)).json()) as { rule: { id: string } };
    await env.DB.prepare("UPDATE rules SET expires_at = ? WHERE id = ?").bind(9_007_199_254_740_991, rule.id).run();
    markIsolateSnapshotsStale();

    const listed = await send("GET", "/v1/admin/rules");
    expect(listed.status).toBe(200);
    const { rules } = (await listed.json()) as { rules: { id: string; expiresAt: string | null }[] };
    expect(rules.find((listedRule) => listedRule.id === rule.id)).toMatchObject({ expiresAt: "+275760-09-13T00:00:00.000Z" });
    const verdict = await verdictAt(clock, "+77272509999");
    expect(verdict.action).toBe("block");
    expect(verdict.rules.evidence).toMatchObject({ rules: [{ id: rule.id, expiresAt: "+275760-09-13T00:00:00.000Z" }] });
  });
});

describe("operator configuration", () => {
  it.each(["__proto__", "constructor", "toString", "hasOwnProperty"])("answers 404 for a section named %s, a property of every object", async (section) => {
    const { send } = operatorApp(manualClock(START));
    for (const response of [await send("GET", `/v1/admin/config/${section}`), await send("PUT", `/v1/admin/config/${section}`, { document: {}, version: 0 })]) {
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ error: { code: "ERR_NOT_FOUND", message: expect.stringContaining("configuration section") } });
    }
  });
  it("an allow-listed enterprise trunk configured through the API passes", async () => {
    const clock = manualClock(START);
    const { send } = operatorApp(clock);
    expect((await verdictAt(clock, "+77272501234")).action).toBe("block");
    const document = { entries: [{ customer: "Halyk Contact Centre", cli: { prefix: "+7727250" }, trunk: "intl-1" }] };
    const written = await send("PUT", "/v1/admin/config/allow-list", { document, version: 0 });
    expect(written.status).toBe(200);
    expect((await verdictAt(clock, "+77272501234")).action).toBe("allow");
    expect((await send("PUT", "/v1/admin/config/allow-list", { document, version: 0 })).status).toBe(409);
  });
  it("refuses a member named __proto__ rather than dropping it without a word", async () => {
    const { send } = operatorApp(manualClock(START));
    const before = (await (await send("GET", "/v1/admin/config/policy")).json()) as { version: number };
    const response = await send("PUT", "/v1/admin/config/policy", `{"document":{"outcomes":{"__proto__":{"action":"block"}}},"version":${before.version}}`);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: "ERR_JSON", message: expect.stringContaining("'__proto__'") } });
    expect(((await (await send("GET", "/v1/admin/config/policy")).json()) as { version: number }).version).toBe(before.version);
  });
  it("rejects an unknown action in the policy table, naming the field", async () => {
    const response = await operatorApp(manualClock(START)).send("PUT", "/v1/admin/config/policy", { document: { outcomes: { "origin.roaming:home": { action: "drop" } } }, version: 0 });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { fields: { "document.outcomes.origin.roaming:home.action": expect.any(String) } } });
  });
  it("shows the numbering defaults that fill the metadata gaps, prefixes with +", async () => {
    const response = await operatorApp(manualClock(START)).send("GET", "/v1/admin/config/numbering");
    expect(await response.json()).toMatchObject({ version: 0, document: { typeOverrides: [{ pattern: { prefix: "+7750" }, type: "voip" }] } });
  });
});

describe("roaming table", () => {
  it("a status written through the API decides the next call", async () => {
    const clock = manualClock(START);
    const { send } = operatorApp(clock);
    expect((await send("PUT", "/v1/admin/roaming/+77013334455", { status: "roaming", visitedCountry: "TR" })).status).toBe(200);
    expect((await verdictAt(clock, "+77013334455")).action).toBe("allow");
    await send("PUT", "/v1/admin/roaming/77013334455", { status: "home" });
    expect((await verdictAt(clock, "+77013334455")).action).toBe("block");
    expect((await send("PUT", "/v1/admin/roaming/77013334455", { status: "abroad" })).status).toBe(400);
  });

  it("lists the table in number order, a page at a time (config export reads it so)", async () => {
    const { send } = operatorApp(manualClock(START));
    for (const tn of ["77017770003", "77017770001", "77017770002"]) expect((await send("PUT", `/v1/admin/roaming/${tn}`, { status: "roaming", visitedCountry: "TR" })).status).toBe(200);
    const page = async (query: string) => (await (await send("GET", `/v1/admin/roaming?${query}`)).json()) as { entries: { tn: string; status: string }[]; next: string | null };
    const first = await page("after=77017770000&limit=2");
    expect(first.entries.map((entry) => entry.tn)).toEqual(["77017770001", "77017770002"]);
    expect(first.next).toBe("77017770002");
    const second = await page(`after=${first.next}&limit=2`);
    expect(second.entries).toEqual([expect.objectContaining({ tn: "77017770003", status: "roaming", visitedCountry: "TR", version: 1 })]);
    expect(second.next).toBeNull();
    expect((await send("GET", "/v1/admin/roaming?after=%2B7701")).status).toBe(400);
  });
});
