import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../../../src/app";
import { sbcAuth } from "../support/auth";
import { atisRequest, IAT, installTrust, pki, serveChain, signedIdentity } from "../support/stir";

beforeEach(() => installTrust());

function movableApp() {
  let now = IAT * 1000;
  const app = createApp({ clock: { now: () => now }, sharedCache: null });
  return { app, advance: (seconds: number) => void (now += seconds * 1000) };
}

async function verify(app: ReturnType<typeof createApp>, identity: string, at: number, bindings: object = env) {
  const text = JSON.stringify(atisRequest(identity, { time: at }));
  const response = await app.request(
    "/stir/v1/verification",
    { method: "POST", headers: { ...sbcAuth, "Content-Type": "application/json", "Content-Length": String(text.length) }, body: text },
    bindings,
  );
  return ((await response.json()) as { verificationResponse: Record<string, unknown> }).verificationResponse;
}

describe("trust anchors in KV", () => {
  it("a newly pushed anchor is used within TRUST_REFRESH_SECONDS, without a redeploy", async () => {
    await installTrust({ anchors: [pki.untrustedRoot] });
    const { app, advance } = movableApp();
    const x5u = await serveChain();
    const first = await signedIdentity({ x5u });
    expect(await verify(app, first.identity, IAT)).toMatchObject({ reasoncode: 437, verstat: "TN-Validation-Failed" });

    await installTrust({ anchors: [pki.untrustedRoot, pki.root] });
    advance(10);
    const beforeRefresh = await signedIdentity({ x5u, iat: IAT + 10 });
    expect(await verify(app, beforeRefresh.identity, IAT + 10)).toMatchObject({ reasoncode: 437 });
    advance(21);
    const afterRefresh = await signedIdentity({ x5u, iat: IAT + 31 });
    expect(await verify(app, afterRefresh.identity, IAT + 31)).toEqual({ verstat: "TN-Validation-Passed" });
  });

  it("with no anchors configured, nothing is trusted", async () => {
    await env.TRUST.delete("trust-anchors");
    const { app } = movableApp();
    const { identity } = await signedIdentity();
    expect(await verify(app, identity, IAT)).toMatchObject({ reasoncode: 437, reasondesc: expect.stringMatching(/no trusted issuer/) });
  });
});

describe("revocation (CRL_MODE)", () => {
  it("soft: without a CRL the call passes and the verdict says revocation was not checked", async () => {
    const { identity } = await signedIdentity();
    const response = await createApp({ clock: { now: () => IAT * 1000 }, sharedCache: null }).request(
      "/v1/verdict",
      { method: "POST", headers: { ...sbcAuth, "Content-Type": "application/json" }, body: JSON.stringify({ identity: [identity], from: "+77272501234", to: "+77012345678", ingress: { trunk: "domestic-1", international: false } }) },
      env,
    );
    const { verdict } = (await response.json()) as any;
    expect(verdict.verstat).toBe("TN-Validation-Passed");
    expect(verdict.checks).toContainEqual(expect.objectContaining({ id: "certificate.revocation", result: "warn", detail: "no CRL loaded; revocation not checked" }));
  });

  it("hard: without a CRL the credential fails", async () => {
    const { identity } = await signedIdentity();
    const result = await verify(movableApp().app, identity, IAT, { ...env, CRL_MODE: "hard" });
    expect(result).toMatchObject({ reasoncode: 437, verstat: "TN-Validation-Failed", reasondesc: expect.stringMatching(/hard-fail/) });
  });

  it("hard: with a current CRL a good certificate passes and a revoked one fails", async () => {
    await installTrust({ crls: [pki.crl] });
    const good = await signedIdentity();
    expect(await verify(movableApp().app, good.identity, IAT, { ...env, CRL_MODE: "hard" })).toEqual({ verstat: "TN-Validation-Passed" });
    const revoked = await signedIdentity({ x5u: await serveChain(pki.revokedLeaf), key: pki.revokedLeafKeyPkcs8 });
    expect(await verify(movableApp().app, revoked.identity, IAT, { ...env, CRL_MODE: "hard" })).toMatchObject({ reasoncode: 437, reasondesc: expect.stringMatching(/is revoked/) });
  });
});
