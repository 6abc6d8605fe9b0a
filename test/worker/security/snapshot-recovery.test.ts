import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../../../src/app";
import { originSnapshotOptions } from "../../../src/origin/deps";
import { createSnapshotCache } from "../../../src/origin/snapshot";
import { createRule, importRules } from "../../../src/rules/store";
import { checkOf, verdictVia } from "../abuse/support";
import { scrape } from "../metrics/support";
import { switchableD1 } from "../support/d1-faults";
import { CALLEE } from "../support/stir";

afterEach(() => vi.restoreAllMocks());

/** What the snapshot reads from D1: a fault here leaves statistics and metrics writing. */
const SNAPSHOT_QUERIES = /origin_version|operator_config|FROM rules/;
const unsigned = (cli: string) => ({ from: `<sip:+${cli}@carrier.example>`, to: `<sip:+${CALLEE}@operator.example>`, ingress: { trunk: "domestic-1", carrier: "DomesticCo", international: false } });

/**
 * Issue 22 item 5: one D1 call that never returns held the snapshot's reload slot (and its version
 * check) for good, so rules added later were never enforced in that isolate. Each wait is now bounded,
 * the bound counted, and the isolate recovers once D1 answers.
 */
describe("the snapshot after a D1 call that never returns", () => {
  it.each([
    ["reload", "snapshot-reload"],
    ["version check", "snapshot-version-check"],
  ] as const)("a hung %s is abandoned, counted, and a rule added once D1 answers is enforced", async (what, task) => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const store = switchableD1(env.DB);
    const snapshots = createSnapshotCache({ ...originSnapshotOptions(env), storeWaitMs: 50, refreshIntervalMs: 0 });
    const app = createApp({ sharedCache: null, snapshots });
    const bindings = { ...env, DB: store.db, VERDICT_BUDGET_MS: "1000" };
    const cli = task === "snapshot-reload" ? "77272506661" : "77272506662";
    expect(await verdictVia(app, unsigned(cli), bindings)).toMatchObject({ action: "allow" });
    const before = (await scrape(app)).get(`shaken_background_timeouts_total{task="${task}"}`) ?? 0;

    store.set("hanging", SNAPSHOT_QUERIES);
    if (what === "reload") snapshots.markStale(); // as an admin write in this isolate does
    // The verdict answers on what the isolate holds; the hung wait ends in the background after 50 ms.
    const stuck = await verdictVia(app, unsigned(cli), bindings);
    expect(stuck.action).toBe("allow");
    // A reload the verdict waited for ends within its budget, with the stale snapshot and store.rules saying why.
    if (what === "reload") expect(checkOf(stuck, "store.rules")).toMatchObject({ result: "warn", detail: "rules: snapshot-reload did not settle within 50 ms" });
    expect((await scrape(app)).get(`shaken_background_timeouts_total{task="${task}"}`)).toBe(before + 1);

    store.set("up");
    await createRule(env.DB, { criteria: { cli: { exact: cli } }, action: "block", reason: "reported robocaller" }, { actor: "analyst", author: null }, Date.now());
    await verdictVia(app, unsigned(cli), bindings); // its version check sees the new version and reloads
    expect(await verdictVia(app, unsigned(cli), bindings)).toMatchObject({ action: "block", decidedBy: "rules.operator" });
  });
});

describe("a verdict while a fresh isolate compiles its rules", () => {
  it("is answered on its deadline, not after the compile: the compile yields between pages", async () => {
    const importId = crypto.randomUUID();
    for (let first = 0; first < 30_000; first += 1_000) {
      const batch = Array.from({ length: 1_000 }, (_, offset) => ({ position: first + offset, input: { criteria: { cli: { exact: String(77_300_000_000 + first + offset) } }, action: "block" as const, reason: "bulk" } }));
      await importRules(env.DB, importId, batch, { actor: "analyst", author: null }, Date.now(), first + 1_000 === 30_000);
    }
    const app = createApp({ sharedCache: null, snapshots: createSnapshotCache(originSnapshotOptions(env)) });
    const verdict = await verdictVia(app, unsigned("77272506663"), { ...env, VERDICT_BUDGET_MS: "50" });
    // D1 answers locally on the isolate's own thread: without a turn between pages the deadline's timer
    // would wait for the last page, and the verdict with it.
    expect(checkOf(verdict, "store.rules")).toMatchObject({ evidence: { problem: "timeout", budgetMs: 50 } });
  }, 60_000);
});
