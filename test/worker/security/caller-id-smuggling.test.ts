import { beforeEach, describe, expect, it } from "vitest";
import { FROM, INTERNATIONAL_QUERY, inviteWith, postInvite, TO } from "../support/invite";
import { appAt, CALLEE, CALLER, installTrust, postVerdict } from "../support/stir";

beforeEach(() => installTrust());

/** The number a fraudster hides behind: a foreign one, which an international trunk may carry. */
const FOREIGN = "4930123456789";
const INTERNATIONAL = { trunk: "intl-9", carrier: "TransitCo", international: true };
const SMUGGLING_FROM = `"<sip:+${FOREIGN}@x.example>" <sip:+${CALLER}@gw.example;user=phone>;tag=1`;

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
    const response = await postInvite(inviteWith([`From: ${SMUGGLING_FROM}`, TO]), INTERNATIONAL_QUERY);
    expect(response.status).toBe(200);
    const { verdict } = (await response.json()) as any;
    expect(verdict).toMatchObject({ action: "block", decidedBy: "origin.national-on-international", cli: { tn: CALLER } });
  });
});

/**
 * P-Asserted-Identity goes through sip.js's grammar as From does (RFC 3325 §9.1: name-addr or
 * addr-spec, a list of at most a sip: and a tel: identity): the first identity is the caller ID, and a
 * quoted display name, with whatever `<`, `>` and `,` it holds, is text.
 */
describe("P-Asserted-Identity read through the SIP grammar", () => {
  const HIDING_PAI = `"x>, <sip:+${FOREIGN}@x.example>, y" <sip:+${CALLER}@gw.example;user=phone>, <tel:+${CALLER}>`;

  it("judges the address after a display name holding <sip:…> and commas (raw INVITE)", async () => {
    const response = await postInvite(inviteWith([FROM, TO, `P-Asserted-Identity: ${HIDING_PAI}`]), INTERNATIONAL_QUERY);
    const { verdict } = (await response.json()) as any;
    expect(verdict).toMatchObject({ action: "block", sip: { code: 608 }, decidedBy: "origin.national-on-international", cli: { tn: CALLER, source: "pai" } });
  });

  it("judges the address after a display name holding <sip:…> and commas (JSON)", async () => {
    const response = await postVerdict(appAt(), { from: `<sip:+${FOREIGN}@x.example>`, pai: HIDING_PAI, to: `+${CALLEE}`, ingress: INTERNATIONAL });
    const { verdict } = (await response.json()) as any;
    expect(verdict).toMatchObject({ action: "block", decidedBy: "origin.national-on-international", cli: { tn: CALLER, source: "pai" } });
  });

  it.each([
    ["sip, then tel", `<sip:+${FOREIGN}@gw.example;user=phone>, <tel:+${CALLER}>`, FOREIGN, "allow"],
    ["tel, then sip", `<tel:+${CALLER}>, <sip:+${FOREIGN}@gw.example;user=phone>`, CALLER, "block"],
  ])("two identities (%s): the first presents the caller", async (_order, pai, tn, action) => {
    // From presents the foreign number too, so the verdict is the first identity's alone.
    const response = await postInvite(inviteWith([`From: <sip:+${FOREIGN}@gw.example;user=phone>;tag=1`, TO, `P-Asserted-Identity: ${pai}`]), INTERNATIONAL_QUERY);
    const { verdict } = (await response.json()) as any;
    expect(verdict).toMatchObject({ action, cli: { tn, source: "pai" } });
  });
});
