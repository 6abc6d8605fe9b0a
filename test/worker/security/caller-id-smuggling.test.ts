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

  // RFC 3325 §9.1 allows a SIP and a tel identity; the far end may present either (a gateway to the
  // circuit-switched network can take the calling number from the tel URI, or from the second
  // identity). A foreign first identity must not carry a Kazakh landline in the second past check 5.
  it.each([
    ["sip, then tel", `<sip:+${FOREIGN}@gw.example;user=phone>, <tel:+${CALLER}>`],
    ["tel, then sip", `<tel:+${CALLER}>, <sip:+${FOREIGN}@gw.example;user=phone>`],
    ["in two headers", `<sip:+${FOREIGN}@gw.example;user=phone>\r\nP-Asserted-Identity: <tel:+${CALLER}>`],
    ["a first identity naming no number", `<sip:anonymous@gw.example>, <tel:+${CALLER}>`],
  ])("two identities presenting a foreign and a Kazakh landline (%s): the landline is judged, and blocks", async (_order, pai) => {
    // From presents the foreign number, so only the landline in P-Asserted-Identity can block.
    const response = await postInvite(inviteWith([`From: <sip:+${FOREIGN}@gw.example;user=phone>;tag=1`, TO, `P-Asserted-Identity: ${pai}`]), INTERNATIONAL_QUERY);
    const { verdict } = (await response.json()) as any;
    expect(verdict).toMatchObject({ action: "block", sip: { code: 608 }, decidedBy: "origin.national-on-international" });
    expect(verdict.checks.find((check: any) => check.id === "origin.national-on-international")).toMatchObject({ result: "fail" });
  });

  it("names where the other identity was presented, in the failed check and the reason (JSON)", async () => {
    const response = await postVerdict(appAt(), { from: `<sip:+${FOREIGN}@gw.example>`, pai: `<sip:+${FOREIGN}@gw.example;user=phone>, <tel:+${CALLER}>`, to: `+${CALLEE}`, ingress: INTERNATIONAL });
    const { verdict } = (await response.json()) as any;
    expect(verdict).toMatchObject({ action: "block", decidedBy: "origin.national-on-international", cli: { tn: FOREIGN, source: "pai" } });
    const check = verdict.checks.find((candidate: any) => candidate.id === "origin.national-on-international");
    expect(check).toMatchObject({ result: "fail", evidence: { presentedIn: "P-Asserted-Identity" } });
    expect(check.detail).toMatch(/^P-Asserted-Identity: /);
  });

  it("allows two identities of one foreign number, and a foreign number beside a URI naming none", async () => {
    for (const pai of [`<sip:+${FOREIGN}@gw.example;user=phone>, <tel:+${FOREIGN}>`, `<tel:+${FOREIGN}>, <sip:alice@gw.example>`]) {
      const response = await postInvite(inviteWith([`From: <sip:+${FOREIGN}@gw.example;user=phone>;tag=1`, TO, `P-Asserted-Identity: ${pai}`]), INTERNATIONAL_QUERY);
      const { verdict } = (await response.json()) as any;
      expect(verdict, pai).toMatchObject({ action: "allow", cli: { tn: FOREIGN, source: "pai" } });
    }
  });

  it.each([
    ["more identities than RFC 3325 allows", `<sip:+${FOREIGN}@gw.example>, <tel:+${FOREIGN}>, <tel:+${CALLER}>`, /lists more than 2 identities/],
    ["a second identity the grammar refuses", `<sip:+${FOREIGN}@gw.example>, <<tel:+${CALLER}`, /P-Asserted-Identity unparseable/],
  ])("%s: the caller ID cannot be read, and blocks", async (_what, pai, detail) => {
    const response = await postInvite(inviteWith([`From: <sip:+${FOREIGN}@gw.example;user=phone>;tag=1`, TO, `P-Asserted-Identity: ${pai}`]), INTERNATIONAL_QUERY);
    const { verdict } = (await response.json()) as any;
    expect(verdict).toMatchObject({ action: "block", decidedBy: "cli.format" });
    expect(verdict.checks.find((check: any) => check.id === "sip.pai")).toMatchObject({ result: "fail", detail: expect.stringMatching(detail) });
  });
});

/**
 * Remote-Party-ID and P-Preferred-Identity should not arrive from an interconnect, and the SBC removes
 * them (README), but an SBC that forwards them hands a core that reads them (Asterisk's trustrpid,
 * FreeSWITCH) a number of the peer's choosing: each calling-party number they present is judged as
 * From's is, whatever the caller ID.
 */
describe("a Kazakh number in Remote-Party-ID or P-Preferred-Identity, beside a foreign caller ID", () => {
  const FOREIGN_FROM = `From: <sip:+${FOREIGN}@gw.example;user=phone>;tag=1`;
  const judge = async (...headers: string[]) => ((await (await postInvite(inviteWith([FOREIGN_FROM, TO, ...headers]), INTERNATIONAL_QUERY)).json()) as any).verdict;

  it.each([
    ["Remote-Party-ID", `Remote-Party-ID: "Halyk" <sip:+${CALLER}@gw.example>;party=calling;screen=yes;privacy=off`],
    ["Remote-Party-ID", `Remote-Party-ID: <sip:+${CALLER}@gw.example>`],
    ["P-Preferred-Identity", `P-Preferred-Identity: <tel:+${CALLER}>`],
    ["P-Preferred-Identity", `P-Preferred-Identity: <sip:+${FOREIGN}@gw.example>, <tel:+${CALLER}>`],
  ])("%s (%s): the landline is judged, and blocks, naming where it was presented", async (header, line) => {
    const verdict = await judge(line);
    expect(verdict).toMatchObject({ action: "block", sip: { code: 608 }, decidedBy: "origin.national-on-international", cli: { tn: FOREIGN } });
    const check = verdict.checks.find((candidate: any) => candidate.id === "origin.national-on-international");
    expect(check).toMatchObject({ result: "fail", evidence: { presentedIn: header } });
    expect(check.detail).toMatch(new RegExp(`^${header}: `));
  });

  it("beside a foreign P-Asserted-Identity too", async () => {
    const verdict = await judge(`P-Asserted-Identity: <sip:+${FOREIGN}@gw.example>`, `Remote-Party-ID: <sip:+${CALLER}@gw.example>;party=calling`);
    expect(verdict).toMatchObject({ action: "block", cli: { tn: FOREIGN, source: "pai" } });
  });

  it("a Remote-Party-ID naming the called party, one naming the caller ID itself, and one that cannot be read are no other caller", async () => {
    for (const line of [
      `Remote-Party-ID: <sip:+${CALLER}@gw.example>;party=called;screen=no`,
      `Remote-Party-ID: <sip:+${FOREIGN}@gw.example>;party=calling`,
      `Remote-Party-ID: <sip:+${CALLER}@gw.example;party=calling`,
    ]) {
      expect(await judge(line), line).toMatchObject({ action: "allow", cli: { tn: FOREIGN } });
    }
  });
});
