import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { assessOrigin } from "../../../src/origin/assess";
import { isolateOriginSnapshots, originDepsFromEnv } from "../../../src/origin/deps";
import { sketchCall } from "../origin/support";
import { NAMED } from "../support/auth";
import { manualClock, operatorApp } from "./support";

/**
 * `POST /v1/reports/{id}/rules`, the analysts' shortcut from a fraud report to a blocking rule: the rule
 * it creates is the one described (the reported CLI, blocked, unless the body says otherwise), linked to
 * the report and audited under the analyst.
 */
const START = Date.parse("2026-11-27T12:00:00Z");
const report = { victim: "+77012345678", presentedCli: "+77172586000", time: "2026-11-27T11:40:00Z", channel: "app" };

type Send = ReturnType<typeof operatorApp>["send"];
const file = async (send: Send, presentedCli: string) => ((await (await send("POST", "/v1/reports", { ...report, presentedCli })).json()) as { report: { id: string } }).report.id;
const ruleFindings = async (clock: ReturnType<typeof manualClock>, cli: string, trunk: string) =>
  (await assessOrigin(sketchCall({ cli, trunk, international: false }), null, originDepsFromEnv(env, isolateOriginSnapshots(env), () => {}, clock))).findings.filter((finding) => finding.checkId === "rules.operator");

describe("a rule made from a fraud report", () => {
  it("keeps the reported CLI when the analyst narrows the rule to a trunk: it blocks that CLI there, not every call on the trunk", async () => {
    const clock = manualClock(START);
    const { send } = operatorApp(clock);
    const id = await file(send, "+77172586001");
    const ruled = await send("POST", `/v1/reports/${id}/rules`, { criteria: { trunk: "kt-9" } });
    expect(ruled.status).toBe(201);
    expect(await ruled.json()).toMatchObject({ rule: { criteria: { cli: { exact: "+77172586001" }, trunk: "kt-9" }, action: "block", reportId: id } });
    expect(await ruleFindings(clock, "+77172586001", "kt-9")).toMatchObject([{ action: "block" }]);
    expect(await ruleFindings(clock, "+77172586099", "kt-9")).toEqual([]);
  });

  it("takes the analyst's own CLI pattern in place of the reported number", async () => {
    const { send } = operatorApp(manualClock(START));
    const id = await file(send, "+77172586002");
    const ruled = await send("POST", `/v1/reports/${id}/rules`, { criteria: { cli: { prefix: "+771725860" } } });
    expect(await ruled.json()).toMatchObject({ rule: { criteria: { cli: { prefix: "+771725860" } }, reportId: id } });
  });
});
