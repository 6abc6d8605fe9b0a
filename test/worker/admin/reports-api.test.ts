import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { assessOrigin } from "../../../src/origin/assess";
import { isolateOriginSnapshots, originDepsFromEnv } from "../../../src/origin/deps";
import { sketchCall } from "../origin/support";
import { NAMED } from "../support/auth";
import { manualClock, operatorApp } from "./support";

/**
 * `/v1/reports`: a fraud report is stored as filed and listed newest first, a page at a time; and
 * `POST /v1/reports/{id}/rules`, the analysts' shortcut from a report to a blocking rule, creates the rule
 * described (the reported CLI, blocked, unless the body says otherwise), linked to the report and audited
 * under the analyst.
 */
const START = Date.parse("2026-11-27T12:00:00Z");
const report = { victim: "+77012345678", presentedCli: "+77172586000", time: "2026-11-27T11:40:00Z", channel: "app" };

type Send = ReturnType<typeof operatorApp>["send"];
interface Report {
  id: string;
  presentedCli: string;
  notes: string | null;
  reporter: string;
  callTime: string;
  createdAt: string;
}
const file = async (send: Send, presentedCli: string) => ((await (await send("POST", "/v1/reports", { ...report, presentedCli })).json()) as { report: { id: string } }).report.id;
const ruleFindings = async (clock: ReturnType<typeof manualClock>, cli: string, trunk: string) =>
  (await assessOrigin(sketchCall({ cli, trunk, international: false }), null, originDepsFromEnv(env, isolateOriginSnapshots(env), () => {}, clock))).findings.filter((finding) => finding.checkId === "rules.operator");

describe("filing a fraud report", () => {
  it("stores it as filed: numbers canonical, no notes as null, the filing operator as reporter when none is given", async () => {
    const { send } = operatorApp(manualClock(START));
    const filed = await send("POST", "/v1/reports", { ...report, presentedCli: "8 717 258 6100" }, NAMED.analyst.headers);
    expect(filed.status).toBe(201);
    const { report: stored } = (await filed.json()) as { report: Report };
    const expected = { id: stored.id, victim: "77012345678", presentedCli: "77172586100", channel: "app", notes: null, reporter: NAMED.analyst.name, callTime: "2026-11-27T11:40:00.000Z", createdAt: "2026-11-27T12:00:00.000Z" };
    expect(stored).toEqual(expected);
    expect(await (await send("GET", `/v1/reports/${stored.id}`)).json()).toEqual({ report: expected });
  });

  it("reads a call time given with any offset, and trims the channel, notes and reporter", async () => {
    const { send } = operatorApp(manualClock(START));
    const filed = await send("POST", "/v1/reports", { ...report, time: "2026-11-27T16:40:00+05:00", channel: " national-bank ", notes: "  asked for the CVV  ", reporter: "  afm-centre  " });
    expect(filed.status).toBe(201);
    expect(await filed.json()).toMatchObject({ report: { callTime: "2026-11-27T11:40:00.000Z", channel: "national-bank", notes: "asked for the CVV", reporter: "afm-centre" } });
  });

  it("does not publish what an unfinished import left: filing a report moves no origin version", async () => {
    const { send } = operatorApp(manualClock(START));
    const importId = crypto.randomUUID();
    const batch = await send("POST", "/v1/admin/rules/import", { importId, first: 0, publish: false, rules: [{ criteria: { cli: { exact: "+77172586300" } }, action: "block", reason: "unfinished import" }] }, NAMED.admin.headers);
    expect(batch.status).toBe(200);
    const published = async () => ((await (await send("GET", "/v1/admin/rules?cli=77172586300")).json()) as { rules: { published: boolean }[] }).rules.map((rule) => rule.published);
    expect(await published()).toEqual([false]);
    expect((await send("POST", "/v1/reports", { ...report, presentedCli: "+77172586300" })).status).toBe(201);
    expect(await published()).toEqual([false]);
  });

  it("accepts a call up to five minutes ahead of the clock, and refuses one later, naming time", async () => {
    const { send } = operatorApp(manualClock(START));
    expect((await send("POST", "/v1/reports", { ...report, time: "2026-11-27T12:05:00Z" })).status).toBe(201);
    const ahead = await send("POST", "/v1/reports", { ...report, time: "2026-11-27T12:05:00.001Z" });
    expect(ahead.status).toBe(400);
    expect(await ahead.json()).toMatchObject({ error: { code: "ERR_VALIDATION", fields: { time: expect.any(String) } } });
  });

  it.each([
    ["an unknown member", { ...report, severity: "high" }, "(body)"],
    ["a channel of two words", { ...report, channel: "call centre" }, "channel"],
    ["an empty reporter", { ...report, reporter: "  " }, "reporter"],
    ["a time without an offset", { ...report, time: "2026-11-27T11:40:00" }, "time"],
    ["no victim", { presentedCli: report.presentedCli, time: report.time, channel: report.channel }, "victim"],
  ])("refuses %s with a 400 naming the field, and files nothing", async (_, body, field) => {
    const { send } = operatorApp(manualClock(START));
    const before = (await (await send("GET", "/v1/reports?cli=77172586000&limit=1000")).json()) as { reports: Report[] };
    const refused = await send("POST", "/v1/reports", body);
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: { code: "ERR_VALIDATION", message: expect.stringContaining(`${field}: `), fields: { [field]: expect.any(String) } } });
    expect(await (await send("GET", "/v1/reports?cli=77172586000&limit=1000")).json()).toEqual(before);
  });

  it("answers 404 for an id that names no report, or is no id", async () => {
    const { send } = operatorApp(manualClock(START));
    expect((await send("GET", `/v1/reports/${crypto.randomUUID()}`)).status).toBe(404);
    expect((await send("GET", "/v1/reports/not-an-id")).status).toBe(404);
  });
});

describe("listing fraud reports", () => {
  /** Five reports of one CLI: two filed at one instant, then three a minute apart. */
  async function fiveReports(cli: string) {
    const clock = manualClock(START);
    const { send } = operatorApp(clock);
    const ids: string[] = [];
    for (let index = 0; index < 5; index++) {
      if (index >= 2) clock.advance(60_000);
      ids.push(await file(send, cli));
    }
    const page = async (query: string) => {
      const response = await send("GET", `/v1/reports?cli=${cli}&${query}`);
      expect(response.status).toBe(200);
      const { reports, next } = (await response.json()) as { reports: Report[]; next: string | null };
      return { ids: reports.map(({ id }) => id), next };
    };
    const list = async (query: string) => (await page(query)).ids;
    return { send, page, list, fileOne: () => file(send, cli), newestFirst: [ids[4]!, ids[3]!, ids[2]!, ...ids.slice(0, 2).sort()] };
  }

  it("lists newest first, reports filed at one instant in their ids' order, and pages by limit and offset without a gap or a repeat", async () => {
    const { list, newestFirst } = await fiveReports("77172586200");
    expect(await list("")).toEqual(newestFirst);
    const pages = [await list("limit=2"), await list("limit=2&offset=2"), await list("limit=2&offset=4")];
    expect(pages.map((page) => page.length)).toEqual([2, 2, 1]);
    expect(pages.flat()).toEqual(newestFirst);
  });

  it("pages by the cursor each full page gives as next, null at the end: no report missed or repeated though one is filed between pages", async () => {
    const { page, fileOne, newestFirst } = await fiveReports("77172586204");
    const seen: string[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 5; pages++) {
      const listed = await page(`limit=3${after === null ? "" : `&after=${encodeURIComponent(after)}`}`);
      seen.push(...listed.ids);
      after = listed.next;
      if (after === null) break;
      await fileOne();
    }
    expect(after).toBeNull();
    expect(seen).toEqual(newestFirst);
  });

  it("with offset, a report filed between pages repeats one: why the listing gives next", async () => {
    const { list, fileOne, newestFirst } = await fiveReports("77172586205");
    const first = await list("limit=2&offset=0");
    await fileOne();
    const second = await list("limit=2&offset=2");
    expect([...first, ...second]).toEqual([...newestFirst.slice(0, 2), newestFirst[1], newestFirst[2]]);
  });

  it.each([["not-a-cursor"], ["12_"], [`1795780800000_${"x".repeat(129)}`]])("refuses the cursor %s, naming after", async (after) => {
    const { send } = operatorApp(manualClock(START));
    const refused = await send("GET", `/v1/reports?after=${encodeURIComponent(after)}`);
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: { code: "ERR_VALIDATION", fields: { after: expect.any(String) } } });
  });

  it("refuses a cursor with an offset, naming after", async () => {
    const { page } = await fiveReports("77172586206");
    const { next } = await page("limit=2");
    const { send } = operatorApp(manualClock(START));
    const refused = await send("GET", `/v1/reports?after=${encodeURIComponent(next!)}&offset=2`);
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: { fields: { after: expect.any(String) } } });
  });

  it("lists only the reports received since the instant given, that instant included", async () => {
    const { list, newestFirst } = await fiveReports("77172586201");
    expect(await list("since=2026-11-27T12:02:00Z")).toEqual(newestFirst.slice(0, 2));
  });

  it("lists only the reports of the CLI given, however it is spelled", async () => {
    const { send } = operatorApp(manualClock(START));
    const id = await file(send, "+77172586202");
    await file(send, "+77172586203");
    const listed = (await (await send("GET", "/v1/reports?cli=8%20717%20258%206202")).json()) as { reports: Report[] };
    expect(listed.reports.map((listedReport) => listedReport.id)).toEqual([id]);
  });
});

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

  it("takes the analyst's action, reason, label and expiry, and links the rule to the report in its audit entry", async () => {
    const { send } = operatorApp(manualClock(START));
    const id = await file(send, "+77172586003");
    const ruled = await send("POST", `/v1/reports/${id}/rules`, { action: "tag", reason: "reported twice", label: "Fraud?", expiresAt: "2026-12-27T12:00:00Z", author: "analyst.aigerim" }, NAMED.analyst.headers);
    expect(ruled.status).toBe(201);
    const { rule } = (await ruled.json()) as { rule: { id: string } };
    const expected = { criteria: { cli: { exact: "+77172586003" } }, action: "tag", reason: "reported twice", label: "Fraud?", expiresAt: "2026-12-27T12:00:00.000Z", reportId: id, author: NAMED.analyst.name };
    expect(rule).toMatchObject(expected);
    const { entries } = (await (await send("GET", `/v1/admin/audit?entity=rule&id=${rule.id}`)).json()) as { entries: unknown[] };
    expect(entries).toEqual([expect.objectContaining({ operation: "create", actor: NAMED.analyst.name, author: "analyst.aigerim", before: null, after: expect.objectContaining({ reportId: id, action: "tag" }) })]);
  });

  it("refuses a body that would name another report, or criteria that are no rule's, with a 400 naming the field, and creates nothing", async () => {
    const { send } = operatorApp(manualClock(START));
    const id = await file(send, "+77172586004");
    const other = await send("POST", `/v1/reports/${id}/rules`, { reportId: crypto.randomUUID() });
    expect(other.status).toBe(400);
    expect(await other.json()).toMatchObject({ error: { code: "ERR_VALIDATION", fields: { "(body)": expect.stringContaining("reportId") } } });
    const colour = await send("POST", `/v1/reports/${id}/rules`, { criteria: { colour: "red" } });
    expect(colour.status).toBe(400);
    expect(await colour.json()).toMatchObject({ error: { code: "ERR_VALIDATION", fields: { criteria: expect.any(String) } } });
    const rules = (await (await send("GET", "/v1/admin/rules?cli=77172586004")).json()) as { rules: { reportId: string | null }[] };
    expect(rules.rules.filter((rule) => rule.reportId === id)).toEqual([]);
  });

  it("answers 404 for a report that does not exist, and creates no rule", async () => {
    const { send } = operatorApp(manualClock(START));
    expect((await send("POST", `/v1/reports/${crypto.randomUUID()}/rules`, {})).status).toBe(404);
    expect((await send("POST", "/v1/reports/not-an-id/rules", {})).status).toBe(404);
  });
});
