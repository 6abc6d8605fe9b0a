import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { sbcAuth } from "../support/auth";
import { appAt, CALLEE, CALLER, installTrust, postVerdict, signedIdentity } from "../support/stir";

beforeEach(() => installTrust());

/** The number a fraudster hides behind: a foreign one, which an international trunk may carry. */
const FOREIGN = "4930123456789";
const INTERNATIONAL = { trunk: "intl-9", carrier: "TransitCo", international: true };
const SMUGGLING_FROM = `"<sip:+${FOREIGN}@x.example>" <sip:+${CALLER}@gw.example;user=phone>;tag=1`;

function invite(fromLines: string[], identities: string[] = []): string {
  return [
    `INVITE sip:+${CALLEE}@operator.example;user=phone SIP/2.0`,
    "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds",
    ...fromLines.map((value) => `From: ${value}`),
    `To: <sip:+${CALLEE}@operator.example;user=phone>`,
    "Call-ID: a84b4c76e66710@carrier.example",
    "CSeq: 314159 INVITE",
    ...identities.map((identity) => `Identity: ${identity}`),
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");
}

const postInvite = (body: string, query: string) =>
  appAt().request(`/v1/verdict${query}`, { method: "POST", headers: { ...sbcAuth, "Content-Type": "message/sip" }, body }, env);

describe("a caller ID smuggled past the origin checks", () => {
  // The callee's phone shows the From URI, an Almaty landline, which an international trunk cannot carry:
  // the checks must judge that number, not one written in the display name.
  it("judges the From URI, not a URI written in the quoted display name (JSON)", async () => {
    const response = await postVerdict(appAt(), { from: SMUGGLING_FROM, to: `+${CALLEE}`, ingress: INTERNATIONAL });
    expect(response.status).toBe(200);
    const { verdict } = (await response.json()) as any;
    expect(verdict).toMatchObject({ action: "block", sip: { code: 608 }, decidedBy: "origin.national-on-international", cli: { tn: CALLER } });
  });

  it("judges the From URI, not a URI written in the quoted display name (raw INVITE)", async () => {
    const response = await postInvite(invite([SMUGGLING_FROM]), "?trunk=intl-9&carrier=TransitCo&international=true");
    expect(response.status).toBe(200);
    const { verdict } = (await response.json()) as any;
    expect(verdict).toMatchObject({ action: "block", decidedBy: "origin.national-on-international", cli: { tn: CALLER } });
  });

  it("refuses an INVITE with two From headers, whichever one a PASSporT was signed for", async () => {
    const { identity } = await signedIdentity();
    const response = await postInvite(invite([`"Bank" <sip:+77019999999@c.example>;tag=1`, `<sip:+${CALLER}@c.example>;tag=2`], [identity]), "?trunk=domestic-1&international=false");
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: "ERR_SIP_MESSAGE", message: expect.stringContaining("more than one From header") } });
  });
});
