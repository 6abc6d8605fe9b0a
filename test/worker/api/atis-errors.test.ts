import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sbcAuth } from "../support/auth";
import { signPassport } from "../../../src/passport/sign";
import { appAt, atisRequest, CALLEE, CALLER, installTrust, issueTestLeaf, serveChain } from "../support/stir";

const post = (init: RequestInit & { headers?: Record<string, string> }) => appAt().request("/stir/v1/verification", { method: "POST", ...init, headers: { ...sbcAuth, ...init.headers } }, env);

const jsonPost = (text: string, headers: Record<string, string> = {}) =>
  post({ body: text, headers: { "Content-Type": "application/json", "Content-Length": String(text.length), ...headers } });

async function expectError(response: Response, status: number, kind: "serviceException" | "policyException", messageId: string, variables?: string[]) {
  expect(response.status).toBe(status);
  const body = (await response.json()) as any;
  expect(body.requestError[kind]).toMatchObject({ messageId, text: expect.any(String) });
  if (variables) expect(body.requestError[kind].variables).toEqual(variables);
}

describe("ATIS-1000082 request errors", () => {
  it("SVC4000 for a missing body", async () => {
    await expectError(await post({ headers: { "Content-Type": "application/json", "Content-Length": "0" } }), 400, "serviceException", "SVC4000");
  });

  it("SVC4004 for a wrong content type", async () => {
    await expectError(await post({ body: "x", headers: { "Content-Type": "text/plain", "Content-Length": "1" } }), 415, "serviceException", "SVC4004", ["application/json"]);
  });

  it("SVC4001 naming each missing parameter", async () => {
    await expectError(await jsonPost("{}"), 400, "serviceException", "SVC4001", ["verificationRequest"]);
    for (const name of ["from", "to", "time", "identity"]) {
      const request = atisRequest("x") as { verificationRequest: Record<string, unknown> };
      delete request.verificationRequest[name];
      await expectError(await jsonPost(JSON.stringify(request)), 400, "serviceException", "SVC4001", [name]);
    }
  });

  it("SVC4005 for an invalid parameter value", async () => {
    await expectError(await jsonPost(JSON.stringify(atisRequest("x", { time: "yesterday" }))), 400, "serviceException", "SVC4005", ["time", '"yesterday"']);
    await expectError(await jsonPost(JSON.stringify(atisRequest("x", { to: { tn: 7 } }))), 400, "serviceException", "SVC4005");
    // 1e400 parses as Infinity: shown as the caller's number, not as JSON's null.
    await expectError(await jsonPost(JSON.stringify(atisRequest("x", { time: 0 })).replace('"time":0', '"time":1e400')), 400, "serviceException", "SVC4005", ["time", "Infinity"]);
  });

  it("SVC4005 naming from or to when a tn is no telephone number, rather than blaming the PASSporT", async () => {
    for (const tn of ["abc", "sip:+77272501234@evil.example", "7".repeat(30), "7727\u00ff2501234"]) {
      await expectError(await jsonPost(JSON.stringify(atisRequest("x", { from: { tn } }))), 400, "serviceException", "SVC4005", ["from", JSON.stringify({ tn }).slice(0, 64)]);
    }
    await expectError(await jsonPost(JSON.stringify(atisRequest("x", { to: { tn: ["77012345678", "Bob"] } }))), 400, "serviceException", "SVC4005", ["to", '{"tn":"Bob"}']);
  });

  it("SVC4005 naming a member the request does not define, at any level: a misspelt member is no absent one", async () => {
    const request = atisRequest("x");
    await expectError(await jsonPost(JSON.stringify({ ...request, extra: 1 })), 400, "serviceException", "SVC4005", ["extra", "1"]);
    await expectError(await jsonPost(JSON.stringify(atisRequest("x", { caller: { tn: CALLER } }))), 400, "serviceException", "SVC4005", ["verificationRequest.caller", `{"tn":"${CALLER}"}`]);
    await expectError(await jsonPost(JSON.stringify(atisRequest("x", { from: { tn: CALLER, name: "Bank" } }))), 400, "serviceException", "SVC4005", ["verificationRequest.from.name", '"Bank"']);
    await expectError(await jsonPost(JSON.stringify(atisRequest("x", { to: { tn: [CALLEE], uri: ["sip:x@y"] } }))), 400, "serviceException", "SVC4005", ["verificationRequest.to.uri", '["sip:x@y"]']);
  });

  it("SVC4006 for a body that is not JSON", async () => {
    await expectError(await jsonPost("{not json"), 400, "serviceException", "SVC4006");
  });

  it("SVC4002 for an Accept it cannot satisfy", async () => {
    await expectError(await jsonPost("{}", { Accept: "application/xml" }), 406, "serviceException", "SVC4002", ["application/xml"]);
  });

  it("SVC4007 without Content-Length", async () => {
    await expectError(await post({ body: "{}", headers: { "Content-Type": "application/json" } }), 411, "serviceException", "SVC4007");
  });

  it("POL4050 for GET", async () => {
    const response = await appAt().request("/stir/v1/verification", { headers: sbcAuth }, env);
    await expectError(response, 405, "policyException", "POL4050");
  });

  it("SVC4003 for an unknown resource", async () => {
    await expectError(await appAt().request("/stir/v1/nothing", { method: "POST", headers: sbcAuth }, env), 404, "serviceException", "SVC4003");
  });

  it("401 in the ATIS format without a valid key", async () => {
    const text = JSON.stringify(atisRequest("x"));
    for (const authorization of [undefined, "Basic Zm9vOmJhcg==", "Bearer wrong-key"]) {
      const headers: Record<string, string> = { "Content-Type": "application/json", "Content-Length": String(text.length) };
      if (authorization) headers.Authorization = authorization;
      const response = await appAt().request("/stir/v1/verification", { method: "POST", headers, body: text }, env);
      await expectError(response, 401, "policyException", "POL4001");
      expect(response.headers.get("WWW-Authenticate")).toMatch(/^Bearer/);
    }
  });

  it("echoes X-RequestID, or generates one", async () => {
    const echoed = await jsonPost("{}", { "X-RequestID": "sbc-42" });
    expect(echoed.headers.get("X-RequestID")).toBe("sbc-42");
    const generated = await jsonPost("{}");
    expect(generated.headers.get("X-RequestID")).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("native endpoint request errors", () => {
  const verdict = (init: RequestInit & { headers?: Record<string, string> }) =>
    appAt().request("/v1/verdict", { method: "POST", ...init, headers: { ...sbcAuth, ...init.headers } }, env);

  it("401 with a JSON error without a valid key", async () => {
    const response = await appAt().request("/v1/verdict", { method: "POST", body: "{}", headers: { "Content-Type": "application/json" } }, env);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: { code: "ERR_UNAUTHENTICATED", message: expect.any(String) } });
  });

  it("names the field that is wrong", async () => {
    const response = await verdict({ body: JSON.stringify({ from: 7 }), headers: { "Content-Type": "application/json" } });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: { code: "ERR_VALIDATION", field: "from", message: "from: must be a string" } });
    const ingress = await verdict({ body: JSON.stringify({ ingress: { international: "yes" } }), headers: { "Content-Type": "application/json" } });
    expect(((await ingress.json()) as any).error.field).toBe("ingress.international");
  });

  it("refuses other content types, bad JSON, and SIP that is not an INVITE", async () => {
    expect((await verdict({ body: "x", headers: { "Content-Type": "text/plain" } })).status).toBe(415);
    expect((await verdict({ body: "{", headers: { "Content-Type": "application/json" } })).status).toBe(400);
    const options = await verdict({ body: "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\n\r\n", headers: { "Content-Type": "message/sip" } });
    expect(options.status).toBe(400);
    expect(((await options.json()) as any).error.message).toMatch(/only INVITE/);
  });

  it("refuses an oversized body with 413", async () => {
    const response = await verdict({ body: JSON.stringify({ from: "x".repeat(200_000) }), headers: { "Content-Type": "application/json" } });
    expect(response.status).toBe(413);
  });
});

describe("the deployed entry point", () => {
  it("answers /healthz without credentials", async () => {
    const response = await exports.default.fetch("http://verifier/healthz");
    expect(await response.json()).toEqual({ status: "ok" });
  });

  it("verifies a call signed now through the production wiring (system clock, Cache API)", async () => {
    await installTrust();
    // A leaf valid around the real now, so this test does not age with the fixture certificates.
    const now = Math.floor(Date.now() / 1000);
    const leaf = await issueTestLeaf({ notBefore: new Date((now - 86_400) * 1000), notAfter: new Date((now + 86_400) * 1000) });
    const { identity } = await signPassport({ key: leaf.privateKey, x5u: await serveChain(leaf.pem), orig: CALLER, dest: [CALLEE], attest: "A", iat: now });
    const text = JSON.stringify(atisRequest(identity, { time: Math.floor(Date.now() / 1000) }));
    const response = await exports.default.fetch("http://verifier/stir/v1/verification", {
      method: "POST",
      headers: { ...sbcAuth, "Content-Type": "application/json", "Content-Length": String(text.length) },
      body: text,
    });
    expect(await response.json()).toEqual({ verificationResponse: { verstat: "TN-Validation-Passed" } });
  });
});
