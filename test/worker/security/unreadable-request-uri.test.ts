import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { markIsolateSnapshotsStale } from "../../../src/origin/snapshot";
import { adminAuth } from "../support/auth";
import { DOMESTIC_QUERY, INTERNATIONAL_QUERY, inviteWith, postInvite, TO } from "../support/invite";
import { appAt, installTrust, postVerdict, signedIdentity } from "../support/stir";

/**
 * The number a call is routed to is the Request-URI's (src/call/normalize.ts calledNumber). One the
 * verifier cannot read names no callee, so no destination rule matches it; a core may still route it
 * (strip the junk, place a local number in its context). An unreadable Request-URI is therefore judged
 * by the ingress it came in on: the policy's `sip.ruri:international` (default block, 608: an
 * interconnect from abroad sends E.164, GSMA IR.95) and `sip.ruri:domestic` (default allow: IMS
 * home-local numbers with a domain phone-context exist at home), which the operator may change.
 */
beforeEach(async () => {
  await installTrust();
  await writePolicy({});
});

/** A valid foreign caller ID: nothing but the Request-URI is wrong with the call. */
const BERLIN = "4930123456789";
const FOREIGN_FROM = `From: <sip:+${BERLIN}@carrier.example;user=phone>;tag=1`;
const requestLine = (ruri: string) => `INVITE ${ruri} SIP/2.0`;
const NO_TELEPHONE_NUMBER = "sip:+77015550000a@operator.example";

const UNREADABLE: [string, string, RegExp][] = [
  ["a global number that is no telephone number", NO_TELEPHONE_NUMBER, /global number .* no telephone number/],
  ["a local number in a foreign phone-context", "sip:5550000;phone-context=+49@operator.example;user=phone", /local number whose phone-context is not the home country's/],
  ["a tel URI's local number in another context", "tel:4940545;phone-context=+7701", /local number whose phone-context is not the home country's/],
  ["a Request-URI the SIP grammar refuses", "sip:+770 1234 5678@operator.example", /^Request-URI unparseable$/],
];

async function verdictOf(response: Response) {
  expect(response.status).toBe(200);
  return ((await response.json()) as { verdict: any }).verdict;
}

const ruriChecks = (verdict: { checks: { id: string }[] }) => verdict.checks.filter((check) => check.id === "sip.ruri") as any[];

async function writePolicy(outcomes: Record<string, unknown>) {
  const admin = (method: string, body?: unknown) =>
    appAt().request("/v1/admin/config/policy", { method, headers: { ...adminAuth, "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) }, env);
  const { version } = (await (await admin("GET")).json()) as { version: number };
  const response = await admin("PUT", { document: { outcomes }, version });
  expect(response.status).toBe(200);
  markIsolateSnapshotsStale();
}

describe("an unreadable Request-URI on an international interconnect is blocked (sip.ruri:international)", () => {
  it.each(UNREADABLE)("%s → 608, sip.ruri saying why", async (_what, ruri, why) => {
    const verdict = await verdictOf(await postInvite(inviteWith([FOREIGN_FROM, TO], [], requestLine(ruri)), INTERNATIONAL_QUERY));
    expect(verdict).toMatchObject({ action: "block", sip: { code: 608 }, decidedBy: "sip.ruri" });
    expect(ruriChecks(verdict)).toEqual([{ id: "sip.ruri", result: "fail", detail: expect.stringMatching(why), evidence: { presented: ruri, ingress: "international" } }]);
  });

  it("the same call with a readable Request-URI is allowed", async () => {
    const verdict = await verdictOf(await postInvite(inviteWith([FOREIGN_FROM, TO]), INTERNATIONAL_QUERY));
    expect(verdict).toMatchObject({ action: "allow", decidedBy: null });
  });

  it("JSON: a `ruri` that is no telephone number is blocked the same way", async () => {
    const verdict = await verdictOf(await postVerdict(appAt(), { from: `+${BERLIN}`, to: "+77012345678", ruri: "+77015550000a", ingress: { trunk: "intl-9", international: true } }));
    expect(verdict).toMatchObject({ action: "block", sip: { code: 608 }, decidedBy: "sip.ruri" });
    expect(ruriChecks(verdict)).toHaveLength(1);
  });

  it("a signed call: its PASSporT's dest names no number of the call, and the Request-URI blocks it", async () => {
    const { identity } = await signedIdentity({ orig: BERLIN });
    const readable = await verdictOf(await postInvite(inviteWith([FOREIGN_FROM, TO], [identity]), INTERNATIONAL_QUERY));
    expect(readable).toMatchObject({ action: "allow", verstat: "TN-Validation-Passed" });
    const verdict = await verdictOf(await postInvite(inviteWith([FOREIGN_FROM, TO], [identity], requestLine("sip:+77012345678a@operator.example")), INTERNATIONAL_QUERY));
    expect(verdict).toMatchObject({ action: "block", sip: { code: 608 }, decidedBy: "sip.ruri", verstat: "No-TN-Validation", stir: { failedCheck: "passport.dest" } });
    expect(ruriChecks(verdict)).toEqual([expect.objectContaining({ result: "fail", detail: expect.stringMatching(/no telephone number/) })]);
  });
});

describe("an unreadable Request-URI on a domestic interconnect is reported and allowed (sip.ruri:domestic)", () => {
  it.each(UNREADABLE)("%s → allow, sip.ruri failed", async (_what, ruri, why) => {
    const verdict = await verdictOf(await postInvite(inviteWith([FOREIGN_FROM, TO], [], requestLine(ruri)), DOMESTIC_QUERY));
    expect(verdict).toMatchObject({ action: "allow", decidedBy: null });
    expect(ruriChecks(verdict)).toEqual([{ id: "sip.ruri", result: "fail", detail: expect.stringMatching(why), evidence: { presented: ruri, ingress: "domestic" } }]);
  });

  it("an operator may block it there too", async () => {
    await writePolicy({ "sip.ruri:domestic": { action: "block", sipCode: 603 } });
    const verdict = await verdictOf(await postInvite(inviteWith([FOREIGN_FROM, TO], [], requestLine(NO_TELEPHONE_NUMBER)), DOMESTIC_QUERY));
    expect(verdict).toMatchObject({ action: "block", sip: { code: 603 }, decidedBy: "sip.ruri" });
  });
});

describe("the operator's policy decides what an unreadable Request-URI from abroad costs", () => {
  const unreadable = () => postInvite(inviteWith([FOREIGN_FROM, TO], [], requestLine(NO_TELEPHONE_NUMBER)), INTERNATIONAL_QUERY);

  it("sip.ruri:international → allow lets it through, still reported", async () => {
    await writePolicy({ "sip.ruri:international": { action: "allow" } });
    const verdict = await verdictOf(await unreadable());
    expect(verdict).toMatchObject({ action: "allow", decidedBy: null });
    expect(ruriChecks(verdict)).toMatchObject([{ result: "fail" }]);
  });

  it("mode monitor lists the block in `monitored` and enforces nothing", async () => {
    await writePolicy({ "sip.ruri:international": { action: "block", sipCode: 608, mode: "monitor" } });
    const verdict = await verdictOf(await unreadable());
    expect(verdict).toMatchObject({ action: "allow", sip: null, decidedBy: null, monitored: [{ by: "sip.ruri", action: "block", reason: expect.stringMatching(/no telephone number/) }] });
  });

  it("a From presenting another number than P-Asserted-Identity, judged too, adds no second check or finding", async () => {
    await writePolicy({ "sip.ruri:international": { action: "block", sipCode: 608, mode: "monitor" } });
    const headers = [FOREIGN_FROM, TO, "P-Asserted-Identity: <sip:+442071234567@carrier.example>"];
    const verdict = await verdictOf(await postInvite(inviteWith(headers, [], requestLine(NO_TELEPHONE_NUMBER)), INTERNATIONAL_QUERY));
    expect(verdict.monitored).toEqual([expect.objectContaining({ by: "sip.ruri" })]);
    expect(ruriChecks(verdict)).toHaveLength(1);
  });
});

describe("a readable Request-URI is no sip.ruri check", () => {
  it.each([
    "sip:+77012345678@operator.example;user=phone",
    "sip:+77012345678@operator.example",
    "tel:+77012345678",
    "tel:+7-701-234-5678;isub=1",
    "tel:7012345678;phone-context=+7",
    "sip:87012345678@operator.example",
    "sip:operator.example",
  ])("%s", async (ruri) => {
    const verdict = await verdictOf(await postInvite(inviteWith([FOREIGN_FROM, TO], [], requestLine(ruri)), INTERNATIONAL_QUERY));
    expect(verdict).toMatchObject({ action: "allow", decidedBy: null });
    expect(ruriChecks(verdict)).toEqual([]);
  });
});
