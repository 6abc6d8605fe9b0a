import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../../src/app";
import { systemClock } from "../../../src/lib/clock";
import { getConfigSection, putConfigSection } from "../../../src/origin/config/store";
import { createSnapshotCache } from "../../../src/origin/snapshot";
import { sbcAuth, TEST_ACTOR } from "../support/auth";

/**
 * One Kazakh number, spelt so that the verifier reads another number (or none) where the core, an
 * ISUP interworking or the callee's phone reads the Kazakh one (a review of how numbers are presented,
 * 2026-12-07). On an international trunk every spelling of an Almaty landline must meet the same checks.
 */
const INTERNATIONAL = "?trunk=intl-1&carrier=TransitCo&international=true";
const ALMATY_FIXED = "77272501234";
const BERLIN = "4930123456789";
const TO = "To: <sip:+77012345678@operator.example>";

const freshApp = () => createApp({ sharedCache: null, snapshots: createSnapshotCache({ homeCountry: "KZ", clock: systemClock, refreshIntervalMs: 0 }) });

function invite(headers: string[]): string {
  return ["INVITE sip:+77012345678@operator.example;user=phone SIP/2.0", "Via: SIP/2.0/UDP 198.51.100.20:5060;branch=z9hG4bK776asdhds", "Max-Forwards: 70", ...headers, "Call-ID: spell@carrier.example", "CSeq: 1 INVITE", "Content-Length: 0", "", ""].join("\r\n");
}

async function verdictOf(text: string, ingress = INTERNATIONAL) {
  const context = createExecutionContext();
  const response = await freshApp().request(`/v1/verdict${ingress}`, { method: "POST", headers: { ...sbcAuth, "Content-Type": "message/sip" }, body: text }, env, context);
  await waitOnExecutionContext(context);
  expect(response.status).toBe(200);
  return ((await response.json()) as { verdict: any }).verdict;
}

describe("a password in the user part (RFC 3261 §19.1.1 userinfo) does not hide the number", () => {
  it("From <sip:+7727…:x@…> behind a foreign P-Asserted-Identity is judged as the Almaty landline it presents", async () => {
    const verdict = await verdictOf(invite([`From: <sip:+${ALMATY_FIXED}:x@carrier.example;user=phone>;tag=1`, TO, `P-Asserted-Identity: <sip:+${BERLIN}@carrier.example>`]));
    expect(verdict).toMatchObject({ action: "block", decidedBy: "origin.national-on-international" });
  });

  it("the caller ID <sip:+7727…:x@…> is the Almaty landline, not 'no number'", async () => {
    const verdict = await verdictOf(invite([`From: <sip:+${ALMATY_FIXED}:secret@carrier.example>;tag=1`, TO]));
    expect(verdict).toMatchObject({ action: "block", decidedBy: "origin.national-on-international", cli: { tn: ALMATY_FIXED } });
  });
});

/**
 * A number spelt as libphonenumber, and the phones and contact lists built on it, read it: the
 * full-width plus (U+FF0B) is a plus, and the punctuation it reads inside a number (its
 * VALID_PUNCTUATION: U+2010 hyphens, zero-width spaces, full-width brackets, the minus sign) separates
 * digits. Read as no number, each spelling of the Almaty landline went unjudged beside a foreign
 * P-Asserted-Identity.
 */
describe("a From spelt as the callee's phone reads it", () => {
  it.each([
    ["a full-width plus", `%EF%BC%8B${ALMATY_FIXED}`],
    ["U+2010 hyphens", "8%E2%80%90727%E2%80%90250%E2%80%9012%E2%80%9034"],
    ["zero-width spaces", "8%E2%80%8B727%E2%80%8B2501234"],
    ["full-width brackets and a minus sign", "8%EF%BC%88727%EF%BC%89250%E2%88%921234"],
  ])("with %s, behind a foreign P-Asserted-Identity, is judged as the Almaty landline it presents", async (_spelling, user) => {
    const verdict = await verdictOf(invite([`From: <sip:${user}@carrier.example;user=phone>;tag=1`, TO, `P-Asserted-Identity: <sip:+${BERLIN}@carrier.example>`]));
    expect(verdict).toMatchObject({ action: "block", decidedBy: "origin.national-on-international", cli: { tn: BERLIN, source: "pai" } });
    expect(verdict.checks.find((check: { id: string }) => check.id === "origin.national-on-international")).toMatchObject({ result: "fail", evidence: { presentedIn: "From" } });
  });
});

describe("a local number (RFC 3966 §5.1.5) is never read as an international one", () => {
  // 494 05 45 in the context +7 701 is Kcell's +7 701 494 05 45 to a core that places it there, a local
  // number to the callee's phone; read as E.164 it was +49 40545, a Hamburg landline, allowed from abroad.
  it.each([
    ["a tel URI", "<tel:4940545;phone-context=+7701>"],
    ["a SIP URI with user=phone", "<sip:4940545;phone-context=+7701@carrier.example;user=phone>"],
    ["a domain as its context", "<tel:4940545;phone-context=kcell.example>"],
  ])("%s: no caller ID is vouched for", async (_, address) => {
    const verdict = await verdictOf(invite([`From: ${address};tag=1`, TO]));
    expect(verdict).toMatchObject({ action: "block", decidedBy: "cli.format", cli: { tn: null } });
    expect(verdict.headers.some((header: { name: string }) => header.name === "P-Asserted-Identity")).toBe(false);
  });

  it("nor behind a foreign P-Asserted-Identity", async () => {
    const verdict = await verdictOf(invite([`From: <tel:4940545;phone-context=+7701>;tag=1`, TO, `P-Asserted-Identity: <sip:+${BERLIN}@carrier.example>`]));
    expect(verdict).toMatchObject({ action: "block", decidedBy: "cli.format" });
  });

  it("a national number in the home country's context is that number (phone-context=+7)", async () => {
    const verdict = await verdictOf(invite([`From: <tel:727-250-1234;phone-context=+7>;tag=1`, TO]));
    expect(verdict).toMatchObject({ action: "block", decidedBy: "origin.national-on-international", cli: { tn: ALMATY_FIXED } });
  });
});

describe("numbers in the numbering configuration are read as the calls' numbers are", () => {
  // A bank's inbound-only line, listed as Kazakhs write it. Stored as the digits 87272501234 it named
  // +8 727…, a number no call presents, and the bank's number went through a domestic trunk unlisted.
  const DOMESTIC = "?trunk=kt-1&carrier=Kazakhtelecom&international=false";
  it.each([
    ["national format, trunk prefix 8", { exact: "87272501234" }],
    ["a national significant number", { exact: "7272501234" }],
    ["a range in national format", { from: "87272500000", to: "87272509999" }],
  ])("a Do-Not-Originate entry in %s blocks the number it names", async (_, pattern) => {
    const numbering = await getConfigSection(env.DB, "numbering", "KZ");
    await putConfigSection(env.DB, "numbering", { ...numbering.document, doNotOriginate: [pattern] }, numbering.version, TEST_ACTOR, Date.now(), "KZ");
    const verdict = await verdictOf(invite([`From: <sip:+${ALMATY_FIXED}@carrier.example;user=phone>;tag=1`, TO]), DOMESTIC);
    expect(verdict).toMatchObject({ action: "block", decidedBy: "cli.dno" });
  });

  it("a number that is a valid international number stays that number (+49 30 123456, not +7 493…)", async () => {
    const numbering = await getConfigSection(env.DB, "numbering", "KZ");
    await putConfigSection(env.DB, "numbering", { ...numbering.document, doNotOriginate: [{ exact: "4930123456" }] }, numbering.version, TEST_ACTOR, Date.now(), "KZ");
    const verdict = await verdictOf(invite([`From: <sip:+4930123456@carrier.example>;tag=1`, TO]), DOMESTIC);
    expect(verdict).toMatchObject({ action: "block", decidedBy: "cli.dno" });
  });
});

describe("digits of other scripts are the digits they are (libphonenumber reads them so)", () => {
  // What the grammar decodes from a percent-encoded user part: a phone, an ISUP interworking or any
  // libphonenumber reads +７７２７… as +7727…. Unread, the number was none, and behind a foreign
  // P-Asserted-Identity nobody judged it.
  const spelt = (zero: number) => [...`+${ALMATY_FIXED}`].map((character) => (character === "+" ? "+" : encodeURIComponent(String.fromCharCode(zero + Number(character))))).join("");
  it.each([
    ["full-width", 0xff10],
    ["Arabic-Indic", 0x0660],
    ["Eastern Arabic-Indic", 0x06f0],
  ])("%s digits in From behind a foreign P-Asserted-Identity are judged as the Almaty landline", async (_, zero) => {
    const verdict = await verdictOf(invite([`From: <sip:${spelt(zero)}@carrier.example;user=phone>;tag=1`, TO, `P-Asserted-Identity: <sip:+${BERLIN}@carrier.example>`]));
    expect(verdict).toMatchObject({ action: "block", decidedBy: "origin.national-on-international" });
  });

  it("full-width digits as the caller ID are the Almaty landline", async () => {
    const verdict = await verdictOf(invite([`From: <sip:${spelt(0xff10)}@carrier.example>;tag=1`, TO]));
    expect(verdict).toMatchObject({ action: "block", decidedBy: "origin.national-on-international", cli: { tn: ALMATY_FIXED } });
  });
});

describe("a global number (+…) that is no telephone number is no caller ID to vouch for", () => {
  // A phone matches a caller to its contacts on the digits, skipping what is not dialable: +77272501234a
  // is shown as the bank. Read as no number at all, such a From was not judged behind a foreign P-Asserted-Identity.
  it.each([
    ["a trailing letter", `+${ALMATY_FIXED}a`],
    ["more than 15 digits", `+${ALMATY_FIXED}56789`],
    ["a letter inside", `+7727250l234`],
  ])("From with %s behind a foreign P-Asserted-Identity is blocked as unreadable", async (_, user) => {
    const verdict = await verdictOf(invite([`From: <sip:${user}@carrier.example;user=phone>;tag=1`, TO, `P-Asserted-Identity: <sip:+${BERLIN}@carrier.example>`]));
    expect(verdict).toMatchObject({ action: "block", decidedBy: "cli.format", cli: { source: "from", tn: null } });
  });

  it("a SIP user name that is no number still leaves the caller ID to P-Asserted-Identity", async () => {
    const verdict = await verdictOf(invite([`From: "Anonymous" <sip:anonymous@anonymous.invalid>;tag=1`, TO, `P-Asserted-Identity: <sip:+${BERLIN}@carrier.example>`]));
    expect(verdict).toMatchObject({ action: "allow", cli: { source: "pai", tn: BERLIN } });
  });
});

describe("the JSON call reads a bare number as the INVITE reads its address", () => {
  async function jsonVerdictOf(body: object) {
    const context = createExecutionContext();
    const ingress = { trunk: "intl-1", carrier: "TransitCo", international: true };
    const response = await freshApp().request("/v1/verdict", { method: "POST", headers: { ...sbcAuth, "Content-Type": "application/json" }, body: JSON.stringify({ to: "+77012345678", ingress, ...body }) }, env, context);
    await waitOnExecutionContext(context);
    expect(response.status).toBe(200);
    return ((await response.json()) as { verdict: any }).verdict;
  }

  it.each([`+${ALMATY_FIXED}a`, "4940545;phone-context=+7701"])("from %j beside a foreign pai is no caller ID to vouch for", async (from) => {
    const verdict = await jsonVerdictOf({ from, pai: `+${BERLIN}` });
    expect(verdict).toMatchObject({ action: "block", decidedBy: "cli.format", cli: { source: "from" } });
  });

  it("a bare number with visual separators, or a name, reads as before", async () => {
    expect(await jsonVerdictOf({ from: "8 (727) 250-12-34" })).toMatchObject({ action: "block", decidedBy: "origin.national-on-international", cli: { tn: ALMATY_FIXED } });
    expect(await jsonVerdictOf({ from: "anonymous", pai: `+${BERLIN}` })).toMatchObject({ action: "allow", cli: { source: "pai", tn: BERLIN } });
  });
});
