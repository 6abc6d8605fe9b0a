import { env, exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { signPassport } from "../../../src/passport/sign";
import { sbcAuth } from "../support/auth";
import { appAt, atisRequest, CALLEE, CALLER, hits, installTrust, issueTestLeaf, movableApp, pki, postAtis, register, serveChain, signedIdentity, uniquePath } from "../support/stir";

beforeEach(() => installTrust());

async function verifyVia(app: ReturnType<typeof appAt>, identity: string, bindings: object = env) {
  const text = JSON.stringify(atisRequest(identity));
  const response = await app.request(
    "/stir/v1/verification",
    { method: "POST", headers: { Authorization: "Bearer test-sbc-key", "Content-Type": "application/json", "Content-Length": String(text.length) }, body: text },
    bindings,
  );
  return ((await response.json()) as { verificationResponse: Record<string, unknown> }).verificationResponse;
}

describe("fetching the signer's certificate (ATIS-1000074 §5.3.1)", () => {
  it("never follows a redirect, even to an allowed place", async () => {
    const target = await serveChain();
    const x5u = await register({ path: uniquePath("redirect"), status: 302, location: target });
    const { identity } = await signedIdentity({ x5u });
    const result = await verifyVia(appAt(), identity);
    expect(result).toMatchObject({ reasoncode: 436, reasondesc: expect.stringMatching(/302 \(redirect\)/) });
    expect(await hits(target)).toBe(0);
  });

  it("gives up on a repository that does not answer within the time limit", async () => {
    const x5u = await serveChain(pki.leaf, { delayMs: 2_000 });
    const { identity } = await signedIdentity({ x5u });
    const result = await verifyVia(appAt(), identity, { ...env, X5U_FETCH_TIMEOUT_MS: "150" });
    expect(result).toMatchObject({ reasoncode: 436, reasondesc: "repository did not answer within 150 ms" });
  });

  it("answers 436 within the verdict budget when the repository is slower than the budget", async () => {
    const x5u = await serveChain(pki.leaf, { delayMs: 2_000 });
    const { identity } = await signedIdentity({ x5u });
    const result = await verifyVia(appAt(), identity, { ...env, VERDICT_BUDGET_MS: "150" });
    expect(result).toMatchObject({ reasoncode: 436, reasondesc: "repository did not answer within the 150 ms verdict budget" });
  });

  it("stops reading a body larger than the limit", async () => {
    const x5u = await register({ path: uniquePath("big"), body: `${pki.leaf}${pki.intermediate}${"#".repeat(40_000)}` });
    const { identity } = await signedIdentity({ x5u });
    expect(await verifyVia(appAt(), identity)).toMatchObject({ reasoncode: 436, reasondesc: expect.stringMatching(/exceeds 32768 bytes|is \d+ bytes; at most 32768/) });
  });

  it("stops reading an endless body", async () => {
    const x5u = await register({ path: uniquePath("endless"), endless: true });
    const { identity } = await signedIdentity({ x5u });
    expect(await verifyVia(appAt(), identity)).toMatchObject({ reasoncode: 436, reasondesc: "repository body exceeds 32768 bytes" });
  });

  it("refuses a body holding a private key", async () => {
    const x5u = await register({ path: uniquePath("key"), body: `${pki.leaf}${pki.leafKeyPkcs8}` });
    const { identity } = await signedIdentity({ x5u });
    expect(await verifyVia(appAt(), identity)).toMatchObject({ reasoncode: 436, reasondesc: expect.stringMatching(/PRIVATE KEY/) });
  });

  it("answers an HTTP error from the repository with 436 naming the status", async () => {
    const x5u = await register({ path: uniquePath("error"), status: 500, body: "oops" });
    const { identity } = await signedIdentity({ x5u });
    expect(await verifyVia(appAt(), identity)).toMatchObject({ reasoncode: 436, reasondesc: "repository answered HTTP 500" });
  });
});

describe("certificate cache", () => {
  it("serves the second call for the same x5u without fetching", async () => {
    const app = appAt();
    const first = await signedIdentity();
    const second = await signedIdentity({ x5u: first.x5u, origid: crypto.randomUUID() });
    expect(await verifyVia(app, first.identity)).toEqual({ verstat: "TN-Validation-Passed" });
    expect(await verifyVia(app, second.identity)).toEqual({ verstat: "TN-Validation-Passed" });
    expect(await hits(first.x5u)).toBe(1);
  });

  it("makes one fetch for 50 concurrent calls needing the same x5u", async () => {
    const app = appAt();
    const x5u = await serveChain(pki.leaf, { delayMs: 100 });
    const identities = await Promise.all(Array.from({ length: 50 }, () => signedIdentity({ x5u })));
    const results = await Promise.all(identities.map(({ identity }) => verifyVia(app, identity)));
    expect(results.every((result) => result.verstat === "TN-Validation-Passed")).toBe(true);
    expect(await hits(x5u)).toBe(1);
  });

  it("makes one fetch for a herd of 200 concurrent calls through the deployed entry point (one runtime per isolate)", async () => {
    // The production wiring: system clock, Cache API, the runtime the module's app builds for itself.
    const now = Math.floor(Date.now() / 1000);
    const leaf = await issueTestLeaf({ notBefore: new Date((now - 86_400) * 1000), notAfter: new Date((now + 86_400) * 1000) });
    const x5u = await serveChain(leaf.pem, { delayMs: 100 });
    const calls = await Promise.all(Array.from({ length: 200 }, () => signPassport({ key: leaf.privateKey, x5u, orig: CALLER, dest: [CALLEE], attest: "A", iat: now, origid: crypto.randomUUID() })));
    const results = await Promise.all(
      calls.map(async ({ identity }) => {
        const text = JSON.stringify(atisRequest(identity, { time: now }));
        const response = await exports.default.fetch("http://verifier/stir/v1/verification", {
          method: "POST",
          headers: { ...sbcAuth, "Content-Type": "application/json", "Content-Length": String(text.length) },
          body: text,
        });
        return ((await response.json()) as { verificationResponse: { verstat: string } }).verificationResponse.verstat;
      }),
    );
    expect(results.filter((verstat) => verstat === "TN-Validation-Passed")).toHaveLength(200);
    expect(await hits(x5u)).toBe(1);
  });

  it("does not cache a failed fetch as a credential: once X5U_FAILURE_CACHE_SECONDS are over, the repository is asked again", async () => {
    const { app, advance } = movableApp();
    const x5u = await register({ path: uniquePath("flaky"), status: 503 });
    const { identity } = await signedIdentity({ x5u });
    expect(await verifyVia(app, identity)).toMatchObject({ reasoncode: 436 });
    await register({ path: new URL(x5u).pathname, body: `${pki.leaf}${pki.intermediate}` });
    advance(30);
    expect(await verifyVia(app, identity)).toEqual({ verstat: "TN-Validation-Passed" });
  });

  it("keeps the intermediates of a cached chain (libstirshaken #123)", async () => {
    const app = appAt();
    const { identity, x5u } = await signedIdentity();
    await verifyVia(app, identity);
    const again = await signedIdentity({ x5u });
    expect(await verifyVia(app, again.identity)).toEqual({ verstat: "TN-Validation-Passed" });
  });

  it("shares fetched chains through the Workers Cache API across isolates", async () => {
    const { identity, x5u } = await signedIdentity();
    const sharedCache = await caches.open(`certificates-${crypto.randomUUID()}`);
    expect(await verifyVia(appAt(0, { sharedCache }), identity)).toEqual({ verstat: "TN-Validation-Passed" });
    // A second application stands for another isolate: empty memory, same location cache.
    expect(await verifyVia(appAt(0, { sharedCache }), identity)).toEqual({ verstat: "TN-Validation-Passed" });
    expect(await hits(x5u)).toBe(1);
    const stored = await sharedCache.match(x5u);
    expect(Number(/max-age=(\d+)/.exec(stored!.headers.get("Cache-Control")!)![1])).toBeGreaterThanOrEqual(86_400 - 5);
  });
});
