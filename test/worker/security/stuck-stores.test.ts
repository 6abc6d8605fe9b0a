import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { createApp } from "../../../src/app";
import { markIsolateSnapshotsStale } from "../../../src/origin/snapshot";
import { createRule } from "../../../src/rules/store";
import { answeredBefore, checkOf, verdictVia } from "../abuse/support";
import { appAt, CALLEE, installTrust, pki, serveChain, signedIdentity, verdictRequest } from "../support/stir";
import { TEST_ACTOR } from "../support/auth";
import { scrape } from "../metrics/support";

/**
 * A store that never answers leaves its promise pending in this isolate for good (a snapshot load
 * joins it), so this case has a file, and an isolate, of its own.
 */
const neverSettles = () => new Promise<never>(() => {});
const hangingStatement: Record<string, unknown> = { bind: () => hangingStatement, first: neverSettles, all: neverSettles, run: neverSettles, raw: neverSettles };
const hangingD1 = { prepare: () => hangingStatement, batch: neverSettles, exec: neverSettles };

describe("store.rules: D1 does not answer", () => {
  it("answers within the budget on the last compiled rules, and says so", async () => {
    const cli = "77272507777";
    const unsigned = { from: `<sip:+${cli}@carrier.example>`, to: `<sip:+${CALLEE}@operator.example>`, ingress: { trunk: "domestic-1", carrier: "DomesticCo", international: false } };
    await createRule(env.DB, { criteria: { cli: { exact: cli } }, action: "block", reason: "reported robocaller" } as never, TEST_ACTOR, Date.now());
    markIsolateSnapshotsStale();
    const app = createApp({ sharedCache: null });
    expect(await verdictVia(app, unsigned)).toMatchObject({ action: "block", decidedBy: "rules.operator" });

    markIsolateSnapshotsStale();
    const bindings = { ...env, DB: hangingD1, VERDICT_BUDGET_MS: "100", DEPENDENCY_FAILURE_POLICY: "rules=tag" };
    // settle: false — the stuck reload and statistics writes stay stuck; the verdict must not wait for them.
    const verdict = await verdictVia(app, unsigned, bindings, { settle: false });
    expect(verdict).toMatchObject({ action: "block", decidedBy: "rules.operator" });
    expect(checkOf(verdict, "store.rules")).toMatchObject({ result: "fail", evidence: { problem: "timeout", budgetMs: 100, policy: "tag" } });
    expect(answeredBefore(verdict, 1_000)).toBe(true); // ten budgets: it did not wait for the stuck store
  });
});

/**
 * The location's Workers cache never answering: the trust set's last good copy, written after every
 * new version, and the shared certificate cache, read before every repository fetch. Either call
 * stayed pending for good once, holding the isolate's trust load or one x5u's shared load with it.
 */
describe("the Workers cache does not answer", () => {
  const BUDGET_MS = 1_000;
  const bindings = { ...env, VERDICT_BUDGET_MS: String(BUDGET_MS), BACKGROUND_TIMEOUT_MS: "100" };
  const series = async (app: ReturnType<typeof createApp>, name: string) => (await scrape(app, bindings)).get(name) ?? 0;

  it("a last good trust set's write that never settles holds no verdict: the isolate verifies on the set KV answered", async () => {
    installTrust();
    const hungCache = { put: neverSettles, match: () => Promise.resolve(undefined) } as unknown as Cache;
    const app = appAt(0, { trustCache: hungCache });
    const abandoned = 'shaken_background_timeouts_total{task="cache-write:trust"}';
    const before = await series(app, abandoned);
    for (let call = 0; call < 2; call++) {
      // settle: false — the hung write stays hung; no verdict may wait for it.
      const verdict = await verdictVia(app, verdictRequest([(await signedIdentity()).identity]), bindings, { settle: false });
      expect(verdict.verstat).toBe("TN-Validation-Passed");
      expect(checkOf(verdict, "store.trust")).toBeUndefined();
      expect(answeredBefore(verdict, BUDGET_MS)).toBe(true);
    }
    // The write is abandoned at BACKGROUND_TIMEOUT_MS and counted, so an operator sees the cache hang.
    await vi.waitFor(async () => expect(await series(app, abandoned)).toBeGreaterThan(before), { timeout: 2_000, interval: 50 });
  });

  it("a shared certificate cache lookup that never answers is a miss: the chain is fetched from the repository", async () => {
    installTrust();
    const hungCache = { match: neverSettles, put: () => Promise.resolve() } as unknown as Cache;
    const app = appAt(0, { sharedCache: hungCache, trustCache: null });
    const x5u = await serveChain(pki.leaf);
    const timedOut = 'shaken_cache_read_timeouts_total{cache="certificates"}';
    const before = await series(app, timedOut);
    for (let call = 0; call < 2; call++) {
      const verdict = await verdictVia(app, verdictRequest([(await signedIdentity({ x5u })).identity]), bindings, { settle: false });
      expect(verdict.stir.reasoncode).toBeNull();
      expect(checkOf(verdict, "deadline.x5u")).toBeUndefined();
    }
    expect(await series(app, timedOut)).toBe(before + 1); // the second call found the chain in the isolate's cache
  });
});
