import { beforeEach, describe, expect, it } from "vitest";
import { DOMESTIC_QUERY, FROM, INTERNATIONAL_QUERY, inviteWith, postInvite, TO } from "../support/invite";
import { appAt, CALLEE, CALLER, installTrust, postVerdict, signedIdentity, verdictRequest } from "../support/stir";

beforeEach(() => installTrust());

/**
 * RFC 3323 / RFC 3325 §9.3: a caller may ask that its identity not be shown. A verdict never tells the
 * SBC to present a caller ID so hidden: the verstat P-Asserted-Identity the core needs stays, beside a
 * Privacy header carrying what the caller asked for, which replaces the INVITE's own, so that the
 * privacy service at the trust boundary removes the identity and anonymises From.
 */

const INTERNATIONAL = { trunk: "intl-9", carrier: "TransitCo", international: true };
const VOIP = "77502345678"; // a national VoIP number from abroad: withheld by the default policy

async function headersOf(response: Response, action: string) {
  expect(response.status).toBe(200);
  const { verdict } = (await response.json()) as { verdict: { action: string; headers: { name: string; value: string }[] } };
  expect(verdict.action).toBe(action);
  return verdict.headers;
}

const pai = (tn: string, verstat: string) => ({ name: "P-Asserted-Identity", value: `<tel:+${tn};verstat=${verstat}>` });
const PASSED = pai(CALLER, "TN-Validation-Passed");

describe("allow", () => {
  it.each([
    ["id", [PASSED, { name: "Privacy", value: "id" }]],
    ["user", [PASSED, { name: "Privacy", value: "user" }]],
    ["header;critical", [PASSED, { name: "Privacy", value: "header;critical" }]],
    ["none", [PASSED]],
    ["session", [PASSED]],
    [null, [PASSED]],
  ])("Privacy: %s (JSON)", async (privacy, headers) => {
    const { identity } = await signedIdentity();
    expect(await headersOf(await postVerdict(appAt(), verdictRequest([identity], { privacy })), "allow")).toEqual(headers);
  });

  it("Privacy: id (raw INVITE)", async () => {
    const { identity } = await signedIdentity();
    const headers = await headersOf(await postInvite(inviteWith([FROM, TO, "Privacy: id"], [identity]), DOMESTIC_QUERY), "allow");
    expect(headers).toEqual([PASSED, { name: "Privacy", value: "id" }]);
  });
});

describe("tag", () => {
  it("keeps the verstat and Reason, and re-asserts the caller's Privacy (JSON and raw INVITE)", async () => {
    const { identity } = await signedIdentity({ orig: "77272509999" });
    const expected = [pai(CALLER, "No-TN-Validation"), { name: "Reason", value: 'SIP ;cause=438 ;text="Invalid Identity Header"' }, { name: "Privacy", value: "user;critical" }];
    expect(await headersOf(await postVerdict(appAt(), verdictRequest([identity], { privacy: "user; critical" })), "tag")).toEqual(expected);
    expect(await headersOf(await postInvite(inviteWith([FROM, TO, "Privacy: user", "Privacy: critical"], [identity]), DOMESTIC_QUERY), "tag")).toEqual(expected);
  });
});

describe("withhold", () => {
  it.each([
    [null, "id"],
    ["id", "id"],
    ["user;critical", "user;critical;id"],
    ["none", "id"],
  ])("Privacy: %s (JSON) → Privacy: %s", async (privacy, value) => {
    const headers = await headersOf(await postVerdict(appAt(), { from: `+${VOIP}`, to: `+${CALLEE}`, ingress: INTERNATIONAL, privacy }), "withhold");
    expect(headers).toEqual([pai(VOIP, "No-TN-Validation"), { name: "Privacy", value }]);
  });

  it("Privacy: user (raw INVITE) → Privacy: user;id", async () => {
    const headers = await headersOf(await postInvite(inviteWith([`From: <sip:+${VOIP}@carrier.example>;tag=1`, TO, "Privacy: user"]), INTERNATIONAL_QUERY), "withhold");
    expect(headers).toEqual([pai(VOIP, "No-TN-Validation"), { name: "Privacy", value: "user;id" }]);
  });
});

describe("block", () => {
  it("presents no caller ID, whatever the caller asked (JSON and raw INVITE)", async () => {
    const json = await headersOf(await postVerdict(appAt(), { from: `+${CALLER}`, to: `+${CALLEE}`, ingress: INTERNATIONAL, privacy: "id" }), "block");
    const raw = await headersOf(await postInvite(inviteWith([FROM, TO, "Privacy: id"]), INTERNATIONAL_QUERY), "block");
    for (const headers of [json, raw]) expect(headers).toEqual([{ name: "Reason", value: expect.stringMatching(/^SIP ;cause=608 /) }]);
  });
});

describe("the Privacy header the verdict writes holds only RFC 3323 / RFC 3325 values", () => {
  it("extension values and anything else the caller wrote are left out", async () => {
    const { identity } = await signedIdentity();
    const headers = await headersOf(await postVerdict(appAt(), verdictRequest([identity], { privacy: "ID; x-vendor;\r\nX-Injected: yes" })), "allow");
    expect(headers).toEqual([PASSED, { name: "Privacy", value: "id" }]);
  });
});
