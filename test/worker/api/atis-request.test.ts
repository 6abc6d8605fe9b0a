import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sbcAuth } from "../support/auth";
import { appAt, atisRequest, CALLEE, CALLER, IAT, installTrust, postAtis, signedIdentity } from "../support/stir";

/**
 * How /stir/v1/verification reads an SBC's request (ATIS-1000082 §6.2): which requests reach
 * verification (200 with a verstat) and which are the request's fault, each with its own error. A
 * well-formed Identity header that does not verify answers 200 with a failed verstat, so a 200 below
 * says the request was read, not that the call passed.
 */
const IDENTITY = "eyJhbGciOiJFUzI1NiJ9.eyJpYXQiOjF9.c2ln;info=<https://cr.example.net/sp.pem>;ppt=shaken";

async function requestError(response: Response): Promise<{ status: number; messageId: string; variables?: string[] }> {
  const body = (await response.json()) as { requestError?: { serviceException?: { messageId: string; variables?: string[] } } };
  const exception = body.requestError?.serviceException;
  if (exception === undefined) throw new Error(`expected a serviceException, got ${JSON.stringify(body)}`);
  return { status: response.status, messageId: exception.messageId, ...(exception.variables ? { variables: exception.variables } : {}) };
}

async function verstatOf(response: Response): Promise<string> {
  expect(response.status).toBe(200);
  return ((await response.json()) as { verificationResponse: { verstat: string } }).verificationResponse.verstat;
}

describe("the verification request's Accept", () => {
  it.each(["", " ", "*/*", "application/*", "APPLICATION/JSON", "text/html, application/json;q=0.9", "application/json ; q=1", "application/json;q=0.001", "application/json;q=0, */*;q=0.1"])("%j is answered", async (accept) => {
    expect(await verstatOf(await postAtis(appAt(), atisRequest(IDENTITY), { Accept: accept }))).toBe("No-TN-Validation");
  });

  it.each(["text/*", "application/jsonp", "text/html, application/xml", "application/json-seq", "application/json;q=0", "*/*; q=0.000", "text/html, application/json;q=0.0"])("%j is refused with 406 SVC4002, quoting it", async (accept) => {
    expect(await requestError(await postAtis(appAt(), atisRequest(IDENTITY), { Accept: accept }))).toEqual({ status: 406, messageId: "SVC4002", variables: [accept] });
  });

  it("quotes at most 64 characters of an Accept it refuses", async () => {
    const accept = `text/${"x".repeat(100)}`;
    expect(await requestError(await postAtis(appAt(), atisRequest(IDENTITY), { Accept: accept }))).toMatchObject({ status: 406, variables: [accept.slice(0, 64)] });
  });
});

describe("the verification request's Content-Type", () => {
  it.each(["application/json; charset=utf-8", "Application/JSON", "application/json;charset=utf-8"])("%j is read", async (contentType) => {
    expect(await verstatOf(await postAtis(appAt(), atisRequest(IDENTITY), { "Content-Type": contentType }))).toBe("No-TN-Validation");
  });

  it.each(["application/json-patch+json", "text/json", "application/jsonx; charset=utf-8"])("%j is refused with 415 SVC4004", async (contentType) => {
    expect(await requestError(await postAtis(appAt(), atisRequest(IDENTITY), { "Content-Type": contentType }))).toEqual({ status: 415, messageId: "SVC4004", variables: ["application/json"] });
  });

  it("absent, before a body, is refused with 415 SVC4004; before an empty body the body is missing (SVC4000)", async () => {
    // Bytes, not a string: a string body would be given text/plain by the Request constructor.
    const text = new TextEncoder().encode(JSON.stringify(atisRequest(IDENTITY)));
    const untyped = await appAt().request("/stir/v1/verification", { method: "POST", headers: { ...sbcAuth, "Content-Length": String(text.byteLength) }, body: text }, env);
    expect(await requestError(untyped)).toEqual({ status: 415, messageId: "SVC4004", variables: ["application/json"] });
    const blank = await appAt().request("/stir/v1/verification", { method: "POST", headers: { ...sbcAuth, "Content-Length": "3" }, body: new TextEncoder().encode(" \r\n") }, env);
    expect(await requestError(blank)).toMatchObject({ status: 400, messageId: "SVC4000" });
  });
});

describe("the verification request's framing", () => {
  it("a chunked body (Transfer-Encoding, no Content-Length) is read", async () => {
    const text = JSON.stringify(atisRequest(IDENTITY));
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(text));
        controller.close();
      },
    });
    const response = await appAt().request("/stir/v1/verification", { method: "POST", headers: { ...sbcAuth, "Content-Type": "application/json", "Transfer-Encoding": "chunked" }, body }, env);
    expect(await verstatOf(response)).toBe("No-TN-Validation");
  });

  it("a body over 65 536 bytes is refused with SVC4005 naming the body, whatever Content-Length says", async () => {
    const text = JSON.stringify(atisRequest(IDENTITY, { padding: "x".repeat(70_000) }));
    expect(await requestError(await postAtis(appAt(), text))).toEqual({ status: 400, messageId: "SVC4005", variables: ["body", "larger than 65536 bytes"] });
    expect(await requestError(await postAtis(appAt(), text, { "Content-Length": "100" }))).toEqual({ status: 400, messageId: "SVC4005", variables: ["body", "larger than 65536 bytes"] });
  });
});

describe("the verification request's members (ATIS-1000082 §6.2)", () => {
  const tns = (count: number) => Array.from({ length: count }, (_, index) => `7701234${String(index).padStart(4, "0")}`);

  it.each([
    ["a bare tn string", { to: { tn: CALLEE } }],
    ["16 callees", { to: { tn: tns(16) } }],
    ["time 0", { time: 0 }],
  ])("%s is read", async (_what, overrides) => {
    expect(await verstatOf(await postAtis(appAt(), atisRequest(IDENTITY, overrides)))).toBe("No-TN-Validation");
  });

  it.each([
    ["an array", []],
    ["null", null],
    ["a string", "verificationRequest"],
  ])("a body that is %s is refused with SVC4006", async (_what, body) => {
    expect(await requestError(await postAtis(appAt(), JSON.stringify(body)))).toMatchObject({ status: 400, messageId: "SVC4006" });
  });

  it.each([
    ["verificationRequest an array", { verificationRequest: [] }, "verificationRequest"],
    ["from a string", atisRequest(IDENTITY, { from: CALLER }), "from"],
    ["from an array", atisRequest(IDENTITY, { from: [CALLER] }), "from"],
    ["from.tn empty", atisRequest(IDENTITY, { from: { tn: "" } }), "from"],
    ["from.tn a number", atisRequest(IDENTITY, { from: { tn: 77272501234 } }), "from"],
    ["to a string", atisRequest(IDENTITY, { to: CALLEE }), "to"],
    ["to.tn an empty list", atisRequest(IDENTITY, { to: { tn: [] } }), "to"],
    ["to.tn 17 callees", atisRequest(IDENTITY, { to: { tn: tns(17) } }), "to"],
    ["to.tn a number", atisRequest(IDENTITY, { to: { tn: [Number(CALLEE)] } }), "to"],
    ["to.tn a callee that is no number", atisRequest(IDENTITY, { to: { tn: [CALLEE, "sip:bob@example.net"] } }), "to"],
    ["time negative", atisRequest(IDENTITY, { time: -1 }), "time"],
    ["time a fraction", atisRequest(IDENTITY, { time: IAT + 0.5 }), "time"],
    ["time past 2^53", atisRequest(IDENTITY, { time: 2 ** 53 }), "time"],
    ["identity empty", atisRequest(IDENTITY, { identity: "" }), "identity"],
    ["identity a list", atisRequest(IDENTITY, { identity: [IDENTITY] }), "identity"],
  ])("%s is refused with SVC4005 naming it", async (_what, body, name) => {
    expect(await requestError(await postAtis(appAt(), body))).toMatchObject({ status: 400, messageId: "SVC4005", variables: [name, expect.any(String)] });
  });

  it("quotes at most 64 characters of the value it refuses", async () => {
    const { variables } = await requestError(await postAtis(appAt(), atisRequest(IDENTITY, { identity: ["x".repeat(200)] })));
    expect(variables).toEqual(["identity", `["${"x".repeat(62)}`]);
  });
});

describe("the verification response", () => {
  it("of a PASSporT that verifies is its verstat alone", async () => {
    await installTrust();
    const { identity } = await signedIdentity({ attest: "A" });
    const response = await postAtis(appAt(), atisRequest(identity));
    expect(await response.json()).toEqual({ verificationResponse: { verstat: "TN-Validation-Passed" } });
  });

  it("of one that does not read names the failure: its SIP code, reason text and description", async () => {
    const response = await postAtis(appAt(), atisRequest("not-a-passport;info=<https://cr.example.net/sp.pem>"));
    expect(await response.json()).toEqual({ verificationResponse: { verstat: "No-TN-Validation", reasoncode: 438, reasontext: "Invalid Identity Header", reasondesc: expect.stringMatching(/3 dot-separated segments/) } });
  });
});
