import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { assessOrigin } from "../../../src/origin/assess";
import { isolateOriginSnapshots, originDepsFromEnv } from "../../../src/origin/deps";
import { recordVerdictStats } from "../../../src/stats/record";
import { mostSevereAction, sketchCall } from "../origin/support";
import { NAMED } from "../support/auth";
import { manualClock, operatorApp } from "./support";

const START = Date.parse("2026-11-27T12:00:00Z");
const report = { victim: "+77012345678", presentedCli: "+77172580000", time: "2026-11-27T11:40:00Z", channel: "call-centre", notes: "caller claimed to be the bank's security service" };

describe("fraud reports", () => {
  it("are recorded, listed, and turned into a linked blocking rule in one call", async () => {
    const clock = manualClock(START);
    const { send } = operatorApp(clock);
    const created = await send("POST", "/v1/reports", report);
    expect(created.status).toBe(201);
    const { report: stored } = (await created.json()) as { report: { id: string } };
    expect(await (await send("GET", "/v1/reports?cli=77172580000")).json()).toMatchObject({ reports: [{ id: stored.id, presentedCli: "77172580000", victim: "77012345678" }] });

    const ruled = await send("POST", `/v1/reports/${stored.id}/rules`, {}, NAMED.analyst.headers);
    expect(ruled.status).toBe(201);
    expect(await ruled.json()).toMatchObject({ rule: { criteria: { cli: { exact: "+77172580000" } }, action: "block", reportId: stored.id, author: NAMED.analyst.name } });
    const assessment = await assessOrigin(sketchCall({ cli: "+77172580000", trunk: "kt-1", international: false }), null, originDepsFromEnv(env, isolateOriginSnapshots(env), () => {}, clock));
    expect(mostSevereAction(assessment.findings)).toBe("block");
  });
  it("blocks the foreign CLI a report names, not the Kazakh number its digits spell when read as national", async () => {
    // +81 3 1234 5678 (Tokyo) is kept as the digits 81312345678: read again as a number typed at home,
    // that is 8 131 234 5678, the Kazakh +7 131 234 5678, and the Tokyo spoofer went on unblocked.
    const clock = manualClock(START);
    const { send } = operatorApp(clock);
    const { report: stored } = (await (await send("POST", "/v1/reports", { ...report, presentedCli: "+81 3 1234 5678" })).json()) as { report: { id: string } };
    const ruled = await send("POST", `/v1/reports/${stored.id}/rules`, {});
    expect(ruled.status).toBe(201);
    expect(await ruled.json()).toMatchObject({ rule: { criteria: { cli: { exact: "+81312345678" } } } });
    const deps = originDepsFromEnv(env, isolateOriginSnapshots(env), () => {}, clock);
    const ruleFindings = async (cli: string) => (await assessOrigin(sketchCall({ cli, trunk: "kt-1", international: false }), null, deps)).findings.filter((finding) => finding.checkId === "rules.operator");
    expect(await ruleFindings("+81312345678")).toMatchObject([{ action: "block" }]);
    expect(await ruleFindings("+71312345678")).toEqual([]);
  });
  it("rejects a report with bad fields, naming them", async () => {
    const response = await operatorApp(manualClock(START)).send("POST", "/v1/reports", { ...report, presentedCli: "bank", time: "2026-11-28T12:00:00Z" });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: "ERR_VALIDATION", fields: { presentedCli: expect.any(String), time: expect.any(String) } } });
  });
  it("validates the rule made from a report like any rule", async () => {
    const { send } = operatorApp(manualClock(START));
    const { report: stored } = (await (await send("POST", "/v1/reports", report)).json()) as { report: { id: string } };
    const response = await send("POST", `/v1/reports/${stored.id}/rules`, { action: "vaporise" });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { fields: { action: expect.any(String) } } });
  });
});

describe("traceback statistics", () => {
  it("counts verdicts by action, check, carrier and hour, with each carrier's spoofed share and the top blocked CLIs", async () => {
    const pending: Promise<unknown>[] = [];
    const deps = { db: env.DB, waitUntil: (p: Promise<unknown>) => void pending.push(p), timeoutMs: 5_000 };
    const spoofed = { action: "block" as const, policyMonitored: false, decidedBy: "origin.national-on-international", checks: [{ id: "origin.national-on-international", result: "fail" as const }], cli: "77272501234", atMs: START };
    recordVerdictStats({ ...spoofed, ingress: { carrier: "TransitCo", carrierName: "TransitCo" } }, deps);
    recordVerdictStats({ ...spoofed, ingress: { carrier: "TransitCo", carrierName: "TransitCo" } }, deps);
    recordVerdictStats({ action: "allow", policyMonitored: false, decidedBy: null, checks: [], cli: "74951234567", atMs: START, ingress: { carrier: "TransitCo", carrierName: "TransitCo" } }, deps);
    recordVerdictStats({ action: "allow", policyMonitored: false, decidedBy: null, checks: [], cli: "74951234567", atMs: START + 3_600_000, ingress: { carrier: null, carrierName: "Honest Telecom" } }, deps);
    await Promise.all(pending);
    while (pending.length > 0) await Promise.all(pending.splice(0));

    const response = await operatorApp(manualClock(START + 2 * 3_600_000)).send("GET", "/v1/stats?from=2026-11-27T00:00:00Z");
    expect(await response.json()).toMatchObject({
      total: 4,
      byAction: { block: 2, allow: 2 },
      byCheck: { "origin.national-on-international": 2 },
      byCarrier: [
        { carrier: "TransitCo", calls: 3, spoofed: 2, spoofedShare: 2 / 3 },
        { carrier: "Honest Telecom", calls: 1, spoofed: 0, spoofedShare: 0 },
      ],
      byHour: [
        { hour: "2026-11-27T12", calls: 3 },
        { hour: "2026-11-27T13", calls: 1 },
      ],
      topBlockedClis: [{ cli: "77272501234", count: 2 }],
    });
  });
  it("rejects a malformed range", async () => {
    expect((await operatorApp(manualClock(START)).send("GET", "/v1/stats?from=yesterday")).status).toBe(400);
  });
});
