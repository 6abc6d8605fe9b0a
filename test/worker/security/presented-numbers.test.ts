import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../../src/app";
import { systemClock } from "../../../src/lib/clock";
import { getConfigSection, putConfigSection } from "../../../src/origin/config/store";
import { createSnapshotCache } from "../../../src/origin/snapshot";
import { createRule } from "../../../src/rules/store";
import type { RuleInput } from "../../../src/rules/rule";
import { sbcAuth, TEST_ACTOR } from "../support/auth";

/**
 * Every number the INVITE presents is the one judged: a core (or ISUP interworking) may show the
 * callee From as well as P-Asserted-Identity, the SBC routes on the Request-URI whatever To says, and
 * an SBC that hands the verifier a C string stops at the first NUL byte while it forwards the whole
 * message. Each case was a way past the verdict (a review of examples/kamailio's flow, 2026-12-07).
 */
const INTERNATIONAL = "?trunk=intl-1&carrier=TransitCo&international=true";
const ALMATY_FIXED = "77272501234"; // +7 727: a Kazakh landline, which no international trunk carries
const BERLIN = "4930123456789";
const TO = "To: <sip:+77012345678@operator.example>";

const freshApp = () => createApp({ sharedCache: null, snapshots: createSnapshotCache({ homeCountry: "KZ", clock: systemClock, refreshIntervalMs: 0 }) });

function invite(headers: string[], ruri = "sip:+77012345678@operator.example;user=phone"): string {
  return [`INVITE ${ruri} SIP/2.0`, "Via: SIP/2.0/UDP 198.51.100.20:5060;branch=z9hG4bK776asdhds", "Max-Forwards: 70", ...headers, "Call-ID: a84b4c76e66710@carrier.example", "CSeq: 1 INVITE", "Content-Length: 0", "", ""].join("\r\n");
}

async function verdictOf(app: ReturnType<typeof createApp>, text: string, bindings: object = env) {
  const context = createExecutionContext();
  const response = await app.request(`/v1/verdict${INTERNATIONAL}`, { method: "POST", headers: { ...sbcAuth, "Content-Type": "message/sip" }, body: text }, bindings, context);
  await waitOnExecutionContext(context);
  expect(response.status).toBe(200);
  return ((await response.json()) as { verdict: any }).verdict;
}

const checkOf = (verdict: { checks: { id: string }[] }, id: string) => verdict.checks.find((check) => check.id === id) as any;
const addRule = (input: Partial<RuleInput>) => createRule(env.DB, { action: "block", reason: "review", ...input } as RuleInput, { actor: "analyst", author: null }, Date.now());

describe("From presenting another number than P-Asserted-Identity is judged too", () => {
  it("a Kazakh landline in From behind a foreign P-Asserted-Identity is blocked, From's check saying so", async () => {
    const verdict = await verdictOf(freshApp(), invite([`From: <sip:+${ALMATY_FIXED}@carrier.example;user=phone>;tag=1`, TO, `P-Asserted-Identity: <sip:+${BERLIN}@carrier.example>`]));
    expect(verdict).toMatchObject({ action: "block", decidedBy: "origin.national-on-international", cli: { tn: BERLIN, source: "pai" } });
    expect(checkOf(verdict, "origin.national-on-international")).toMatchObject({ result: "fail", detail: expect.stringMatching(/^From: /), evidence: { presentedIn: "From" } });
  });

  it("the same numbers in both, or a foreign From, change nothing", async () => {
    const app = freshApp();
    const same = await verdictOf(app, invite([`From: <sip:+${BERLIN}@carrier.example>;tag=1`, TO, `P-Asserted-Identity: <tel:+${BERLIN}>`]));
    expect(same).toMatchObject({ action: "allow", decidedBy: null });
    expect(checkOf(same, "origin.national-on-international").evidence?.presentedIn).toBeUndefined();
    const foreign = await verdictOf(app, invite([`From: <sip:+442071234567@carrier.example>;tag=1`, TO, `P-Asserted-Identity: <tel:+${BERLIN}>`]));
    expect(foreign).toMatchObject({ action: "allow", decidedBy: null });
  });
});

/**
 * The caller ID headers of a call whose caller ID is `cli` (P-Asserted-Identity) and which presents
 * `other` too: in From, or as P-Asserted-Identity's second identity (RFC 3325 §9.1 allows a SIP and a
 * tel one; the far end may present either).
 */
const PRESENTING = {
  From: (cli: string, other: string, tag: number) => [`From: <sip:+${other}@carrier.example>;tag=${tag}`, `P-Asserted-Identity: <tel:+${cli}>`],
  "P-Asserted-Identity": (cli: string, other: string, tag: number) => [`From: <sip:+${cli}@carrier.example>;tag=${tag}`, `P-Asserted-Identity: <sip:+${cli}@carrier.example;user=phone>, <tel:+${other}>`],
};

describe.each(Object.entries(PRESENTING))("another number presented in %s is judged too", (presentedIn, presenting) => {
  it("an operator rule and a Do-Not-Originate entry on it block, the checks naming where it was presented", async () => {
    const bank = presentedIn === "From" ? "77172590000" : "77172590001";
    await addRule({ criteria: { cli: { exact: bank } } } as Partial<RuleInput>);
    const numbering = await getConfigSection(env.DB, "numbering", "KZ");
    await putConfigSection(env.DB, "numbering", { ...numbering.document, doNotOriginate: [{ exact: bank }] }, numbering.version, TEST_ACTOR, Date.now(), "KZ");
    const verdict = await verdictOf(freshApp(), invite([...presenting(BERLIN, bank, 1), TO]));
    expect(verdict).toMatchObject({ action: "block", cli: { tn: BERLIN, source: "pai" } });
    expect(checkOf(verdict, "cli.dno")).toMatchObject({ result: "fail", evidence: { presentedIn } });
    expect(checkOf(verdict, "rules.operator")).toMatchObject({ result: "fail", evidence: { presentedIn } });
  });

  it("calls-per-cli counts it: a constant one behind a rotating caller ID reaches its limit", async () => {
    const bindings = { ...env, VELOCITY_CALLS_PER_CLI: "2/60:block", VELOCITY_CLIS_PER_TRUNK: "off", VELOCITY_DESTINATIONS_PER_CLI: "off" };
    const app = freshApp();
    const verdicts = [];
    for (let n = 0; n < 6; n++) verdicts.push(await verdictOf(app, invite([...presenting(`493012345670${n}`, "442071230000", n), TO]), bindings));
    expect(verdicts.at(-1)).toMatchObject({ action: "block", decidedBy: "velocity.calls-per-cli" });
  });
});

describe("the destination is the number the call is routed to: the Request-URI's", () => {
  it("a destination rule on the Request-URI's number blocks whatever To says", async () => {
    const victim = "77015550101";
    await addRule({ criteria: { destination: { exact: victim } } } as Partial<RuleInput>);
    const from = `From: <sip:+${BERLIN}@carrier.example>;tag=1`;
    const verdict = await verdictOf(freshApp(), invite([from, "To: <sip:+77019999999@operator.example>"], `sip:+${victim}@operator.example;user=phone`));
    expect(verdict).toMatchObject({ action: "block", decidedBy: "rules.operator" });
  });

  it("destinations-per-cli counts Request-URIs, not the To a caller repeats", async () => {
    const bindings = { ...env, VELOCITY_CALLS_PER_CLI: "off", VELOCITY_CLIS_PER_TRUNK: "off", VELOCITY_DESTINATIONS_PER_CLI: "2/300:block" };
    const app = freshApp();
    const from = `From: <sip:+4930123450001@carrier.example>;tag=1`;
    const verdicts = [];
    for (let n = 0; n < 6; n++) verdicts.push(await verdictOf(app, invite([from, "To: <sip:+77019999999@operator.example>"], `sip:+7701555020${n}@operator.example`), bindings));
    expect(verdicts.at(-1)).toMatchObject({ action: "block", decidedBy: "velocity.destinations-per-cli" });
  });
});

describe("an INVITE cut short, or without From, has no caller ID to vouch for", () => {
  // What examples/kamailio's http_client posted for a peer's "…\r\nP-Asserted-Identity: <sip:+49…>\r\nX-Pad: \0\r\nFrom: <sip:+7727…>…":
  // the message up to the NUL byte, while the core received all of it.
  const cutAtNul = `INVITE sip:+77012345678@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.3:5099;branch=z9hG4bKnul\r\nMax-Forwards: 69\r\nP-Asserted-Identity: <sip:+${BERLIN}@c.example>\r\nX-Pad: `;

  it("a message that ends inside its header section is blocked: its From is unreadable", async () => {
    const verdict = await verdictOf(freshApp(), cutAtNul);
    expect(verdict).toMatchObject({ action: "block", decidedBy: "cli.format", cli: { source: "from", tn: null } });
    expect(checkOf(verdict, "sip.from")).toMatchObject({ result: "fail", detail: expect.stringContaining("cut short") });
  });

  it("a body shorter than its Content-Length is blocked the same way", async () => {
    const whole = invite([`From: <sip:+${BERLIN}@carrier.example>;tag=1`, TO]).replace("Content-Length: 0", "Content-Length: 120");
    const verdict = await verdictOf(freshApp(), `${whole}v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n`);
    expect(verdict).toMatchObject({ action: "block", decidedBy: "cli.format" });
    expect(checkOf(verdict, "sip.from").detail).toMatch(/body is 31 bytes where its Content-Length says 120/);
  });

  it("an INVITE without From is blocked, not judged on its P-Asserted-Identity", async () => {
    const verdict = await verdictOf(freshApp(), invite([`P-Asserted-Identity: <tel:+${BERLIN}>`, TO]));
    expect(verdict).toMatchObject({ action: "block", decidedBy: "cli.format", cli: { source: "from", tn: null } });
    expect(checkOf(verdict, "sip.from").detail).toMatch(/no From header/);
  });
});
