import { beforeEach, describe, expect, it } from "vitest";
import { INTERNATIONAL_QUERY, inviteWith, postInvite, TO } from "../support/invite";
import { CALLER, installTrust } from "../support/stir";

beforeEach(() => installTrust());

const FOREIGN = "4930123456789";
const FOREIGN_FROM = `From: <sip:+${FOREIGN}@gw.example;user=phone>;tag=1`;
const judge = async (...headers: string[]) => ((await (await postInvite(inviteWith([FOREIGN_FROM, TO, ...headers]), INTERNATIONAL_QUERY)).json()) as any).verdict;

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
