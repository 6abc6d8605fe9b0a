import { beforeEach, describe, expect, it } from "vitest";
import { INTERNATIONAL_QUERY, inviteWith, postInvite, TO } from "../support/invite";
import { appAt, CALLER, installTrust, postVerdict } from "../support/stir";

beforeEach(() => installTrust());

const FOREIGN = "4930123456789";
const FOREIGN_PAI = `P-Asserted-Identity: <sip:+${FOREIGN}@gw.example>`;
const judge = async (...headers: string[]) => ((await (await postInvite(inviteWith([TO, ...headers]), INTERNATIONAL_QUERY)).json()) as any).verdict;

/**
 * `(+7) 727 250 12 34` is how a Kazakh number is often written, and libphonenumber (the callee's
 * phone, its contact list) reads a number from its first `+` or digit, so separators before the `+`
 * change nothing: the phone shows the Almaty landline. Read as a local number that is no number, such a
 * From went unjudged beside a foreign P-Asserted-Identity, and the call was allowed from abroad.
 */
describe("separators written before a global number's + leave it the global number", () => {
  it.each([
    ["a bracketed country code", "(+7)727-250-12-34"],
    ["a bracket before the +", "(+77272501234"],
    ["a zero-width space", "%E2%80%8B%2B77272501234"],
    ["a hyphen", "-%2B77272501234"],
    ["a dot", ".+77272501234"],
  ])("From with %s behind a foreign P-Asserted-Identity is judged as the Almaty landline", async (_, user) => {
    const verdict = await judge(`From: <sip:${user}@gw.example;user=phone>;tag=1`, FOREIGN_PAI);
    expect(verdict).toMatchObject({ action: "block", sip: { code: 608 }, decidedBy: "origin.national-on-international", cli: { tn: FOREIGN, source: "pai" } });
    expect(verdict.checks.find((check: any) => check.id === "origin.national-on-international")).toMatchObject({ result: "fail", evidence: { presentedIn: "From" } });
  });

  it("a tel URI, as the caller ID itself", async () => {
    const verdict = await judge(`From: <tel:(+7)7272501234>;tag=1`);
    expect(verdict).toMatchObject({ action: "block", decidedBy: "origin.national-on-international", cli: { tn: CALLER } });
  });

  it("the JSON call's bare number", async () => {
    const response = await postVerdict(appAt(), { from: "(+7) 727 250 12 34", pai: `+${FOREIGN}`, to: "+77012345678", ingress: { trunk: "intl-9", carrier: "TransitCo", international: true } });
    const { verdict } = (await response.json()) as any;
    expect(verdict).toMatchObject({ action: "block", decidedBy: "origin.national-on-international", cli: { tn: FOREIGN } });
  });

  it("a global number after separators that is no telephone number is unreadable, not 'no number'", async () => {
    const verdict = await judge(`From: <sip:(+77272501234a@gw.example;user=phone>;tag=1`, FOREIGN_PAI);
    expect(verdict).toMatchObject({ action: "block", decidedBy: "cli.format", cli: { source: "from", tn: null } });
  });

  it("a local number in a foreign context is still no number, whatever precedes it", async () => {
    const verdict = await judge(`From: <tel:-4940545;phone-context=+7701>;tag=1`, FOREIGN_PAI);
    expect(verdict).toMatchObject({ action: "block", decidedBy: "cli.format" });
  });
});
