import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../../src/app";
import { NAMED } from "../support/auth";
import { d1WithBatch, sqlOf } from "../support/d1";
import { manualClock, operatorApp } from "./support";

/**
 * Issue 22 item 12: creates take an Idempotency-Key (draft-ietf-httpapi-idempotency-key-header). The
 * same key and body answer the first response again; the same key with another body is refused.
 */
const START = Date.parse("2026-11-27T12:00:00Z");
const DAY = 24 * 3_600_000;
const rule = (cli: string) => ({ criteria: { cli: { exact: cli } }, action: "block", reason: "idempotency" });
const report = { victim: "+77012345678", presentedCli: "+77172589999", time: "2026-11-27T11:40:00Z", channel: "call-centre", notes: "asked for the card's CVV" };

/** The key's fingerprint of a body: its SHA-256, in hex. */
const fingerprintOf = async (body: string) => [...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(body)))].map((byte) => byte.toString(16).padStart(2, "0")).join("");

async function rulesFor(send: ReturnType<typeof operatorApp>["send"], cli: string) {
  return ((await (await send("GET", `/v1/admin/rules?cli=${cli}`)).json()) as { rules: { id: string }[] }).rules;
}

describe("POST /v1/admin/rules with an Idempotency-Key", () => {
  it("answers a retry with the first response, marked as replayed, and makes one rule", async () => {
    const { send } = operatorApp(manualClock(START));
    const key = { "Idempotency-Key": crypto.randomUUID() };
    const first = await send("POST", "/v1/admin/rules", rule("77272503001"), key);
    const retry = await send("POST", "/v1/admin/rules", rule("77272503001"), key);
    expect([first.status, retry.status]).toEqual([201, 201]);
    expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
    expect(retry.headers.get("ETag")).toBe(first.headers.get("ETag"));
    expect(await retry.json()).toEqual(await first.json());
    expect(await rulesFor(send, "77272503001")).toHaveLength(1);
  });

  it("refuses the same key with a different body (422)", async () => {
    const { send } = operatorApp(manualClock(START));
    const key = { "Idempotency-Key": crypto.randomUUID() };
    expect((await send("POST", "/v1/admin/rules", rule("77272503002"), key)).status).toBe(201);
    const reused = await send("POST", "/v1/admin/rules", rule("77272503003"), key);
    expect(reused.status).toBe(422);
    expect(await reused.json()).toMatchObject({ error: { code: "ERR_IDEMPOTENCY_KEY_REUSED" } });
    expect(await rulesFor(send, "77272503003")).toHaveLength(0);
  });

  it("answers 409 while the first request with the key is still being handled", async () => {
    const { send } = operatorApp(manualClock(START));
    const key = crypto.randomUUID();
    const body = JSON.stringify(rule("77272503004"));
    const fingerprint = await fingerprintOf(body);
    const scope = JSON.stringify([NAMED.analyst.name, "POST", "/v1/admin/rules", key]);
    await env.DB.prepare("INSERT INTO idempotency_keys (scope, fingerprint, claimed_at) VALUES (?, ?, ?)").bind(scope, fingerprint, START).run();
    const response = await send("POST", "/v1/admin/rules", body, { ...NAMED.analyst.headers, "Idempotency-Key": key });
    expect(response.status).toBe(409);
    expect(response.headers.get("Retry-After")).toBe("1");
    expect(await response.json()).toMatchObject({ error: { code: "ERR_IDEMPOTENCY_IN_PROGRESS" } });
  });

  it("lets a retry take over a claim whose request died before committing", async () => {
    const clock = manualClock(START);
    const { send } = operatorApp(clock);
    const key = crypto.randomUUID();
    const scope = JSON.stringify([NAMED.analyst.name, "POST", "/v1/admin/rules", key]);
    await env.DB.prepare("INSERT INTO idempotency_keys (scope, fingerprint, claimed_at) VALUES (?, 'stale', ?)").bind(scope, START - 120_000).run();
    expect((await send("POST", "/v1/admin/rules", rule("77272503005"), { ...NAMED.analyst.headers, "Idempotency-Key": key })).status).toBe(201);
  });

  it("releases the key when the create fails, so a corrected request may use it", async () => {
    const { send } = operatorApp(manualClock(START));
    const key = { "Idempotency-Key": crypto.randomUUID() };
    expect((await send("POST", "/v1/admin/rules", { ...rule("77272503006"), action: "vaporise" }, key)).status).toBe(400);
    expect((await send("POST", "/v1/admin/rules", rule("77272503006"), key)).status).toBe(201);
  });

  it("keeps a key for a day, and to the operator who sent it", async () => {
    const clock = manualClock(START);
    const { send } = operatorApp(clock);
    const key = crypto.randomUUID();
    await send("POST", "/v1/admin/rules", rule("77272503007"), { ...NAMED.analyst.headers, "Idempotency-Key": key });
    expect((await send("POST", "/v1/admin/rules", rule("77272503007"), { ...NAMED.admin.headers, "Idempotency-Key": key })).headers.get("Idempotent-Replayed")).toBeNull();
    clock.advance(DAY + 1);
    expect((await send("POST", "/v1/admin/rules", rule("77272503007"), { ...NAMED.analyst.headers, "Idempotency-Key": key })).headers.get("Idempotent-Replayed")).toBeNull();
    expect(await rulesFor(send, "77272503007")).toHaveLength(3);
  });

  it("reads a key sent as a Structured Fields string and the same key bare as one key", async () => {
    const { send } = operatorApp(manualClock(START));
    const key = crypto.randomUUID();
    const first = await send("POST", "/v1/admin/rules", rule("77272503010"), { "Idempotency-Key": `"${key}"` });
    const retry = await send("POST", "/v1/admin/rules", rule("77272503010"), { "Idempotency-Key": ` ${key} ` });
    expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await retry.json()).toEqual(await first.json());
    expect(await rulesFor(send, "77272503010")).toHaveLength(1);
  });

  it("accepts a key of 255 characters", async () => {
    const { send } = operatorApp(manualClock(START));
    const key = { "Idempotency-Key": "k".repeat(254) + crypto.randomUUID().slice(0, 1) };
    expect((await send("POST", "/v1/admin/rules", rule("77272503011"), key)).status).toBe(201);
    expect((await send("POST", "/v1/admin/rules", rule("77272503011"), key)).headers.get("Idempotent-Replayed")).toBe("true");
  });

  it("keeps a key for exactly a day: a retry at the day's last instant is answered from it", async () => {
    const clock = manualClock(START);
    const { send } = operatorApp(clock);
    const key = { "Idempotency-Key": crypto.randomUUID() };
    await send("POST", "/v1/admin/rules", rule("77272503012"), key);
    clock.advance(DAY);
    expect((await send("POST", "/v1/admin/rules", rule("77272503012"), key)).headers.get("Idempotent-Replayed")).toBe("true");
    expect(await rulesFor(send, "77272503012")).toHaveLength(1);
  });

  it("waits a minute before taking over a claim left without an answer: 409 at the minute, taken over just after", async () => {
    const { send } = operatorApp(manualClock(START));
    const body = JSON.stringify(rule("77272503013"));
    const scopeOf = (key: string) => JSON.stringify([NAMED.analyst.name, "POST", "/v1/admin/rules", key]);
    const [young, old] = [crypto.randomUUID(), crypto.randomUUID()];
    await env.DB.prepare("INSERT INTO idempotency_keys (scope, fingerprint, claimed_at) VALUES (?, ?, ?)").bind(scopeOf(young), await fingerprintOf(body), START - 60_000).run();
    await env.DB.prepare("INSERT INTO idempotency_keys (scope, fingerprint, claimed_at) VALUES (?, ?, ?)").bind(scopeOf(old), await fingerprintOf(body), START - 60_001).run();
    expect((await send("POST", "/v1/admin/rules", body, { ...NAMED.analyst.headers, "Idempotency-Key": young })).status).toBe(409);
    expect((await send("POST", "/v1/admin/rules", body, { ...NAMED.analyst.headers, "Idempotency-Key": old })).status).toBe(201);
    expect(await rulesFor(send, "77272503013")).toHaveLength(1);
  });

  it("creates once when the first request's create commits after a retry took its claim over: the slow create is refused, and answers what the key holds", async () => {
    // The first request's create is held in D1 for more than a minute (D1 slow, say); its client gives
    // up and retries with the key, which by then looks abandoned, and the retry creates the rule.
    const clock = manualClock(START);
    let hold: Promise<void> | undefined;
    let release!: () => void;
    let held!: () => void;
    const holding = new Promise<void>((resolve) => (held = resolve));
    const db = d1WithBatch(async (statements, real) => {
      if (hold && statements.some((statement) => /^\s*INSERT INTO rules\b/.test(sqlOf(statement)))) {
        const waiting = hold;
        hold = undefined;
        held();
        await waiting;
      }
      return real(statements);
    });
    hold = new Promise<void>((resolve) => (release = resolve));
    const app = createApp({ clock });
    const body = JSON.stringify(rule("77272503016"));
    const key = crypto.randomUUID();
    const post = () => app.request("/v1/admin/rules", { method: "POST", headers: { ...NAMED.analyst.headers, "Content-Type": "application/json", "Idempotency-Key": key }, body }, { ...env, DB: db });
    const slow = post();
    await holding;
    clock.advance(60_001);
    const retry = await post();
    expect(retry.status).toBe(201);
    release();
    // The slow request's create is rolled back; its answer is the one the key holds, the retry's rule.
    const slowAnswer = await slow;
    expect([slowAnswer.status, slowAnswer.headers.get("Idempotent-Replayed")]).toEqual([201, "true"]);
    expect(await slowAnswer.json()).toEqual(await retry.clone().json());
    expect(await rulesFor(operatorApp(clock).send, "77272503016")).toHaveLength(1);
    const again = await post();
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await again.json()).toEqual(await retry.json());
  });

  it("forgets keys older than a day as new keys are claimed", async () => {
    const { send } = operatorApp(manualClock(START));
    const scope = JSON.stringify([NAMED.analyst.name, "POST", "/v1/admin/rules", crypto.randomUUID()]);
    await env.DB.prepare("INSERT INTO idempotency_keys (scope, fingerprint, claimed_at, status, body) VALUES (?, 'old', ?, 201, '{}')").bind(scope, START - DAY - 1).run();
    await send("POST", "/v1/admin/rules", rule("77272503014"), { "Idempotency-Key": crypto.randomUUID() });
    expect(await env.DB.prepare("SELECT scope FROM idempotency_keys WHERE scope = ?").bind(scope).first()).toBeNull();
  });

  it("is a key of one path: the same key on another create is another request", async () => {
    const { send } = operatorApp(manualClock(START));
    const key = { "Idempotency-Key": crypto.randomUUID() };
    expect((await send("POST", "/v1/admin/rules", rule("77272503015"), key)).status).toBe(201);
    const filed = await send("POST", "/v1/reports", { ...report, presentedCli: "+77172589997" }, key);
    expect(filed.status).toBe(201);
    expect(filed.headers.get("Idempotent-Replayed")).toBeNull();
    expect(await filed.json()).toMatchObject({ report: { presentedCli: "77172589997" } });
  });

  it("answers 413 to a body over the limit, as without a key, and keeps no claim: the key stays free", async () => {
    const { send } = operatorApp(manualClock(START));
    const key = { "Idempotency-Key": crypto.randomUUID() };
    const oversized = await send("POST", "/v1/admin/rules", { ...rule("77272503017"), reason: "x".repeat(1_048_576) }, key);
    expect(oversized.status).toBe(413);
    expect(await oversized.json()).toMatchObject({ error: { code: "ERR_BODY_TOO_LARGE" } });
    expect((await send("POST", "/v1/admin/rules", rule("77272503017"), key)).status).toBe(201);
  });

  it.each([
    ["empty", ""],
    ["too long", "x".repeat(256)],
    ["quoting inside", 'a"b'],
  ])("refuses a key that is %s", async (_, value) => {
    const { send } = operatorApp(manualClock(START));
    const response = await send("POST", "/v1/admin/rules", rule("77272503008"), { "Idempotency-Key": value });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { fields: { "Idempotency-Key": expect.any(String) } } });
  });
});

describe("fraud reports and the rules made from them", () => {
  it("a report filed twice with one key is one report", async () => {
    const { send } = operatorApp(manualClock(START));
    const key = { "Idempotency-Key": crypto.randomUUID() };
    const first = (await (await send("POST", "/v1/reports", report, key)).json()) as { report: { id: string } };
    const retry = await send("POST", "/v1/reports", report, key);
    expect(retry.status).toBe(201);
    expect(retry.headers.get("ETag")).toBeNull();
    expect(((await retry.json()) as { report: { id: string } }).report.id).toBe(first.report.id);
    expect(((await (await send("GET", "/v1/reports?cli=77172589999")).json()) as { reports: unknown[] }).reports).toHaveLength(1);
  });

  it("turning a report into a rule twice with one key makes one rule", async () => {
    const { send } = operatorApp(manualClock(START));
    const { report: filed } = (await (await send("POST", "/v1/reports", { ...report, presentedCli: "+77172589998" })).json()) as { report: { id: string } };
    const key = { "Idempotency-Key": `dashboard-report-rule-${filed.id}` };
    const first = await send("POST", `/v1/reports/${filed.id}/rules`, {}, key);
    const second = await send("POST", `/v1/reports/${filed.id}/rules`, {}, key);
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(await second.json()).toEqual(await first.json());
    expect(await rulesFor(send, "77172589998")).toHaveLength(1);
  });
});
