import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../../../src/app";
import { TRUST_ANCHORS_KEY } from "../../../src/certificate/trust-format";
import { putConfigSection } from "../../../src/origin/config/store";
import { markIsolateSnapshotsStale } from "../../../src/origin/snapshot";
import { createRule } from "../../../src/rules/store";
import { answeredBefore, checkOf, verdictVia } from "../abuse/support";
import { sbcAuth, TEST_ACTOR } from "../support/auth";
import { appAt, atisRequest, CALLEE, hits, IAT, installTrust, pki, serveChain, signedIdentity, verdictRequest } from "../support/stir";

const atisPost = (body: unknown) => {
  const text = JSON.stringify(body);
  return { method: "POST", headers: { ...sbcAuth, "Content-Type": "application/json", "Content-Length": String(text.length) }, body: text };
};

beforeEach(() => installTrust());
afterEach(() => vi.restoreAllMocks());

const BUDGET_MS = 250;
/** How long the slow repository takes: well past the budget, well inside X5U_FETCH_TIMEOUT_MS. */
const SLOW_MS = 1_200;
/** A stuck dependency would have held the verdict for ever; ten budgets is "it did not wait". */
const STUCK_MS = 10 * BUDGET_MS;

const neverSettles = () => new Promise<never>(() => {});
/** A D1 binding whose every query fails, as when the database is unavailable. */
const unavailable = () => Promise.reject(new Error("D1_ERROR: database unavailable"));
const failingStatement: Record<string, unknown> = { bind: () => failingStatement, first: unavailable, all: unavailable, run: unavailable, raw: unavailable };
const brokenD1 = { prepare: () => failingStatement, batch: unavailable, exec: unavailable };

describe("deadline.x5u: a certificate repository slower than the verdict budget", () => {
  it("answers within the budget with 436, says which dependency, and lets the fetch finish for the next call", async () => {
    const bindings = { ...env, VERDICT_BUDGET_MS: String(BUDGET_MS) };
    const x5u = await serveChain(pki.leaf, { delayMs: SLOW_MS });
    const { identity } = await signedIdentity({ x5u });
    const app = appAt();
    const verdict = await verdictVia(app, verdictRequest([identity]), bindings);
    expect(verdict.stir).toMatchObject({ reasoncode: 436, failedCheck: "x5u.fetch", reasondesc: `repository did not answer within the ${BUDGET_MS} ms verdict budget` });
    expect(checkOf(verdict, "deadline.x5u")).toMatchObject({ result: "fail", evidence: { dependency: "x5u", problem: "timeout", budgetMs: BUDGET_MS, policy: "tag" } });
    expect(verdict.action).toBe("tag");
    expect(verdict.deadline.budgetMs).toBe(BUDGET_MS);
    expect(answeredBefore(verdict, SLOW_MS)).toBe(true);

    // verdictVia waited for the background work: the late answer is now cached.
    const next = await verdictVia(app, verdictRequest([(await signedIdentity({ x5u })).identity]), bindings);
    expect(next.stir.reasoncode).toBeNull();
    expect(checkOf(next, "deadline.x5u")).toBeUndefined();
    expect(await hits(x5u)).toBe(1);
  });

  it("applies a fail-closed policy when the operator configures one", async () => {
    const bindings = { ...env, VERDICT_BUDGET_MS: String(BUDGET_MS), DEPENDENCY_FAILURE_POLICY: "x5u=block" };
    const { identity } = await signedIdentity({ x5u: await serveChain(pki.leaf, { delayMs: SLOW_MS }) });
    expect(await verdictVia(appAt(), verdictRequest([identity]), bindings)).toMatchObject({ action: "block", decidedBy: "deadline.x5u" });
  });

  it("keeps the repository's own timeout when it is the shorter: min(X5U_FETCH_TIMEOUT_MS, remaining budget)", async () => {
    const bindings = { ...env, VERDICT_BUDGET_MS: "1000", X5U_FETCH_TIMEOUT_MS: "60" };
    const { identity } = await signedIdentity({ x5u: await serveChain(pki.leaf, { delayMs: 2_000 }) });
    const verdict = await verdictVia(appAt(), verdictRequest([identity]), bindings, { settle: false });
    expect(verdict.stir.reasondesc).toBe("repository did not answer within 60 ms");
    expect(checkOf(verdict, "deadline.x5u")).toBeUndefined();
  });
});

describe("store.trust: the KV trust set slow or down", () => {
  function switchableKv() {
    let mode: "up" | "down" | "hanging" = "up";
    const kv = {
      get: (key: string) => (mode === "up" ? env.TRUST.get(key) : mode === "down" ? Promise.reject(new Error("KV GET failed: 503")) : neverSettles()),
    };
    return { kv, set: (next: typeof mode) => void (mode = next) };
  }

  it.each(["down", "hanging"] as const)("keeps verifying with the last good trust set when KV is %s, and says so", async (mode) => {
    const { kv, set } = switchableKv();
    const bindings = { ...env, TRUST: kv, TRUST_REFRESH_SECONDS: "0", VERDICT_BUDGET_MS: String(BUDGET_MS) };
    const app = appAt();
    const { identity, x5u } = await signedIdentity();
    expect((await verdictVia(app, verdictRequest([identity]), bindings)).stir.reasoncode).toBeNull();
    set(mode);
    const verdict = await verdictVia(app, verdictRequest([(await signedIdentity({ x5u })).identity]), bindings, { settle: mode === "down" });
    expect(verdict.stir.reasoncode).toBeNull();
    expect(checkOf(verdict, "store.trust")).toMatchObject({ result: "warn", evidence: { dependency: "trust", problem: mode === "down" ? "error" : "timeout" } });
    expect(verdict.action).toBe("allow");
  });

});

describe("store.trust: an isolate that starts while KV is down (issue 22 item 4)", () => {
  beforeEach(() => void vi.spyOn(console, "log").mockImplementation(() => {})); // the verdict log lines
  const kvDown = { get: () => Promise.reject(new Error("KV unavailable")) };
  const freshCache = () => caches.open(`trust-${crypto.randomUUID()}`);

  it("with no last good trust set kept, the credential is not judged: No-TN-Validation, never a failed verification", async () => {
    const verdict = await verdictVia(appAt(0, { trustCache: await freshCache() }), verdictRequest([(await signedIdentity()).identity]), { ...env, TRUST: kvDown });
    expect(verdict.verstat).toBe("No-TN-Validation");
    expect(verdict.stir).toMatchObject({ reasoncode: 437, failedCheck: "store.trust", reasondesc: expect.stringMatching(/the trust set is unavailable \(trust store refresh failed: KV unavailable\)/) });
    // The steps judged before the trust set was needed passed, once each; only those after it are not run.
    for (const step of ["passport.orig", "x5u.fetch"]) expect(verdict.checks.filter((check) => check.id === step).map((check) => check.result)).toEqual(["pass"]);
    for (const step of ["certificate.chain", "certificate.revocation", "passport.signature"]) {
      expect(checkOf(verdict, step)).toMatchObject({ result: "skip", detail: expect.stringMatching(/^not run: the trust set is unavailable/) });
    }
    expect(verdict.checks.filter((check) => check.result === "fail")).toEqual([]);
    expect(checkOf(verdict, "store.trust")).toMatchObject({ result: "warn", evidence: { dependency: "trust", policy: "allow" } });
    expect(verdict.action).toBe("allow");
  });

  it("applies the trust dependency's failure policy", async () => {
    const bindings = { ...env, TRUST: kvDown, DEPENDENCY_FAILURE_POLICY: "trust=block" };
    const verdict = await verdictVia(appAt(0, { trustCache: await freshCache() }), verdictRequest([(await signedIdentity()).identity]), bindings);
    expect(verdict).toMatchObject({ action: "block", decidedBy: "store.trust", verstat: "No-TN-Validation" });
  });

  it("the ATIS endpoint answers No-TN-Validation too", async () => {
    const app = appAt(0, { trustCache: await freshCache() });
    const response = await app.request("/stir/v1/verification", atisPost(atisRequest((await signedIdentity()).identity)), { ...env, TRUST: kvDown });
    expect(((await response.json()) as { verificationResponse: unknown }).verificationResponse).toMatchObject({ verstat: "No-TN-Validation", reasoncode: 437 });
  });

  it("with the last good trust set another isolate kept in the location's cache, verification still passes", async () => {
    const cache = await freshCache();
    const { identity, x5u } = await signedIdentity();
    expect((await verdictVia(appAt(0, { trustCache: cache }), verdictRequest([identity]))).verstat).toBe("TN-Validation-Passed");

    const coldIsolate = appAt(0, { trustCache: cache });
    const verdict = await verdictVia(coldIsolate, verdictRequest([(await signedIdentity({ x5u })).identity]), { ...env, TRUST: kvDown });
    expect(verdict.verstat).toBe("TN-Validation-Passed");
    expect(checkOf(verdict, "store.trust")).toMatchObject({ result: "warn", detail: expect.stringMatching(/KV unavailable; using the last good trust set \(version [0-9a-f]{24}, kept 2025-11-28T00:00:00.000Z\)/) });
  });

  it("an isolate without a trust set looks for a kept one again on its next refresh", async () => {
    const cache = await freshCache();
    const cold = appAt(0, { trustCache: cache });
    const down = { ...env, TRUST: kvDown, TRUST_REFRESH_SECONDS: "0" };
    expect((await verdictVia(cold, verdictRequest([(await signedIdentity()).identity]), down)).verstat).toBe("No-TN-Validation");
    await verdictVia(appAt(0, { trustCache: cache }), verdictRequest([(await signedIdentity()).identity])); // another isolate, KV up, keeps the set
    expect((await verdictVia(cold, verdictRequest([(await signedIdentity()).identity]), down)).verstat).toBe("TN-Validation-Passed");
  });

  it("an isolate keeps each new version it reads: a later trust set replaces the kept one", async () => {
    const cache = await freshCache();
    let now = IAT * 1000;
    const isolate = createApp({ clock: { now: () => now }, sharedCache: null, trustCache: cache });
    await verdictVia(isolate, verdictRequest([(await signedIdentity()).identity]));
    await installTrust({ anchors: [pki.untrustedRoot] });
    now += 31_000; // past TRUST_REFRESH_SECONDS: the same isolate reads the new set
    await verdictVia(isolate, verdictRequest([(await signedIdentity({ iat: IAT + 31 })).identity]));
    const verdict = await verdictVia(appAt(0, { trustCache: cache }), verdictRequest([(await signedIdentity()).identity]), { ...env, TRUST: kvDown });
    expect(verdict.stir).toMatchObject({ reasoncode: 437, failedCheck: "certificate.chain" });
  });
});

describe("store.rules: D1 slow or down", () => {
  const unsigned = (cli: string) => ({ from: `<sip:+${cli}@carrier.example>`, to: `<sip:+${CALLEE}@operator.example>`, ingress: { trunk: "domestic-1", carrier: "DomesticCo", international: false } });

  it("degrades to the last compiled rules when D1 throws, never to a 500", async () => {
    const cli = "77272509999";
    await createRule(env.DB, { criteria: { cli: { exact: cli } }, action: "block", reason: "reported robocaller" } as never, TEST_ACTOR, Date.now());
    markIsolateSnapshotsStale();
    const app = createApp({ sharedCache: null });
    expect(await verdictVia(app, unsigned(cli))).toMatchObject({ action: "block", decidedBy: "rules.operator" });

    markIsolateSnapshotsStale(); // force a reload, which now fails
    // settle: false — background writers (statistics, metrics) meet the same outage after the response.
    const verdict = await verdictVia(app, unsigned(cli), { ...env, DB: brokenD1 }, { settle: false });
    expect(verdict).toMatchObject({ action: "block", decidedBy: "rules.operator" });
    expect(checkOf(verdict, "store.rules")).toMatchObject({ result: "warn", detail: expect.stringMatching(/D1_ERROR/), evidence: { problem: "error", policy: "allow" } });
  });
});

describe("store.replay: the replay guard slow or down", () => {
  it.each([
    ["throws", { getByName: () => { throw new Error("Durable Object namespace unavailable"); } }, "error"],
    ["rejects", { getByName: () => ({ present: () => Promise.reject(new Error("Durable Object reset")) }) }, "error"],
    ["never answers", { getByName: () => ({ present: neverSettles }) }, "timeout"],
  ] as const)("when the Durable Object %s, the verdict skips the check, reports store.replay and applies its policy", async (_case, replay, problem) => {
    const bindings = { ...env, REPLAY: replay, VERDICT_BUDGET_MS: String(BUDGET_MS), DEPENDENCY_FAILURE_POLICY: "replay=block" };
    const verdict = await verdictVia(appAt(), verdictRequest([(await signedIdentity()).identity]), bindings, { settle: problem === "error" });
    expect(verdict.stir.reasoncode).toBeNull();
    expect(checkOf(verdict, "passport.replay")).toMatchObject({ result: "skip" });
    expect(checkOf(verdict, "store.replay")).toMatchObject({ result: "fail", evidence: { dependency: "replay", problem } });
    expect(verdict).toMatchObject({ action: "block", decidedBy: "store.replay" });
    expect(answeredBefore(verdict, STUCK_MS)).toBe(true);
  });
});

describe("deadline.roaming: a roaming source slower than the verdict budget", () => {
  it("answers unknown within the budget, applies origin.roaming:unknown, and reports deadline.roaming", async () => {
    const written = await putConfigSection(env.DB, "roaming", { source: "camara", camaraBaseUrl: "https://camara.example", budgetMs: 2_000, cacheTtlSeconds: 0 }, 0, TEST_ACTOR, Date.now(), "KZ");
    markIsolateSnapshotsStale();
    vi.spyOn(globalThis, "fetch").mockImplementation((_input, init) => new Promise((_, reject) => init?.signal?.addEventListener("abort", () => reject(new Error("aborted")))));
    try {
      const call = { from: "<sip:+77071234567@carrier.example>", to: `<sip:+${CALLEE}@operator.example>`, ingress: { trunk: "intl-1", carrier: "TransitCo", international: true } };
      const verdict = await verdictVia(createApp({ sharedCache: null }), call, { ...env, CAMARA_TOKEN: "test-token", VERDICT_BUDGET_MS: String(BUDGET_MS) }, { settle: false });
      expect(checkOf(verdict, "origin.roaming")).toMatchObject({ result: "fail", evidence: { status: "unknown", source: "camara" } });
      expect(checkOf(verdict, "deadline.roaming")).toMatchObject({ result: "warn", evidence: { problem: "timeout", budgetMs: BUDGET_MS } });
      expect(verdict.action).toBe("withhold");
      expect(answeredBefore(verdict, 2_000)).toBe(true); // the roaming source's own budget
    } finally {
      if ("section" in written) await putConfigSection(env.DB, "roaming", { source: "table", budgetMs: 150, cacheTtlSeconds: 300 }, written.section.version, TEST_ACTOR, Date.now(), "KZ");
      markIsolateSnapshotsStale();
    }
  });
});

describe("bad trust material is not a 500 either", () => {
  it("a trust document that does not parse leaves the call unverified with store.trust", async () => {
    await env.TRUST.put(TRUST_ANCHORS_KEY, "{not json");
    const verdict = await verdictVia(appAt(0, { trustCache: null }), verdictRequest([(await signedIdentity()).identity]));
    expect(verdict).toMatchObject({ verstat: "No-TN-Validation", stir: { reasoncode: 437, failedCheck: "store.trust" } });
    expect(checkOf(verdict, "store.trust")).toMatchObject({ result: "warn", detail: expect.stringMatching(/trust store refresh failed/) });
  });
});
