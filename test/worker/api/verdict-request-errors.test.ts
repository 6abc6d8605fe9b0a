import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { sbcAuth } from "../support/auth";
import { FROM, inviteWith, postInvite, TO } from "../support/invite";
import { appAt, CALLEE, installTrust, postVerdict } from "../support/stir";

beforeEach(() => installTrust());

/** Issue 23 item 1: one typo in an SBC integration must not quietly become a verdict for every call. */

const INTERNATIONAL = { trunk: "intl-1", carrier: "TransitCo", international: true };
const CALL = { from: "+77272501234", to: `+${CALLEE}`, ingress: INTERNATIONAL };

async function expectFieldError(response: Response, field: string, message: RegExp) {
  expect(response.status).toBe(400);
  const { error } = (await response.json()) as { error: { code: string; field: string; message: string } };
  expect(error).toMatchObject({ code: "ERR_VALIDATION", field });
  expect(error.message).toMatch(message);
}

describe("a member the JSON call description does not define is refused, naming it", () => {
  it("`caller` for `from` is refused, rather than judged as a call with no caller ID", async () => {
    const { from: _from, ...rest } = CALL;
    await expectFieldError(await postVerdict(appAt(), { ...rest, caller: "+77272501234" }), "caller", /^caller: unknown name; expected one of identity, from, pai, to, ruri, date, privacy, callId, ingress$/);
  });

  it("`ingress.intl` for `ingress.international` is refused, rather than dropped", async () => {
    await expectFieldError(await postVerdict(appAt(), { ...CALL, ingress: { trunk: "intl-1", intl: true } }), "ingress.intl", /^ingress\.intl: unknown name; expected one of trunk, carrier, international$/);
  });

  it("an unknown member is named before any other problem, since it explains what looks missing", async () => {
    await expectFieldError(await postVerdict(appAt(), { from: 7, callerId: "+77272501234", ingress: INTERNATIONAL }), "callerId", /unknown name/);
  });

  it("a member that is not data, `__proto__`, is refused too", async () => {
    const response = await appAt().request("/v1/verdict", { method: "POST", headers: { ...sbcAuth, "Content-Type": "application/json" }, body: `{"__proto__":{"from":"+1"},"to":"+${CALLEE}","ingress":{"trunk":"intl-1"}}` }, env);
    await expectFieldError(response, "__proto__", /unknown name/);
  });

  it("every defined member is accepted", async () => {
    const response = await postVerdict(appAt(), { ...CALL, identity: [], pai: null, ruri: `sip:+${CALLEE}@operator.example`, date: "Fri, 28 Nov 2025 00:00:00 GMT", privacy: "none" });
    expect(response.status).toBe(200);
  });
});

describe("a call with no ingress is the SBC's configuration fault: refused in both forms", () => {
  it.each([
    ["absent", {}],
    ["null", { ingress: null }],
    ["empty", { ingress: {} }],
    ["all null", { ingress: { trunk: null, carrier: null, international: null } }],
  ])("JSON, ingress %s", async (_what, ingress) => {
    const { ingress: _ingress, ...call } = CALL;
    await expectFieldError(await postVerdict(appAt(), { ...call, ...ingress }), "ingress", /say where the call came in/);
  });

  it("raw INVITE without ingress query parameters", async () => {
    await expectFieldError(await postInvite(inviteWith([FROM, TO]), ""), "ingress", /say where the call came in/);
  });

  it("one member is enough: the trunk, the carrier or the flag", async () => {
    for (const query of ["?trunk=intl-1", "?carrier=TransitCo", "?international=true"]) {
      expect((await postInvite(inviteWith([FROM, TO]), query)).status, query).toBe(200);
    }
  });

  it("a query parameter that is no ingress member is refused, naming it", async () => {
    await expectFieldError(await postInvite(inviteWith([FROM, TO]), "?trunk=intl-1&intl=true"), "intl", /^intl: unknown name; expected one of trunk, carrier, international$/);
  });
});

describe("what stays a request error: what the SBC itself got wrong", () => {
  it("a body that is no SIP request, or another method, is 400 ERR_SIP_MESSAGE", async () => {
    for (const body of ["hello", "SIP/2.0 200 OK\r\n\r\n", "OPTIONS sip:a@b SIP/2.0\r\n\r\n"]) {
      const response = await postInvite(body, "?trunk=intl-1");
      expect(response.status, body).toBe(400);
      expect(((await response.json()) as any).error.code).toBe("ERR_SIP_MESSAGE");
    }
  });

  it("a JSON member of the wrong type is 400 ERR_VALIDATION naming it", async () => {
    await expectFieldError(await postVerdict(appAt(), { ...CALL, date: -1 }), "date", /epoch seconds/);
    await expectFieldError(await postVerdict(appAt(), { ...CALL, identity: [1] }), "identity", /array of Identity header values/);
  });
});

describe("the JSON call description is documented as the route validates it", () => {
  it("lists its members and no others (OpenAPI)", async () => {
    const document = (await (await appAt().request("/openapi.json", {}, env)).json()) as any;
    const schema = document.paths["/v1/verdict"].post.requestBody.content["application/json"].schema;
    expect(Object.keys(schema.properties)).toEqual(["identity", "from", "pai", "to", "ruri", "date", "privacy", "callId", "ingress"]);
    expect(schema.additionalProperties).toBe(false);
  });
});
