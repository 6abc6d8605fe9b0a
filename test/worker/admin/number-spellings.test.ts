import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sbcAuth } from "../support/auth";
import { manualClock, operatorApp } from "./support";

/**
 * Issue 23 item 5: wherever a person types a number — a rule, a report, a query, the roaming table —
 * it is read as /v1/verdict reads a caller ID (RFC 8224 §8.3 separators, national format by the home
 * plan, KZ here), and kept in canonical form.
 */
const CANONICAL = "77272501234";
const SPELLINGS = ["+7 727 250 12 34", "8 727 250 12 34", "+7 (727) 250-12-34", "8 (727) 250-12-34", "7272501234", "+77272501234", "77272501234", " +7.727.250.12.34 "];
const START = Date.parse("2026-11-27T12:00:00Z");

describe("every spelling the verdict accepts", () => {
  it.each(SPELLINGS)("%j is read by the verdict as the caller ID 77272501234", async (spelling) => {
    const { app } = operatorApp(manualClock(START));
    const response = await app.request("/v1/verdict", { method: "POST", headers: { ...sbcAuth, "Content-Type": "application/json" }, body: JSON.stringify({ from: spelling, to: "+77012345678", ingress: { trunk: "kt-1", international: false } }) }, env);
    expect(((await response.json()) as { verdict: { cli: { tn: string } } }).verdict.cli.tn).toBe(CANONICAL);
  });

  it.each(SPELLINGS)("%j is accepted in a rule's criteria, and shown in international form", async (spelling) => {
    const { send } = operatorApp(manualClock(START));
    const created = await send("POST", "/v1/admin/rules", { criteria: { cli: { exact: spelling }, destination: { from: spelling, to: "+7 727 250 99 99" } }, action: "tag", reason: "spellings" });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ rule: { criteria: { cli: { exact: `+${CANONICAL}` }, destination: { from: `+${CANONICAL}`, to: "+77272509999" } } } });
  });

  it.each(SPELLINGS)("%j is accepted in a fraud report, and stored canonical", async (spelling) => {
    const { send } = operatorApp(manualClock(START));
    const filed = await send("POST", "/v1/reports", { victim: spelling, presentedCli: spelling, time: "2026-11-27T11:40:00Z", channel: "app" });
    expect(filed.status).toBe(201);
    expect(await filed.json()).toMatchObject({ report: { victim: CANONICAL, presentedCli: CANONICAL } });
  });

  it("is read the same way in queries and in the roaming table's path", async () => {
    const { send } = operatorApp(manualClock(START));
    await send("POST", "/v1/reports", { victim: "+77012345678", presentedCli: "8 727 250 12 34", time: "2026-11-27T11:40:00Z", channel: "app" });
    const listed = (await (await send("GET", `/v1/reports?cli=${encodeURIComponent("+7 (727) 250-12-34")}`)).json()) as { reports: { presentedCli: string }[] };
    expect(listed.reports.length).toBeGreaterThan(0);
    expect(listed.reports.every((report) => report.presentedCli === CANONICAL)).toBe(true);

    expect((await send("PUT", `/v1/admin/roaming/${encodeURIComponent("8 705 123 45 67")}`, { status: "home" })).status).toBe(200);
    expect(await (await send("GET", "/v1/admin/roaming/+77051234567")).json()).toMatchObject({ tn: "77051234567", status: "home" });
  });

  it("a prefix keeps its international digits, separators allowed", async () => {
    const { send } = operatorApp(manualClock(START));
    const created = await send("POST", "/v1/admin/rules", { criteria: { cli: { prefix: "+7 727 250" } }, action: "tag", reason: "prefix" });
    expect(await created.json()).toMatchObject({ rule: { criteria: { cli: { prefix: "+7727250" } } } });
  });

  // An analyst blocking a campaign types its prefix as it is dialled at home. Kept as international
  // digits, 8 701 555 named +870 1555 (Inmarsat) and 8 727 250 +872 7250: the rule matched nothing and
  // the campaign from +7 701 555… went on. Without '+', a prefix that starts with the national trunk
  // prefix cannot be told from an international one, so it is refused, saying how to write either.
  it.each([
    ["8 701 555", "+7701555"],
    ["8727250", "+7727250"],
    ["810 49 30", "+4930"],
  ])("a prefix %j, which may be national, is refused with how to write it (%s)", async (prefix, national) => {
    const { send } = operatorApp(manualClock(START));
    const response = await send("POST", "/v1/admin/rules", { criteria: { cli: { prefix } }, action: "block", reason: "campaign" });
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as { error: { fields: Record<string, string> } };
    expect(error.fields["criteria.cli.prefix"]).toContain(national);
  });

  it("with '+' the same digits are an international prefix, as written", async () => {
    const { send } = operatorApp(manualClock(START));
    const created = await send("POST", "/v1/admin/rules", { criteria: { destination: { prefix: "+8 701" }, cli: { prefix: "86 138" } }, action: "tag", reason: "prefix" });
    expect(created.status).toBe(400);
    const fixed = await send("POST", "/v1/admin/rules", { criteria: { destination: { prefix: "+8 701" }, cli: { prefix: "+86 138" } }, action: "tag", reason: "prefix" });
    expect(await fixed.json()).toMatchObject({ rule: { criteria: { destination: { prefix: "+8701" }, cli: { prefix: "+86138" } } } });
  });

  // Stored as digits and shown as digits, a foreign rule did not survive being read and sent back: the
  // prefix 86138 (China) is refused as possibly national, and the number 81312345678 (Tokyo) is read as
  // the Kazakh national 8 131…. Shown with '+', a rule read and sent back names what it named.
  it("a rule read and sent back unchanged names the same numbers", async () => {
    const { send } = operatorApp(manualClock(START));
    const created = await send("POST", "/v1/admin/rules", { criteria: { cli: { prefix: "+86 138" }, destination: { exact: "+81 3 1234 5678" } }, action: "tag", reason: "foreign" });
    const { rule } = (await created.json()) as { rule: { id: string; criteria: unknown; action: string; reason: string; version: number } };
    const replaced = await send("PUT", `/v1/admin/rules/${rule.id}`, { criteria: rule.criteria, action: rule.action, reason: rule.reason, version: rule.version });
    expect(replaced.status).toBe(200);
    expect(await replaced.json()).toMatchObject({ rule: { criteria: { cli: { prefix: "+86138" }, destination: { exact: "+81312345678" } } } });
  });

  it.each([
    ["/v1/admin/rules", { criteria: { cli: { exact: "bank" } }, action: "block", reason: "x" }, "criteria.cli.exact"],
    ["/v1/admin/rules", { criteria: { cli: { prefix: "+7 72x" } }, action: "block", reason: "x" }, "criteria.cli.prefix"],
    ["/v1/reports", { victim: "+7 701 ABC", presentedCli: "+77272501234", time: "2026-11-27T11:40:00Z", channel: "app" }, "victim"],
  ])("what is no number is refused once, naming the field (%s)", async (path, body, field) => {
    const response = await operatorApp(manualClock(START)).send("POST", path, body);
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as { error: { message: string; fields: Record<string, string> } };
    expect(Object.keys(error.fields)).toEqual([field]);
  });
});
