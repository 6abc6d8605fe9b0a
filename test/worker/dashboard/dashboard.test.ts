import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../../../src/app";
import { RECENT_VERDICTS_KEPT } from "../../../src/dashboard/recent-verdicts";
import { MAX_LISTED_CHARS } from "../../../src/dashboard/recent-verdicts-routes";
import { insertLargePages, insertOldVerdicts, listedVerdicts } from "./support";
import { DOMESTIC, INTERNATIONAL, adminGet, postVerdictAndSettle, unsignedCall } from "../metrics/support";

beforeEach(() => void vi.spyOn(console, "log").mockImplementation(() => {}));
afterEach(() => vi.restoreAllMocks());

describe("GET /dashboard", () => {
  it("serves the page with a policy that allows nothing but this origin", async () => {
    const response = await createApp().request("/dashboard", {}, env);
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/^text\/html/);
    expect(response.headers.get("Content-Security-Policy")).toContain("script-src 'self'");
    const page = await response.text();
    expect(page).toContain('<form id="login-form">');
    expect(page).toContain('src="/dashboard/assets/uplot.js"');
  });

  it.each([
    ["dashboard.js", "sessionStorage"],
    ["uplot.js", "uPlot"],
  ])("serves %s", async (file, content) => {
    const response = await createApp().request(`/dashboard/assets/${file}`, {}, env);
    expect(response.headers.get("Content-Type")).toMatch(/^text\/javascript/);
    expect(await response.text()).toContain(content);
  });

  // Vitest empties stylesheets it loads (its css option), so their content is checked by the browser test.
  it.each(["dashboard.css", "uplot.css"])("serves %s as a stylesheet", async (file) => {
    const response = await createApp().request(`/dashboard/assets/${file}`, {}, env);
    expect([response.status, response.headers.get("Content-Type")]).toEqual([200, "text/css; charset=utf-8"]);
  });

  it("answers 404 for any other file", async () => {
    expect((await createApp().request("/dashboard/assets/constructor", {}, env)).status).toBe(404);
  });
});

describe("GET /v1/admin/verdicts: recent verdicts with their evidence", () => {
  it("lists verdicts newest first, filtered by number, carrier, failed check and action", async () => {
    const app = createApp();
    await postVerdictAndSettle(app, unsignedCall("+77272509001", INTERNATIONAL));
    await postVerdictAndSettle(app, unsignedCall("+77272509002", DOMESTIC));
    await postVerdictAndSettle(app, unsignedCall("+77272509001", DOMESTIC));

    const byNumber = (await (await adminGet(app, "/v1/admin/verdicts?number=%2B77272509001")).json()) as { verdicts: Record<string, unknown>[] };
    expect(byNumber.verdicts.map((verdict) => [verdict.carrier, verdict.action])).toEqual([
      ["Kazakhtelecom", "allow"],
      ["TransitCo", "block"],
    ]);
    expect(byNumber.verdicts[1]).toMatchObject({
      cli: "77272509001",
      destination: "77012345678",
      verstat: "No-TN-Validation",
      signed: false,
      decidedBy: "origin.national-on-international",
      failedChecks: ["identity.present", "origin.national-on-international"],
      checks: expect.arrayContaining([expect.objectContaining({ id: "origin.national-on-international", result: "fail", evidence: expect.any(Object) })]),
    });

    const byCheck = (await (await adminGet(app, "/v1/admin/verdicts?check=origin.national-on-international&carrier=TransitCo")).json()) as { verdicts: { cli: string }[] };
    expect(byCheck.verdicts.map((verdict) => verdict.cli)).toContain("77272509001");
    expect(byCheck.verdicts.map((verdict) => verdict.cli)).not.toContain("77272509002");
    const byAction = (await (await adminGet(app, "/v1/admin/verdicts?action=allow&number=77272509002")).json()) as { verdicts: unknown[] };
    expect(byAction.verdicts).toHaveLength(1);
  });

  it("keeps only the newest verdicts", { timeout: 60_000 }, async () => {
    await insertOldVerdicts(RECENT_VERDICTS_KEPT);
    await postVerdictAndSettle(createApp(), unsignedCall("+77272509003", DOMESTIC));
    const listed = await listedVerdicts();
    expect(listed).toHaveLength(RECENT_VERDICTS_KEPT);
    expect(listed[0]!.requestId).not.toMatch(/^old-/);
    expect(listed.at(-1)!.requestId).toBe("old-2");
  });

  it("lists each verdict without its checks for fields=summary, what the overview's attestation breakdown counts", async () => {
    const app = createApp();
    await postVerdictAndSettle(app, unsignedCall("+77272509005", INTERNATIONAL));
    await postVerdictAndSettle(app, unsignedCall("+77272509005", DOMESTIC));
    const full = (await (await adminGet(app, "/v1/admin/verdicts?number=77272509005&limit=1000")).json()) as { verdicts: Record<string, unknown>[] };
    const summary = (await (await adminGet(app, "/v1/admin/verdicts?number=77272509005&limit=1000&fields=summary")).json()) as { verdicts: Record<string, unknown>[] };
    expect(full.verdicts).toHaveLength(2);
    expect(full.verdicts.every((verdict) => Array.isArray(verdict.checks))).toBe(true);
    expect(summary).toEqual({ verdicts: full.verdicts.map(({ checks: _checks, ...rest }) => rest) });
    expect(summary.verdicts[1]).toMatchObject({ verstat: "No-TN-Validation", attest: null, failedChecks: ["identity.present", "origin.national-on-international"] });
  });

  it("asks for the summary of the last 1 000 signed calls on the overview, and checks only for the repository failures", async () => {
    const script = await (await createApp().request("/dashboard/assets/dashboard.js", {}, env)).text();
    const asked = [...script.matchAll(/api\("\/v1\/admin\/verdicts\?([^"]*)"\)/g)].map(([, query]) => query);
    expect(asked).toEqual(["signed=true&limit=1000&fields=summary", "check=x5u.fetch&limit=5"]);
  });

  it(`lists at most ${MAX_LISTED_CHARS / 1024 / 1024} MiB of verdicts in one response, and says where the next page starts`, { timeout: 60_000 }, async () => {
    await env.DB.prepare("DELETE FROM recent_verdict_pages").run();
    await insertLargePages(12, 1024 * 1024);
    const app = createApp();
    const seen: string[] = [];
    let query = "limit=1000";
    for (let responses = 0; responses < 10; responses++) {
      const response = await adminGet(app, `/v1/admin/verdicts?${query}`);
      const text = await response.text();
      expect(text.length).toBeLessThanOrEqual(MAX_LISTED_CHARS + 100);
      const { verdicts, next } = JSON.parse(text) as { verdicts: { seq: number; requestId: string }[]; next?: number };
      seen.push(...verdicts.map(({ requestId }) => requestId));
      if (next === undefined) break;
      expect(next).toBe(verdicts.at(-1)!.seq);
      query = `limit=1000&before=${next}`;
    }
    expect(seen).toEqual(Array.from({ length: 12 }, (_, index) => `large-${12 - index}`));
    await env.DB.prepare("DELETE FROM recent_verdict_pages").run();
  });

  it.each([
    ["number=bank", "number"],
    ["check=x5u%25", "check"],
    ["action=drop", "action"],
    ["limit=0", "limit"],
  ])("rejects %s, naming the parameter", async (query, field) => {
    const response = await adminGet(createApp(), `/v1/admin/verdicts?${query}`);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: "ERR_VALIDATION", fields: { [field]: expect.any(String) } } });
  });

  it("requires an admin token", async () => {
    expect((await createApp().request("/v1/admin/verdicts", { headers: { Authorization: "Bearer test-sbc-key" } }, env)).status).toBe(401);
  });
});

describe("GET /v1/stats for the verdicts-over-time chart", () => {
  it("breaks each hour down by action", async () => {
    const app = createApp();
    await postVerdictAndSettle(app, unsignedCall("+77272509004", INTERNATIONAL));
    const { byHour } = (await (await adminGet(app, "/v1/stats")).json()) as { byHour: { hour: string; calls: number; byAction: Record<string, number> }[] };
    const current = byHour.at(-1)!;
    expect(Object.values(current.byAction).reduce((sum, count) => sum + count, 0)).toBe(current.calls);
    expect(current.byAction.block).toBeGreaterThanOrEqual(1);
  });
});
