import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { assessOrigin } from "../../../src/origin/assess";
import { isolateOriginSnapshots, originDepsFromEnv } from "../../../src/origin/deps";
import { sketchCall } from "../origin/support";
import { NAMED } from "../support/auth";
import { manualClock, operatorApp } from "./support";

/**
 * Optimistic versioning on the admin API: a write conditioned on the version the analyst read (If-Match,
 * or the body's `version`) applies only to that version, and a condition that cannot be read is refused,
 * naming what was wrong, before anything is written or audited.
 */
const START = Date.parse("2026-11-27T12:00:00Z");
const blockRule = { criteria: { cli: { exact: "+77272507000" } }, action: "block", reason: "conditional writes" };

type Send = ReturnType<typeof operatorApp>["send"];
async function created(send: Send): Promise<string> {
  return ((await (await send("POST", "/v1/admin/rules", blockRule)).json()) as { rule: { id: string } }).rule.id;
}
const current = async (send: Send, id: string) => ((await (await send("GET", `/v1/admin/rules/${id}`)).json()) as { rule: { version: number; reason: string; expiresAt: string | null } }).rule;
const auditOf = async (send: Send, id: string) => ((await (await send("GET", `/v1/admin/audit?entity=rule&id=${id}`)).json()) as { entries: { operation: string }[] }).entries.map(({ operation }) => operation);

describe("If-Match on a rule's replacement", () => {
  it.each([['"1"'], ['W/"1"'], ["1"], [' "1" ']])("reads %s as version 1", async (ifMatch) => {
    const { send } = operatorApp(manualClock(START));
    const id = await created(send);
    const replaced = await send("PUT", `/v1/admin/rules/${id}`, { ...blockRule, reason: "replaced" }, { "If-Match": ifMatch });
    expect(replaced.status).toBe(200);
    expect(replaced.headers.get("ETag")).toBe('"2"');
    expect(await current(send, id)).toMatchObject({ version: 2, reason: "replaced" });
  });

  it.each([["*"], ['"one"'], ['"1", "2"'], ['"1234567890"'], ['""']])("refuses %s with a 400 naming If-Match, and writes nothing", async (ifMatch) => {
    const { send } = operatorApp(manualClock(START));
    const id = await created(send);
    const refused = await send("PUT", `/v1/admin/rules/${id}`, { ...blockRule, reason: "replaced" }, { "If-Match": ifMatch });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: { code: "ERR_VALIDATION", fields: { "If-Match": expect.any(String) } } });
    expect(await current(send, id)).toMatchObject({ version: 1, reason: blockRule.reason });
    expect(await auditOf(send, id)).toEqual(["create"]);
  });

  it("refuses If-Match and a body version that disagree, naming version, and writes nothing", async () => {
    const { send } = operatorApp(manualClock(START));
    const id = await created(send);
    const refused = await send("PUT", `/v1/admin/rules/${id}`, { ...blockRule, reason: "replaced", version: 2 }, { "If-Match": '"1"' });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: { code: "ERR_VALIDATION", fields: { version: expect.any(String) } } });
    expect(await current(send, id)).toMatchObject({ version: 1, reason: blockRule.reason });
  });

  it("reads a version of several digits: a stale one is a conflict, not a malformed If-Match", async () => {
    const { send } = operatorApp(manualClock(START));
    const id = await created(send);
    const stale = await send("PUT", `/v1/admin/rules/${id}`, { ...blockRule, reason: "replaced" }, { "If-Match": '"12"' });
    expect(stale.status).toBe(409);
    expect(await current(send, id)).toMatchObject({ version: 1, reason: blockRule.reason });
  });

  it("applies If-Match and a body version that agree", async () => {
    const { send } = operatorApp(manualClock(START));
    const id = await created(send);
    expect((await send("PUT", `/v1/admin/rules/${id}`, { ...blockRule, reason: "replaced", version: 1 }, { "If-Match": '"1"' })).status).toBe(200);
  });

  it("refuses a stale If-Match though the body's version is absent: 409 with the rule as it is, and no audit row", async () => {
    const { send } = operatorApp(manualClock(START));
    const id = await created(send);
    expect((await send("PUT", `/v1/admin/rules/${id}`, { ...blockRule, reason: "first" }, { "If-Match": '"1"' })).status).toBe(200);
    const stale = await send("PUT", `/v1/admin/rules/${id}`, { ...blockRule, reason: "second" }, { "If-Match": '"1"' });
    expect(stale.status).toBe(409);
    expect(await stale.json()).toMatchObject({ error: { code: "ERR_VERSION_CONFLICT", current: { version: 2, reason: "first" } } });
    expect(await current(send, id)).toMatchObject({ version: 2, reason: "first" });
    expect(await auditOf(send, id)).toEqual(["update", "create"]);
  });
});

describe("If-Match on a rule's expiry and deletion", () => {
  it("a stale If-Match neither expires nor deletes the rule", async () => {
    const { send } = operatorApp(manualClock(START));
    const id = await created(send);
    expect((await send("PUT", `/v1/admin/rules/${id}`, { ...blockRule, reason: "changed meanwhile" }, { "If-Match": '"1"' })).status).toBe(200);
    expect((await send("POST", `/v1/admin/rules/${id}/expire`, {}, { "If-Match": '"1"' })).status).toBe(409);
    expect((await send("POST", `/v1/admin/rules/${id}/expire`, { version: 1 })).status).toBe(409);
    expect((await send("DELETE", `/v1/admin/rules/${id}`, undefined, { "If-Match": '"1"' })).status).toBe(409);
    expect(await current(send, id)).toMatchObject({ version: 2, expiresAt: null });
    expect(await auditOf(send, id)).toEqual(["update", "create"]);
  });

  it("a current If-Match expires, then deletes, the rule", async () => {
    const { send } = operatorApp(manualClock(START));
    const id = await created(send);
    const expired = await send("POST", `/v1/admin/rules/${id}/expire`, {}, { "If-Match": '"1"' });
    expect(expired.status).toBe(200);
    expect(expired.headers.get("ETag")).toBe('"2"');
    expect((await send("DELETE", `/v1/admin/rules/${id}`, undefined, { "If-Match": '"2"' })).status).toBe(200);
    expect((await send("GET", `/v1/admin/rules/${id}`)).status).toBe(404);
    expect(await auditOf(send, id)).toEqual(["delete", "expire", "create"]);
  });

  it("a rule deleted stops blocking at the next verdict, the snapshot already loaded", async () => {
    const clock = manualClock(START);
    const { send } = operatorApp(clock);
    const id = ((await (await send("POST", "/v1/admin/rules", { ...blockRule, criteria: { cli: { exact: "+77272507001" } } })).json()) as { rule: { id: string } }).rule.id;
    const ruleFindings = async () => (await assessOrigin(sketchCall({ cli: "+77272507001" }), null, originDepsFromEnv(env, isolateOriginSnapshots(env), () => {}, clock))).findings.filter((finding) => finding.checkId === "rules.operator");
    expect(await ruleFindings()).toMatchObject([{ action: "block" }]);
    expect((await send("DELETE", `/v1/admin/rules/${id}`, undefined, { "If-Match": '"1"' })).status).toBe(200);
    expect(await ruleFindings()).toEqual([]);
  });

  it("refuses a deletion whose If-Match is no version, naming it, and keeps the rule", async () => {
    const { send } = operatorApp(manualClock(START));
    const id = await created(send);
    const refused = await send("DELETE", `/v1/admin/rules/${id}`, undefined, { "If-Match": "*" });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: { fields: { "If-Match": expect.any(String) } } });
    expect((await send("GET", `/v1/admin/rules/${id}`)).status).toBe(200);
  });
});

describe("a write's body", () => {
  it("may be absent, or blank, where every field is optional: read as {}", async () => {
    const { send } = operatorApp(manualClock(START));
    const [first, second] = [await created(send), await created(send)];
    expect((await send("POST", `/v1/admin/rules/${first}/expire`)).status).toBe(200);
    expect((await send("POST", `/v1/admin/rules/${second}/expire`, " \n")).status).toBe(200);
    expect((await current(send, second)).expiresAt).toBe("2026-11-27T12:00:00.000Z");
  });

  it("that is no JSON is refused with ERR_JSON saying so, and one with a Content-Type not JSON with ERR_CONTENT_TYPE quoting at most 64 characters of it", async () => {
    const { send } = operatorApp(manualClock(START));
    const id = await created(send);
    const notJson = await send("POST", `/v1/admin/rules/${id}/expire`, "{author:");
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toEqual({ error: { code: "ERR_JSON", message: "request body is not valid JSON" } });
    const longType = `text/plain; ${"x".repeat(200)}`;
    const refused = await send("POST", `/v1/admin/rules/${id}/expire`, "{}", { "Content-Type": longType });
    expect(refused.status).toBe(415);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain(JSON.stringify(longType.slice(0, 64)));
    expect(await current(send, id)).toMatchObject({ version: 1, expiresAt: null });
  });
});

describe("a write to a rule that is not there, or with a body or If-Match that cannot be read", () => {
  it("answers 404 for a replacement, an expiry or a deletion of an unknown id", async () => {
    const { send } = operatorApp(manualClock(START));
    const id = crypto.randomUUID();
    for (const response of [
      await send("PUT", `/v1/admin/rules/${id}`, { ...blockRule, version: 1 }),
      await send("POST", `/v1/admin/rules/${id}/expire`, {}),
      await send("DELETE", `/v1/admin/rules/${id}`),
    ]) {
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ error: { code: "ERR_NOT_FOUND" } });
    }
  });

  it("refuses an invalid replacement or expiry with a 400 naming the field, and writes nothing", async () => {
    const { send } = operatorApp(manualClock(START));
    const id = await created(send);
    const replacement = await send("PUT", `/v1/admin/rules/${id}`, { ...blockRule, action: "vaporise", version: 1 });
    expect(replacement.status).toBe(400);
    expect(await replacement.json()).toMatchObject({ error: { code: "ERR_VALIDATION", fields: { action: expect.any(String) } } });
    const expiry = await send("POST", `/v1/admin/rules/${id}/expire`, { version: 0 });
    expect(expiry.status).toBe(400);
    expect(await expiry.json()).toMatchObject({ error: { code: "ERR_VALIDATION", fields: { version: expect.any(String) } } });
    const ifMatch = await send("POST", `/v1/admin/rules/${id}/expire`, {}, { "If-Match": "*" });
    expect(ifMatch.status).toBe(400);
    expect(await ifMatch.json()).toMatchObject({ error: { code: "ERR_VALIDATION", fields: { "If-Match": expect.any(String) } } });
    expect(await current(send, id)).toMatchObject({ version: 1, expiresAt: null });
    expect(await auditOf(send, id)).toEqual(["create"]);
  });

  it("a rule read carries its version as its ETag", async () => {
    const { send } = operatorApp(manualClock(START));
    const id = await created(send);
    expect((await send("GET", `/v1/admin/rules/${id}`)).headers.get("ETag")).toBe('"1"');
  });
});

describe("a configuration section's replacement", () => {
  it("without If-Match or a version is refused with 428, and the section is left as it was", async () => {
    const { send } = operatorApp(manualClock(START));
    const before = (await (await send("GET", "/v1/admin/config/allow-list")).json()) as { version: number; document: unknown };
    const refused = await send("PUT", "/v1/admin/config/allow-list", { document: { entries: [{ customer: "Enterprise 428", cli: { prefix: "+7727259" }, trunk: "intl-428" }] } }, NAMED.admin.headers);
    expect(refused.status).toBe(428);
    expect(await refused.json()).toMatchObject({ error: { code: "ERR_VERSION_REQUIRED", fields: { version: expect.any(String) } } });
    expect(await (await send("GET", "/v1/admin/config/allow-list")).json()).toMatchObject({ version: before.version, document: before.document });
  });
});

describe("a roaming entry that is not there", () => {
  it("answers 404 to its deletion, not a conflict", async () => {
    const { send } = operatorApp(manualClock(START));
    const refused = await send("DELETE", "/v1/admin/roaming/77015557404", undefined, NAMED.admin.headers);
    expect(refused.status).toBe(404);
    expect(await refused.json()).toMatchObject({ error: { code: "ERR_NOT_FOUND" } });
  });
});
