import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { markIsolateSnapshotsStale } from "../../../src/origin/snapshot";
import { emptyRetainedTables, statsAt } from "../admin/support";
import { growthDuring, postVerdictAndSettle } from "../metrics/support";
import { adminAuth, NAMED, sbcAuth } from "../support/auth";
import { appAt, IAT, installTrust, signedIdentity, verdictRequest } from "../support/stir";

/**
 * Monitor mode (issue 20): a monitored rule or policy entry, or the whole policy under POLICY_MODE=monitor,
 * is listed in the verdict's `monitored` and counted, and the verdict's action, SIP response and headers
 * are what enforcement gives without it.
 */
beforeEach(async () => {
  await installTrust();
  await emptyRetainedTables();
  await writePolicy({});
  ruledCli = `7701111${String(++ruledCliCount).padStart(4, "0")}`;
});

const INTERNATIONAL = { trunk: "intl-9", carrier: "TransitCo", international: true };
const DOMESTIC = { trunk: "kt-1", carrier: "Kazakhtelecom", international: false };
/** A national fixed CLI on an international trunk: blocked with 608 by the default policy. */
const spoofedCall = { from: "+77272501234", to: "+77012345678", ingress: INTERNATIONAL };
/** A domestic call from a mobile number that nothing but an operator rule stops: one number per test, as the tests share one database. */
let ruledCliCount = 0;
let ruledCli = "";
const ruledCall = () => ({ from: `+${ruledCli}`, to: "+77012345678", ingress: DOMESTIC });
const ruledCriteria = () => ({ cli: { exact: `+${ruledCli}` } });
const MONITOR = { ...env, POLICY_MODE: "monitor" };
const PASSED_ON = (cli: string) => ({ name: "P-Asserted-Identity", value: `<tel:+${cli};verstat=No-TN-Validation>` });

async function verdictFor(body: unknown, bindings: object = env) {
  const context = createExecutionContext();
  const response = await appAt().request("/v1/verdict", { method: "POST", headers: { ...sbcAuth, "Content-Type": "application/json" }, body: JSON.stringify(body) }, bindings, context);
  await waitOnExecutionContext(context);
  expect(response.status).toBe(200);
  return ((await response.json()) as { verdict: any }).verdict;
}

function admin(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  return appAt().request(path, { method, headers: { ...adminAuth, "Content-Type": "application/json", ...headers }, body: body === undefined ? undefined : JSON.stringify(body) }, env);
}

async function createRule(mode?: "monitor" | "enforce") {
  const response = await admin("POST", "/v1/admin/rules", { criteria: ruledCriteria(), action: "block", reason: "bank impersonation campaign", ...(mode ? { mode } : {}) }, NAMED.analyst.headers);
  expect(response.status).toBe(201);
  markIsolateSnapshotsStale();
  return ((await response.json()) as { rule: { id: string; version: number; mode: string } }).rule;
}

async function writePolicy(outcomes: Record<string, unknown>) {
  const { version } = (await (await admin("GET", "/v1/admin/config/policy")).json()) as { version: number };
  const response = await admin("PUT", "/v1/admin/config/policy", { document: { outcomes }, version });
  expect(response.status).toBe(200);
  markIsolateSnapshotsStale();
}

describe("a rule in monitor mode", () => {
  it("matches and is listed, but the call goes on as if it did not exist", async () => {
    const rule = await createRule("monitor");
    expect(rule.mode).toBe("monitor");
    const verdict = await verdictFor(ruledCall());
    expect(verdict).toMatchObject({ action: "allow", sip: null, decidedBy: null, monitored: [{ by: rule.id, action: "block", reason: `operator rule ${rule.id}` }] });
    expect(verdict.headers).toEqual([PASSED_ON(ruledCli)]);
    expect(verdict.checks).toContainEqual(expect.objectContaining({ id: "rules.operator", result: "fail", evidence: expect.objectContaining({ rules: [expect.objectContaining({ id: rule.id, mode: "monitor" })] }) }));
  });

  it("is enforced by default, and a verdict with nothing monitored has no monitored list", async () => {
    const rule = await createRule();
    expect(rule.mode).toBe("enforce");
    const verdict = await verdictFor(ruledCall());
    expect(verdict).toMatchObject({ action: "block", sip: { code: 603 }, decidedBy: "rules.operator" });
    expect(verdict).not.toHaveProperty("monitored");
  });

  it("is promoted to enforce by an audited update that names who did it, and a replacement that leaves the mode out keeps it", async () => {
    const rule = await createRule("monitor");
    const edited = await admin("PUT", `/v1/admin/rules/${rule.id}`, { criteria: ruledCriteria(), action: "block", reason: "bank impersonation, confirmed" }, { "If-Match": `"${rule.version}"` });
    expect(((await edited.json()) as any).rule.mode).toBe("monitor");

    const promoted = await admin("PUT", `/v1/admin/rules/${rule.id}`, { criteria: ruledCriteria(), action: "block", reason: "bank impersonation, confirmed", mode: "enforce" }, { ...NAMED.admin.headers, "If-Match": `"${rule.version + 1}"` });
    expect(promoted.status).toBe(200);
    expect(((await promoted.json()) as any).rule.mode).toBe("enforce");
    markIsolateSnapshotsStale();
    expect(await verdictFor(ruledCall())).toMatchObject({ action: "block", decidedBy: "rules.operator" });

    const { entries } = (await (await admin("GET", `/v1/admin/audit?entity=rule&id=${rule.id}`)).json()) as { entries: any[] };
    expect(entries[0]).toMatchObject({ actor: NAMED.admin.name, operation: "update", before: { mode: "monitor" }, after: { mode: "enforce" } });
  });

  it("is imported with its mode", async () => {
    const response = await admin("POST", "/v1/admin/rules/import", { importId: crypto.randomUUID(), first: 0, rules: [{ criteria: ruledCriteria(), action: "block", reason: "imported", mode: "monitor" }] });
    expect(response.status).toBe(200);
    const { ids } = (await response.json()) as { ids: string[] };
    expect(((await (await admin("GET", `/v1/admin/rules/${ids[0]}`)).json()) as any).rule.mode).toBe("monitor");
    markIsolateSnapshotsStale();
    expect(await verdictFor(ruledCall())).toMatchObject({ action: "allow", monitored: [{ by: ids[0], action: "block" }] });
  });

  it("refuses a mode that is neither enforce nor monitor, naming the field", async () => {
    const response = await admin("POST", "/v1/admin/rules", { criteria: ruledCriteria(), action: "block", reason: "x", mode: "dry-run" });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { fields: { mode: expect.any(String) } } });
  });
});

describe("a policy entry in monitor mode", () => {
  it("lists its finding, and the verdict is what the other entries give", async () => {
    await writePolicy({ "origin.national-on-international:fixed": { action: "block", sipCode: 608, mode: "monitor" } });
    const verdict = await verdictFor(spoofedCall);
    expect(verdict).toMatchObject({ action: "allow", sip: null, decidedBy: null, monitored: [{ by: "origin.national-on-international", action: "block", reason: expect.any(String) }] });
    expect(verdict.headers).toEqual([PASSED_ON("77272501234")]);
  });

  it("leaves an enforced entry's finding deciding beside a monitored one", async () => {
    const rule = await createRule("monitor");
    await writePolicy({ "cli.format": { action: "block" } });
    const verdict = await verdictFor(ruledCall());
    expect(verdict.monitored).toEqual([{ by: rule.id, action: "block", reason: `operator rule ${rule.id}` }]);
    await writePolicy({ "origin.national-on-international:fixed": { action: "withhold", mode: "enforce" } });
    expect(await verdictFor(spoofedCall)).toMatchObject({ action: "withhold", headers: [PASSED_ON("77272501234"), { name: "Privacy", value: "id" }] });
  });
});

describe("POLICY_MODE=monitor", () => {
  it("monitors every policy entry and rule: the call is allowed, each finding listed", async () => {
    const rule = await createRule();
    expect(await verdictFor(ruledCall(), MONITOR)).toMatchObject({ action: "allow", sip: null, monitored: [{ by: rule.id, action: "block" }] });
    const verdict = await verdictFor(spoofedCall, MONITOR);
    expect(verdict).toMatchObject({ action: "allow", sip: null, decidedBy: null, monitored: [{ by: "origin.national-on-international", action: "block" }] });
    expect(verdict.headers).toEqual([PASSED_ON("77272501234")]);
  });

  it("monitors a failed verification's policy action, but the verstat and the Reason naming the failure stay the truth", async () => {
    await writePolicy({ "stir.no-tn-validation": { action: "block" } });
    const { identity } = await signedIdentity({ orig: "77272509999" });
    const verdict = await verdictFor(verdictRequest([identity]), MONITOR);
    expect(verdict).toMatchObject({ action: "allow", sip: null, verstat: "No-TN-Validation", monitored: [{ by: "passport.orig", action: "block" }] });
    expect(verdict.headers).toEqual([
      { name: "P-Asserted-Identity", value: "<tel:+77272501234;verstat=No-TN-Validation>" },
      { name: "Reason", value: 'SIP ;cause=438 ;text="Invalid Identity Header"' },
    ]);
  });

  it("is refused as a configuration error when it is neither enforce nor monitor", async () => {
    const response = await appAt().request("/v1/verdict", { method: "POST", headers: { ...sbcAuth, "Content-Type": "application/json" }, body: JSON.stringify(spoofedCall) }, { ...env, POLICY_MODE: "dry-run" });
    expect(response.status).toBe(500);
    expect(((await response.json()) as any).error).toEqual({ code: "ERR_CONFIG", message: "POLICY_MODE must be one of enforce, monitor, got 'dry-run'" });
  });
});

describe("what monitor mode counts", () => {
  it("counts would-have actions in shaken_verdicts_monitored_total, apart from the enforced actions", async () => {
    const increase = await growthDuring(async (app) => {
      await postVerdictAndSettle(app, spoofedCall, MONITOR);
      await postVerdictAndSettle(app, spoofedCall);
    });
    expect(increase('shaken_verdicts_monitored_total{action="block"}')).toBe(1);
    expect(increase('shaken_verdicts_total{action="allow"}')).toBe(1);
    expect(increase('shaken_verdicts_total{action="block"}')).toBe(1);
  });

  it("counts would-have actions in the statistics apart from the enforced ones", async () => {
    const rule = await createRule("monitor");
    await verdictFor(ruledCall());
    await verdictFor(spoofedCall, MONITOR);
    await verdictFor(spoofedCall);
    expect(rule.mode).toBe("monitor");
    const stats = (await statsAt(IAT * 1000 + 60_000, "from=2025-11-27T00:00:00Z&to=2025-11-28T23:00:00Z")) as Awaited<ReturnType<typeof statsAt>> & { byMonitoredAction: Record<string, number> };
    expect(stats).toMatchObject({ total: 3, byAction: { allow: 2, block: 1 }, byMonitoredAction: { block: 2 } });
  });
});
