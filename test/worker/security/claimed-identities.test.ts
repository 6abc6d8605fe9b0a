import { beforeEach, describe, expect, it } from "vitest";
import { INTERNATIONAL_QUERY, inviteWith, postInvite, TO } from "../support/invite";
import { CALLER, installTrust } from "../support/stir";

beforeEach(() => installTrust());

const FOREIGN = "4930123456789";
const FOREIGN_FROM = `From: <sip:+${FOREIGN}@gw.example;user=phone>;tag=1`;
const judge = async (...headers: string[]) => ((await (await postInvite(inviteWith([FOREIGN_FROM, TO, ...headers]), INTERNATIONAL_QUERY)).json()) as any).verdict;

/**
 * The identities Remote-Party-ID and P-Preferred-Identity present are read up to a bound, which keeps
 * the grammar's work small. A core reads each header by its own name (FreeSWITCH takes the first
 * P-Preferred-Identity when there is no P-Asserted-Identity, Asterisk the first Remote-Party-ID), so
 * the bound is each header's: shared, the peer spent it on Remote-Party-IDs naming its own foreign
 * number, or on ones nobody can read, and the P-Preferred-Identity after them, the Almaty landline a
 * FreeSWITCH core shows, went unjudged and the call was allowed.
 */
describe("Remote-Party-IDs written first leave P-Preferred-Identity judged", () => {
  it.each([
    ["naming the caller ID itself", `Remote-Party-ID: <sip:+${FOREIGN}@gw.example>;party=calling`],
    ["that cannot be read", `Remote-Party-ID: <sip:+${FOREIGN}@gw.example;party=calling`],
  ])("four Remote-Party-IDs %s, then a P-Preferred-Identity presenting the landline: blocked", async (_, rpid) => {
    const verdict = await judge(rpid, rpid, rpid, rpid, `P-Preferred-Identity: <tel:+${CALLER}>`);
    expect(verdict).toMatchObject({ action: "block", sip: { code: 608 }, decidedBy: "origin.national-on-international", cli: { tn: FOREIGN } });
    const check = verdict.checks.find((candidate: any) => candidate.id === "origin.national-on-international");
    expect(check).toMatchObject({ result: "fail", evidence: { presentedIn: "P-Preferred-Identity" } });
  });

  it("and P-Preferred-Identities written first leave Remote-Party-ID judged", async () => {
    const ppi = `P-Preferred-Identity: <sip:+${FOREIGN}@gw.example>`;
    const verdict = await judge(ppi, ppi, ppi, ppi, `Remote-Party-ID: <sip:+${CALLER}@gw.example>;party=calling`);
    expect(verdict).toMatchObject({ action: "block", decidedBy: "origin.national-on-international" });
    expect(verdict.checks.find((candidate: any) => candidate.id === "origin.national-on-international")).toMatchObject({ evidence: { presentedIn: "Remote-Party-ID" } });
  });
});

/**
 * A Remote-Party-ID names the called party by its own `party` header parameter
 * (draft-ietf-sip-privacy-04 §5: `rpi-pty-type`), which a core such as Asterisk reads as the SIP
 * grammar does. `;party=called` written anywhere else in the header (in the URI's parameters, the
 * display name, another parameter's quoted value) is no such parameter: the header still presents the
 * calling party, the Almaty landline the core shows. Found by looking for the text, it was left
 * unjudged and the call allowed from abroad.
 */
describe("a Remote-Party-ID is the called party's only by its own party parameter", () => {
  it.each([
    ["in the URI's parameters", `Remote-Party-ID: <sip:+${CALLER}@gw.example;party=called;x=1>`],
    ["in the URI's parameters, the header saying calling", `Remote-Party-ID: <sip:+${CALLER}@gw.example;party=called;x=1>;party=calling`],
    ["in the display name", `Remote-Party-ID: "a;party=called;" <sip:+${CALLER}@gw.example>`],
    ["in another parameter's quoted value", `Remote-Party-ID: <sip:+${CALLER}@gw.example>;party=calling;x="a;party=called"`],
  ])("party=called %s: the landline is judged, and blocks", async (_, line) => {
    const verdict = await judge(line);
    expect(verdict).toMatchObject({ action: "block", sip: { code: 608 }, decidedBy: "origin.national-on-international", cli: { tn: FOREIGN } });
    expect(verdict.checks.find((check: any) => check.id === "origin.national-on-international")).toMatchObject({ evidence: { presentedIn: "Remote-Party-ID" } });
  });

  it.each([
    ["as a token", `Remote-Party-ID: <sip:+${CALLER}@gw.example>;party=called`],
    ["quoted, in capitals, spaced", `Remote-Party-ID: <sip:+${CALLER}@gw.example>;PARTY = "Called";screen=no`],
    ["after a tel URI", `Remote-Party-ID: <tel:+${CALLER}>;party=called`],
  ])("the party parameter %s names the called party: no other caller", async (_, line) => {
    expect(await judge(line)).toMatchObject({ action: "allow", cli: { tn: FOREIGN } });
  });
});
