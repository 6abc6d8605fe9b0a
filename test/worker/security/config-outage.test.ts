import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../../../src/app";
import { systemClock } from "../../../src/lib/clock";
import { createSnapshotCache } from "../../../src/origin/snapshot";
import { answeredBefore, checkOf, verdictVia } from "../abuse/support";
import { adminAuth } from "../support/auth";
import { switchableD1 } from "../support/d1-faults";
import { CALLEE } from "../support/stir";

/**
 * Issue 22 item 4: a fresh isolate while D1 is down applies the operator's configuration and rules as
 * last saved, and with nothing saved skips what needs them, under the dependency policy — never the
 * defaults, which are nobody's configuration.
 */
beforeEach(async () => {
  await env.DB.prepare("DELETE FROM operator_config").run();
  for (const { name } of (await env.ORIGIN_SNAPSHOTS.list({ prefix: "origin/" })).keys) await env.ORIGIN_SNAPSHOTS.delete(name);
});
afterEach(() => vi.restoreAllMocks());

/** An application with a snapshot cache of its own: a fresh isolate. */
const freshIsolate = () => createApp({ sharedCache: null, snapshots: createSnapshotCache({ homeCountry: "KZ", clock: systemClock }) });

/** An admin request whose background work (the saved copy) is finished when it returns. */
async function admin(app: ReturnType<typeof createApp>, method: string, path: string, body?: unknown) {
  const context = createExecutionContext();
  const response = await app.request(path, { method, headers: { ...adminAuth, "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) }, env, context);
  await waitOnExecutionContext(context);
  expect(response.status, await response.clone().text()).toBeLessThan(300);
  return response;
}

async function configure(app: ReturnType<typeof createApp>, section: string, document: unknown) {
  const { version } = (await (await admin(app, "GET", `/v1/admin/config/${section}`)).json()) as { version: number };
  await admin(app, "PUT", `/v1/admin/config/${section}`, { document, version });
}

const call = (cli: string, trunk: string, international: boolean) => ({ from: `<sip:+${cli}@gw.example>`, to: `<sip:+${CALLEE}@operator.example>`, ingress: { trunk, carrier: "SomeCarrier", international } });
/** An Almaty landline on an enterprise trunk the operator maps as international and allow-lists for that range. */
const ALLOW_LISTED = call("77272501234", "ent-1", true);
/** An Astana landline on a trunk the SBC declares domestic but the operator maps as international. */
const MAPPED_INTERNATIONAL = call("77172501234", "gw-7", false);
const RULED = call("77022223344", "kt-1", false);
const BUDGET_MS = 1_000;

async function configureOperator(app: ReturnType<typeof createApp>) {
  await configure(app, "ingress", {
    interconnects: [
      { trunk: "ent-1", kind: "international", carrierName: "CloudPBX", country: "DE" },
      { trunk: "gw-7", kind: "international", carrierName: "Gateway 7", country: "TR" },
    ],
  });
  await configure(app, "allow-list", { entries: [{ customer: "Enterprise", cli: { prefix: "7727250" }, trunk: "ent-1" }] });
  await admin(app, "POST", "/v1/admin/rules", { criteria: { cli: { exact: "77022223344" } }, action: "block", reason: "reported robocaller" });
}

describe("a fresh isolate while D1 is down applies the operator's saved configuration and rules", () => {
  it.each(["down", "hanging"] as const)("D1 %s: allow-list, ingress map, policy and rules as saved, reported under store.rules", async (mode) => {
    const writer = freshIsolate();
    await configureOperator(writer);
    // An isolate compiles the rules and saves them (with the configuration) for the others.
    expect(await verdictVia(writer, RULED)).toMatchObject({ action: "block", decidedBy: "rules.operator" });
    // A policy change after that: the saved configuration follows it.
    await configure(writer, "policy", { outcomes: { "origin.national-on-international:fixed": { action: "withhold" } } });

    vi.spyOn(console, "error").mockImplementation(() => {});
    const store = switchableD1(env.DB);
    store.set(mode);
    const bindings = { ...env, DB: store.db, VERDICT_BUDGET_MS: String(BUDGET_MS) };
    const cold = freshIsolate();
    const settle = mode === "down";
    const allowListed = await verdictVia(cold, ALLOW_LISTED, bindings, { settle });
    expect(allowListed.action).toBe("allow");
    expect(checkOf(allowListed, "origin.authorised-use")).toMatchObject({ result: "pass", evidence: { customer: "Enterprise" } });
    expect(checkOf(allowListed, "store.rules")).toMatchObject({ result: "warn", evidence: { dependency: "rules", policy: "allow", problem: mode === "down" ? "error" : "timeout" } });
    // D1 failing says what applies instead; D1 not answering within the budget says that first.
    expect(checkOf(allowListed, "store.rules")!.detail).toMatch(mode === "down" ? /D1 could not be read .*: the configuration saved at version \d+ and the rules saved at version \d+ apply/ : /no answer within the 1000 ms verdict budget/);

    const mapped = await verdictVia(cold, MAPPED_INTERNATIONAL, bindings, { settle });
    expect(mapped).toMatchObject({ action: "withhold", decidedBy: "origin.national-on-international" });
    const ruled = await verdictVia(cold, RULED, bindings, { settle });
    expect(ruled).toMatchObject({ action: "block", decidedBy: "rules.operator" });
    // Only the first verdict waited for D1: the next ones are answered on the saved copy at once.
    expect(answeredBefore(mapped, BUDGET_MS) && answeredBefore(ruled, BUDGET_MS)).toBe(true);
  });

  it("once D1 answers again, the isolate serves what D1 holds and stops reporting store.rules", async () => {
    const writer = freshIsolate();
    await configureOperator(writer);
    await verdictVia(writer, RULED);
    vi.spyOn(console, "error").mockImplementation(() => {});
    const store = switchableD1(env.DB);
    store.set("down");
    const bindings = { ...env, DB: store.db };
    const cold = createApp({ sharedCache: null, snapshots: createSnapshotCache({ homeCountry: "KZ", clock: systemClock, refreshIntervalMs: 0 }) });
    expect(checkOf(await verdictVia(cold, RULED, bindings), "store.rules")).toBeDefined();
    store.set("up");
    await verdictVia(cold, RULED, bindings); // its version check reloads from D1
    const after = await verdictVia(cold, RULED, bindings);
    expect(after).toMatchObject({ action: "block", decidedBy: "rules.operator" });
    expect(checkOf(after, "store.rules")).toBeUndefined();
  });
});

describe("a fresh isolate while D1 is down and nothing is saved", () => {
  it("skips the checks that need the operator's configuration, instead of running them on defaults", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const store = switchableD1(env.DB);
    store.set("down");
    // Under the defaults an Almaty landline on an international trunk is blocked (608).
    const verdict = await verdictVia(freshIsolate(), call("77272501234", "intl-1", true), { ...env, DB: store.db }, { settle: false });
    expect(verdict.action).toBe("allow");
    for (const id of ["origin.national-on-international", "origin.authorised-use", "cli.dno", "rules.operator"]) {
      expect(checkOf(verdict, id)).toMatchObject({ result: "skip", detail: expect.stringMatching(/operator's configuration/) });
    }
    expect(checkOf(verdict, "store.rules")).toMatchObject({ result: "warn", evidence: { dependency: "rules", problem: "error", policy: "allow" } });
  });

  it("applies the operator's dependency policy for store.rules", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const store = switchableD1(env.DB);
    store.set("down");
    const verdict = await verdictVia(freshIsolate(), call("77012345678", "kt-1", false), { ...env, DB: store.db, DEPENDENCY_FAILURE_POLICY: "rules=block" }, { settle: false });
    expect(verdict).toMatchObject({ action: "block", decidedBy: "store.rules" });
  });
});
