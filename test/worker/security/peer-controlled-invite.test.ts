import { beforeEach, describe, expect, it } from "vitest";
import { DOMESTIC_QUERY, FROM, INTERNATIONAL_QUERY, inviteWith, postInvite, TO } from "../support/invite";
import { appAt, CALLEE, CALLER, installTrust, postVerdict, signedIdentity, verdictRequest } from "../support/stir";

beforeEach(() => installTrust());

/**
 * Issue 22 item 1: an SBC that forwards a call unverified on any answer but a verdict would let the
 * peer pick that answer. Everything the calling peer writes in its INVITE is therefore judged inside a
 * verdict, never refused with a 4xx.
 */

const INTERNATIONAL = { trunk: "intl-9", carrier: "TransitCo", international: true };

async function verdictOf(response: Response) {
  expect(response.status).toBe(200);
  return ((await response.json()) as { verdict: any }).verdict;
}

const checkOf = (verdict: { checks: { id: string }[] }, id: string) => verdict.checks.find((check) => check.id === id);

describe("a Date that is no date fails freshness for a signed call", () => {
  it("raw INVITE: verified no further than passport.freshness (403, Stale Date), with sip.date failed", async () => {
    const { identity } = await signedIdentity();
    const verdict = await verdictOf(await postInvite(inviteWith([FROM, TO, "Date: garbage"], [identity]), DOMESTIC_QUERY));
    expect(verdict).toMatchObject({ verstat: "No-TN-Validation", stir: { reasoncode: 403, reasontext: "Stale Date", failedCheck: "passport.freshness" } });
    expect(verdict.stir.reasondesc).toMatch(/Date header is not a date/);
    expect(checkOf(verdict, "sip.date")).toMatchObject({ result: "fail" });
  });

  it("JSON: the same for a `date` string that is no date", async () => {
    const { identity } = await signedIdentity();
    const verdict = await verdictOf(await postVerdict(appAt(), verdictRequest([identity], { date: "garbage" })));
    expect(verdict).toMatchObject({ verstat: "No-TN-Validation", stir: { reasoncode: 403, failedCheck: "passport.freshness" } });
    expect(checkOf(verdict, "sip.date")).toMatchObject({ result: "fail" });
  });

  it("the same call with a readable Date verifies", async () => {
    const { identity } = await signedIdentity();
    const verdict = await verdictOf(await postInvite(inviteWith([FROM, TO, "Date: Fri, 28 Nov 2025 00:00:00 GMT"], [identity]), DOMESTIC_QUERY));
    expect(verdict).toMatchObject({ verstat: "TN-Validation-Passed", action: "allow" });
    expect(checkOf(verdict, "sip.date")).toBeUndefined();
  });
});

describe("a Date that is no date changes nothing else for an unsigned call", () => {
  it("an Almaty landline from an international trunk is still blocked with 608, as with a clean INVITE", async () => {
    for (const date of ["Date: garbage", "Date: Fri, 28 Nov 2025 00:00:00 GMT"]) {
      const verdict = await verdictOf(await postInvite(inviteWith([FROM, TO, date]), INTERNATIONAL_QUERY));
      expect(verdict, date).toMatchObject({ action: "block", sip: { code: 608 }, decidedBy: "origin.national-on-international" });
    }
  });

  it("the failed sip.date is reported and decides nothing", async () => {
    const verdict = await verdictOf(await postInvite(inviteWith([FROM, TO, "Date: garbage"]), DOMESTIC_QUERY));
    expect(verdict).toMatchObject({ action: "allow", decidedBy: null });
    expect(checkOf(verdict, "sip.date")).toEqual({ id: "sip.date", result: "fail", detail: expect.stringContaining("not a date") });
  });
});

describe("a From that cannot be read is no caller ID: judged as spoofing on an international interconnect", () => {
  const oversized = `From: <sip:+${CALLER}@carrier.example;user=phone>;tag=1${";p=1".repeat(256)}`;
  it.each([
    ["two From headers", [FROM, `From: <sip:+4930123456789@carrier.example>;tag=2`], "more than one From header"],
    ["a From over 1 KiB", [oversized], "From longer than 1024 characters"],
    ["a From the SIP grammar refuses", [`From: <sip:+7 727 250 1234@carrier.example>;tag=1`], "From unparseable"],
  ])("%s → 608", async (_what, fromLines, reason) => {
    const verdict = await verdictOf(await postInvite(inviteWith([...fromLines, TO]), INTERNATIONAL_QUERY));
    expect(verdict).toMatchObject({ action: "block", sip: { code: 608 }, decidedBy: "cli.format", cli: { tn: null, source: "from" } });
    expect(checkOf(verdict, "cli.format")).toMatchObject({ result: "fail", detail: `the caller ID cannot be read: ${reason}`, evidence: { problem: "unreadable" } });
    expect(checkOf(verdict, "sip.from")).toMatchObject({ result: "fail", detail: reason });
  });

  it.each([
    ["a From the SIP grammar refuses", "<sip:+7 727 250 1234@carrier.example>;tag=1", "From unparseable"],
    ["a From over 1 KiB", `<sip:+${CALLER}@carrier.example>;tag=1${";p=1".repeat(256)}`, "From longer than 1024 characters"],
  ])("JSON: %s → 608", async (_what, from, reason) => {
    const verdict = await verdictOf(await postVerdict(appAt(), { from, to: `+${CALLEE}`, ingress: INTERNATIONAL }));
    expect(verdict).toMatchObject({ action: "block", sip: { code: 608 }, decidedBy: "cli.format" });
    expect(checkOf(verdict, "sip.from")).toMatchObject({ result: "fail", detail: reason });
  });

  it("a P-Asserted-Identity that cannot be read is no caller ID either, whatever From holds", async () => {
    const verdict = await verdictOf(await postInvite(inviteWith([FROM, TO, "P-Asserted-Identity: <sip:+7 727 250 1234@carrier.example>"]), INTERNATIONAL_QUERY));
    expect(verdict).toMatchObject({ action: "block", decidedBy: "cli.format", cli: { source: "pai", tn: null } });
    expect(checkOf(verdict, "sip.pai")).toMatchObject({ result: "fail", detail: "P-Asserted-Identity unparseable" });
  });

  it("a From that cannot be read is no caller ID, whatever P-Asserted-Identity holds: the callee may be shown either", async () => {
    const headers = [FROM, `From: <sip:+4930123456789@carrier.example>;tag=2`, TO, `P-Asserted-Identity: <sip:+4930123456789@carrier.example>`];
    const verdict = await verdictOf(await postInvite(inviteWith(headers), INTERNATIONAL_QUERY));
    expect(verdict).toMatchObject({ action: "block", decidedBy: "cli.format", cli: { source: "from", tn: null } });
  });

  it("a second From fails a signed call, whichever From the PASSporT was signed for", async () => {
    const { identity } = await signedIdentity();
    const response = await postInvite(inviteWith([`From: "Bank" <sip:+77019999999@c.example>;tag=1`, `From: <sip:+${CALLER}@c.example>;tag=2`, TO], [identity]), DOMESTIC_QUERY);
    const verdict = await verdictOf(response);
    expect(verdict.verstat).not.toBe("TN-Validation-Passed");
    expect(verdict).toMatchObject({ action: "block", decidedBy: "cli.format", stir: { failedCheck: "passport.orig" } });
  });
});

describe("a To or Request-URI that cannot be read is reported; the callee is the Request-URI's number", () => {
  it("two To headers: the Request-URI still matches the PASSporT's dest", async () => {
    const { identity } = await signedIdentity();
    const verdict = await verdictOf(await postInvite(inviteWith([FROM, TO, `To: <sip:+77019999999@operator.example>`], [identity]), DOMESTIC_QUERY));
    expect(verdict).toMatchObject({ verstat: "TN-Validation-Passed", action: "allow" });
    expect(checkOf(verdict, "sip.to")).toMatchObject({ result: "fail", detail: "more than one To header" });
  });

  it("a Request-URI the SIP grammar refuses names no callee: To, which the call is not routed by, does not stand in for it", async () => {
    const { identity } = await signedIdentity();
    const verdict = await verdictOf(await postInvite(inviteWith([FROM, TO], [identity], `INVITE sip:+770 1234 5678@operator.example SIP/2.0`), DOMESTIC_QUERY));
    expect(verdict).toMatchObject({ verstat: "No-TN-Validation", stir: { failedCheck: "passport.dest" } });
    expect(checkOf(verdict, "sip.ruri")).toMatchObject({ result: "fail", detail: "Request-URI unparseable", evidence: { presented: "sip:+770 1234 5678@operator.example" } });
  });

  it("neither: the PASSporT names no number of this call", async () => {
    const { identity } = await signedIdentity();
    const verdict = await verdictOf(await postInvite(inviteWith([FROM, `To: <<sip:x`], [identity], `INVITE sip:+770 1234 5678@operator.example SIP/2.0`), DOMESTIC_QUERY));
    expect(verdict).toMatchObject({ verstat: "No-TN-Validation", stir: { failedCheck: "passport.dest" } });
  });
});
