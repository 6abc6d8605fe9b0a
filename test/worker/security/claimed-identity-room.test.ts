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
