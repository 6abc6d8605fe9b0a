import "reflect-metadata";
import { describe, expect, it } from "vitest";
import type { NormalizedCall } from "../../../src/call/call";
import { calledNumber, calledNumbers, callFromInvite, callFromJson, ingressFromQuery, otherPresentedCallers, RequestFieldError } from "../../../src/call/normalize";
import { unreadablePartChecks } from "../../../src/call/reading-checks";
import { diallingPlanFor } from "../../../src/numbers/telephone-number";
import { parseInvite } from "../../../src/sip/invite";

/**
 * Which number a call presents (src/call/normalize.ts), pure: the first trust decision of every verdict.
 * The worker tests (test/worker/security/{caller-id-smuggling,presented-numbers,number-spellings}.test.ts)
 * judge the same through `/v1/verdict`; these run in Node, so the mutation runs' unit pass judges them.
 */
const plan = diallingPlanFor("KZ");
const ALMATY = "77272501234";
const BERLIN = "4930123456789";
const INGRESS = { trunk: "intl-9" };
const json = (members: Record<string, unknown>) => callFromJson({ ingress: INGRESS, ...members }, plan);
const fromOf = (from: string) => json({ from }).from;

function invite(headers: string[], { ruri = "sip:+77012345678@operator.example", end = "Content-Length: 0\r\n\r\n" } = {}): string {
  return [`INVITE ${ruri} SIP/2.0`, "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-1", ...headers, "Call-ID: a@b", "CSeq: 1 INVITE", end].join("\r\n");
}
const fromInvite = (headers: string[], options?: Parameters<typeof invite>[1]) => callFromInvite(parseInvite(invite(headers, options)), { trunk: "intl-9", carrier: null, international: true }, plan);

describe("the number an address presents", () => {
  it.each([
    ["<tel:+77272501234>", ALMATY],
    ["<sip:+7-727-250-12-34@gw.example;user=phone>", ALMATY],
    ["<sip:87272501234@gw.example>", ALMATY],
    // A global number with a phone-context is global: the context places nothing.
    ["<tel:+77272501234;phone-context=+49>", ALMATY],
    // A local number in the home country's context is read in the home dialling plan, however the parameter is spelt.
    ["<tel:727-250-1234;phone-context=+7>", ALMATY],
    ["<tel:7272501234;PHONE-CONTEXT=+7>", ALMATY],
    ["<tel:7272501234;isub=1;phone-context=+7>", ALMATY],
    ["<sip:7272501234;phone-context=+7@gw.example;user=phone>", ALMATY],
  ])("%s presents %s", (from, tn) => {
    expect(fromOf(from)).toMatchObject({ tn, unreadable: null });
  });

  it("a bare number's phone-context is read as a tel URI's, white space around it allowed", () => {
    expect(fromOf("7272501234;phone-context= +7 ")).toMatchObject({ tn: ALMATY, unreadable: null });
  });

  it.each([
    ["<tel:4940545;phone-context=+7701>", "another context in the home country"],
    ["<tel:4940545;phone-context=+49>", "a foreign country's context"],
    ["<tel:4940545;phone-context=kcell.example>", "a domain"],
    ["<tel:7272501234;phone-context=7>", "the home country code without its +"],
    ["<sip:4940545;phone-context=+7701@gw.example;user=phone>", "another context, in a SIP URI"],
  ])("%s, a local number in %s, names no number: unreadable", (from) => {
    expect(fromOf(from)).toMatchObject({ tn: null, unreadable: expect.stringMatching(/^From holds a local number whose phone-context is not the home country's/) });
  });

  // libphonenumber (PLUS_CHARS) reads the full-width plus sign as `+`, as it reads full-width digits: a phone
  // shows `＋77272501234` as the bank's number, so the verifier must judge that number, not pass over it.
  it.each([["<sip:%EF%BC%8B77272501234@gw.example>;tag=1"], ["＋7 727 250 12 34"], ["＋７７２７２５０１２３４"]])("%s, a full-width plus, presents the number it spells, judged beside P-Asserted-Identity", (from) => {
    const call = json({ from, pai: `<sip:+${BERLIN}@gw.example>` });
    expect(call.from).toMatchObject({ tn: ALMATY, unreadable: null });
    expect(otherPresentedCallers(call).map(({ party, presentedIn }) => [presentedIn, party.tn])).toEqual([["From", ALMATY]]);
  });

  it("a full-width plus before what is no telephone number is a global number that is no number: unreadable", () => {
    expect(fromOf("<sip:%EF%BC%8B77272501234a@gw.example>")).toMatchObject({ tn: null, unreadable: expect.stringMatching(/^From holds a global number/) });
  });

  it("a tel URI without a number is an unreadable From, the caller ID whatever P-Asserted-Identity holds", () => {
    // Rewritten as `sip:;phone-context=+7@tel.invalid`, the grammar would read it as a local number naming nothing.
    const call = json({ from: "<tel:;phone-context=+7>", pai: `<sip:+${BERLIN}@gw.example>` });
    expect(call).toMatchObject({ from: { tn: null, unreadable: "From unparseable" }, cliSource: "from", cli: { unreadable: "From unparseable" } });
  });

  it.each([["<sip:+77272501234a@gw.example>"], ["<tel:+7727250123456789>"], ["+77272501234a"]])("%s, a global number that is no telephone number, is unreadable", (from) => {
    expect(fromOf(from)).toMatchObject({ tn: null, unreadable: expect.stringMatching(/^From holds a global number \(\+…\) that is no telephone number/) });
  });

  it.each([["<sip:anonymous@anonymous.invalid>"], ["<sip:gw.example>"], ["alice"]])("%s names no number, and is no problem", (from) => {
    expect(fromOf(from)).toMatchObject({ tn: null, unreadable: null });
  });

  it("keeps the value as written and the display name, and has no name when none was written", () => {
    expect(fromOf(' "Bank" <sip:+77272501234@gw.example>;tag=1 ')).toEqual({ raw: '"Bank" <sip:+77272501234@gw.example>;tag=1', tn: ALMATY, unreadable: null, name: "Bank" });
    const unnamed = fromOf("<sip:+77272501234@gw.example>;tag=1");
    expect(unnamed).not.toHaveProperty("name");
    expect(unnamed).toEqual({ raw: "<sip:+77272501234@gw.example>;tag=1", tn: ALMATY, unreadable: null });
  });

  it("a JSON value with a scheme or an angle bracket is an address; anything else a number", () => {
    // As a number, "sip" and "@" would make it no number; as an address it presents the user part.
    expect(fromOf("sip:+77272501234@gw.example")).toMatchObject({ tn: ALMATY });
    expect(fromOf("<+77272501234>")).toMatchObject({ tn: null, unreadable: "From unparseable" });
    expect(fromOf("+7 727 250 12 34")).toEqual({ raw: "+7 727 250 12 34", tn: ALMATY, unreadable: null });
    expect(json({ from: "  ", to: "", ruri: null })).toMatchObject({ from: null, to: null, ruri: null, cli: null, cliSource: null });
  });
});

describe("P-Asserted-Identity: the caller ID, and the other number it presents", () => {
  it("the first identity presenting a number is the caller ID; another number beside it is kept", () => {
    const call = json({ pai: `<sip:anonymous@gw.example>, <tel:+${ALMATY}>` });
    expect(call).toMatchObject({ pai: { tn: ALMATY }, paiOther: null, cli: { tn: ALMATY }, cliSource: "pai" });
    const two = json({ pai: `<sip:+${BERLIN}@gw.example>, <tel:+${ALMATY}>` });
    expect(two).toMatchObject({ pai: { tn: BERLIN }, paiOther: { tn: ALMATY, raw: `<tel:+${ALMATY}>` }, cliSource: "pai" });
  });

  it("two identities of one number present no other", () => {
    expect(json({ pai: `<sip:+${ALMATY}@gw.example>, <tel:+${ALMATY}>` })).toMatchObject({ pai: { tn: ALMATY }, paiOther: null });
  });

  it("identities naming no number: the first is P-Asserted-Identity, and From is the caller ID", () => {
    const call = json({ from: `<sip:+${BERLIN}@gw.example>`, pai: "<sip:alice@gw.example>, <sip:bob@gw.example>" });
    expect(call).toMatchObject({ pai: { raw: "<sip:alice@gw.example>", tn: null }, paiOther: null, cli: { tn: BERLIN }, cliSource: "from" });
  });

  it("a bare number is one identity", () => {
    expect(json({ pai: ` +${ALMATY} ` })).toMatchObject({ pai: { raw: `+${ALMATY}`, tn: ALMATY }, paiOther: null, cliSource: "pai" });
    expect(json({ pai: "  " })).toMatchObject({ pai: null, paiOther: null });
  });

  it("more identities than RFC 3325 allows: unreadable, all of them named", () => {
    const call = json({ pai: `<tel:+${BERLIN}>, <sip:+${BERLIN}@gw.example>, <tel:+${ALMATY}>` });
    expect(call.pai).toEqual({ raw: `<tel:+${BERLIN}>, <sip:+${BERLIN}@gw.example>, <tel:+${ALMATY}>`, tn: null, unreadable: "P-Asserted-Identity lists more than 2 identities (RFC 3325 §9.1: one, or a SIP or SIPS URI and a tel URI)" });
    expect(call).toMatchObject({ paiOther: null, cliSource: "pai" });
  });

  it("an unreadable second identity leaves the whole header unreadable, whatever the first presents", () => {
    const call = json({ from: `<sip:+${BERLIN}@gw.example>`, pai: `<sip:+${BERLIN}@gw.example>, <tel:4940545;phone-context=+7701>` });
    expect(call).toMatchObject({ pai: { tn: null, unreadable: expect.stringMatching(/^P-Asserted-Identity holds a local number/) }, paiOther: null, cli: { tn: null }, cliSource: "pai" });
  });
});

describe("the caller ID's source", () => {
  const FROM = `<sip:+${BERLIN}@gw.example>`;
  it.each([
    ["an unreadable P-Asserted-Identity, over an unreadable From", { from: "<<", pai: "<<" }, "pai", "P-Asserted-Identity unparseable"],
    ["an unreadable From, over a P-Asserted-Identity presenting a number", { from: "<<", pai: `<tel:+${ALMATY}>` }, "from", "From unparseable"],
    ["an unreadable P-Asserted-Identity, over a From presenting a number", { from: FROM, pai: "<<" }, "pai", "P-Asserted-Identity unparseable"],
    ["a P-Asserted-Identity presenting a number, over From", { from: FROM, pai: `<tel:+${ALMATY}>` }, "pai", null],
    ["From, over a P-Asserted-Identity naming no number", { from: FROM, pai: "<sip:alice@gw.example>" }, "from", null],
    ["a P-Asserted-Identity naming no number, without From", { pai: "<sip:alice@gw.example>" }, "pai", null],
    ["From naming no number, without P-Asserted-Identity", { from: "<sip:alice@gw.example>" }, "from", null],
  ])("%s", (_case, members, source, unreadable) => {
    const call = json(members);
    expect(call.cliSource).toBe(source);
    expect(call.cli).toBe(call[source as "from" | "pai"]);
    expect(call.cli?.unreadable).toBe(unreadable);
  });
});

describe("the JSON request's other members", () => {
  it("identity as a string or a list, the Date as a SIP date or epoch seconds, the Call-ID trimmed, the privacy read", () => {
    expect(json({ identity: "a.b.c;info=<x>", date: "Tue, 23 Jun 2020 17:14:30 GMT", callId: " x@y ", privacy: "id; user" })).toMatchObject({ identity: ["a.b.c;info=<x>"], date: 1592932470, callId: "x@y", privacy: ["id", "user"] });
    expect(json({ identity: ["a", "b"], date: 1592932470.0, callId: "  " })).toMatchObject({ identity: ["a", "b"], date: 1592932470, callId: null, privacy: [] });
    expect(json({ date: "Tue, 23 Jun 2020 17:14:30.999 GMT" }).date).toBe(1592932470);
    expect(json({ date: "yesterday" }).date).toBe("unreadable");
    expect(json({})).toMatchObject({ identity: [], date: null, callId: null, privacy: [], ingress: { trunk: "intl-9", carrier: null, international: null } });
  });

  it("refuses an unknown member first, naming it and what is accepted", () => {
    const error = (() => {
      try {
        callFromJson({ form: "x", date: -1, ingress: INGRESS }, plan);
      } catch (caught) {
        return caught;
      }
    })() as RequestFieldError;
    expect(error).toBeInstanceOf(RequestFieldError);
    expect(error.field).toBe("form");
    expect(error.message).toBe("form: unknown name; expected one of identity, from, pai, to, ruri, date, privacy, callId, ingress");
  });

  it("names the field of any other error, the body when it is no object, the ingress member by its path", () => {
    expect(() => json({ date: -1 })).toThrow("date: must be epoch seconds (a non-negative integer)");
    expect(() => json({ date: true })).toThrow("date: must be a SIP Date string or epoch seconds");
    expect(() => callFromJson([], plan)).toThrow(new RequestFieldError("body", "must be a JSON object"));
    expect(() => json({ ingress: { trunk: "t", carier: "x" } })).toThrow("ingress.carier: unknown name; expected one of trunk, carrier, international");
    expect(() => json({ ingress: { trunk: 1 } })).toThrow("ingress.trunk: must be a string");
  });

  it("refuses a call that says nothing of where it came in, and takes any one of the three", () => {
    for (const ingress of [undefined, null, {}, { trunk: null, carrier: null, international: null }]) {
      expect(() => callFromJson({ ingress }, plan), JSON.stringify(ingress)).toThrow("ingress: say where the call came in");
    }
    expect(callFromJson({ ingress: { carrier: "C" } }, plan).ingress).toEqual({ trunk: null, carrier: "C", international: null });
    expect(callFromJson({ ingress: { international: false } }, plan).ingress).toEqual({ trunk: null, carrier: null, international: false });
  });
});

describe("the ingress of a raw INVITE, from the query", () => {
  it("reads international as true or false; anything else is refused", () => {
    expect(ingressFromQuery({ international: "true" })).toEqual({ trunk: null, carrier: null, international: true });
    expect(ingressFromQuery({ international: "false", trunk: "t" })).toEqual({ trunk: "t", carrier: null, international: false });
    expect(() => ingressFromQuery({ international: "yes" })).toThrow("international: must be true or false");
    expect(() => ingressFromQuery({ trunk: "t", port: "1" })).toThrow("port: unknown name; expected one of trunk, carrier, international");
    expect(() => ingressFromQuery({})).toThrow("ingress: say where the call came in");
  });
});

describe("a raw INVITE", () => {
  it("reads every part, and a From given twice is unreadable", () => {
    const call = fromInvite([`From: "Bank" <sip:+${BERLIN}@gw.example>;tag=1`, "To: <sip:+77012345678@operator.example>", `P-Asserted-Identity: <tel:+${ALMATY}>`, "Date: Tue, 23 Jun 2020 17:14:30 GMT", "Privacy: id"]);
    expect(call).toMatchObject({ from: { tn: BERLIN, name: "Bank" }, pai: { tn: ALMATY }, to: { tn: "77012345678" }, ruri: { tn: "77012345678" }, cliSource: "pai", callId: "a@b", date: 1592932470, privacy: ["id"] });
    expect(fromInvite([`From: <sip:+${BERLIN}@gw.example>;tag=1`, `f: <sip:+${ALMATY}@gw.example>;tag=2`]).from).toEqual({ raw: `<sip:+${BERLIN}@gw.example>;tag=1`, tn: null, unreadable: "more than one From header" });
    expect(fromInvite([`From: <sip:+${BERLIN}@gw.example>;tag=1`])).toMatchObject({ date: null, to: null, pai: null });
    expect(fromInvite([`From: <sip:+${BERLIN}@gw.example>;tag=1`, "Date: never"]).date).toBe("unreadable");
  });

  it("without From, the caller ID is unreadable, whatever P-Asserted-Identity holds", () => {
    const call = fromInvite([`P-Asserted-Identity: <tel:+${BERLIN}>`]);
    expect(call).toMatchObject({ from: { raw: "", tn: null, unreadable: "the INVITE has no From header (RFC 3261 §8.1.1.3)" }, cliSource: "from" });
  });

  it("cut short, the caller ID is unreadable, naming the cut, and keeps what From was read", () => {
    const call = fromInvite([`From: <sip:+${BERLIN}@gw.example>;tag=1`, `P-Asserted-Identity: <tel:+${BERLIN}>`], { end: "Content-Length: 10\r\n\r\nv=0" });
    expect(call).toMatchObject({ from: { raw: `<sip:+${BERLIN}@gw.example>;tag=1`, tn: null, unreadable: expect.stringMatching(/^the INVITE's body is 3 bytes where its Content-Length says 10/) }, cliSource: "from" });
    expect(fromInvite([], { end: "Content-Length: 10\r\n\r\nv=0" }).from).toMatchObject({ raw: "", unreadable: expect.stringMatching(/cut short$/) });
  });
});

describe("the called number", () => {
  const call = (ruri: string | null, to: string | null) => json({ ruri, to });
  it("is the Request-URI's, else To's, else none; an unreadable Request-URI gives none", () => {
    expect(calledNumber(call("sip:+77012345678@operator.example", "<sip:+77019999999@operator.example>"))).toBe("77012345678");
    expect(calledNumber(call("sip:operator.example", "<sip:+77019999999@operator.example>"))).toBe("77019999999");
    expect(calledNumber(call(null, "<sip:+77019999999@operator.example>"))).toBe("77019999999");
    expect(calledNumber(call("sip:alice@operator.example", "<sip:bob@operator.example>"))).toBeNull();
    expect(calledNumber(call("<<", "<sip:+77019999999@operator.example>"))).toBeNull();
    expect(calledNumbers(call("<<", "<sip:+77019999999@operator.example>"))).toEqual([]);
    expect(calledNumbers(call(null, "<sip:+77019999999@operator.example>"))).toEqual(["77019999999"]);
    // Without To, a Request-URI naming no number leaves the call with none (not a TypeError: a 500 is no verdict).
    expect(calledNumber(call("sip:operator.example", null))).toBeNull();
    expect(calledNumbers(call("sip:operator.example", null))).toEqual([]);
  });
});

describe("the numbers a call presents besides its caller ID", () => {
  const others = (members: Record<string, string>) => otherPresentedCallers(json(members)).map(({ party, presentedIn }) => [presentedIn, party.tn]);
  it("From's and P-Asserted-Identity's other identity's, each when it is another number", () => {
    expect(others({ from: `+${ALMATY}`, pai: `<tel:+${BERLIN}>` })).toEqual([["From", ALMATY]]);
    expect(others({ from: `+${BERLIN}`, pai: `<tel:+${BERLIN}>, <sip:+${ALMATY}@gw.example>` })).toEqual([["P-Asserted-Identity", ALMATY]]);
    expect(others({ from: "+442071234567", pai: `<tel:+${BERLIN}>, <sip:+${ALMATY}@gw.example>` })).toEqual([
      ["From", "442071234567"],
      ["P-Asserted-Identity", ALMATY],
    ]);
  });

  it("none when From is the caller ID, and none twice: a number From presents already is not presented again", () => {
    expect(others({ from: `+${ALMATY}`, pai: "<sip:alice@gw.example>, <sip:bob@gw.example>" })).toEqual([]);
    expect(others({ from: `+${ALMATY}`, pai: `<tel:+${BERLIN}>, <sip:+${ALMATY}@gw.example>` })).toEqual([["From", ALMATY]]);
    expect(others({ from: "alice", pai: `<tel:+${BERLIN}>` })).toEqual([]);
    expect(others({ pai: `<tel:+${BERLIN}>` })).toEqual([]);
  });

  it("a JSON call without From: P-Asserted-Identity's other number alone", () => {
    expect(others({ pai: `<tel:+${BERLIN}>, <sip:+${ALMATY}@gw.example>` })).toEqual([["P-Asserted-Identity", ALMATY]]);
  });

  it("none when the caller ID is From's, even an unreadable From beside a P-Asserted-Identity of two numbers", () => {
    const call = json({ from: "<<", pai: `<tel:+${BERLIN}>, <sip:+${ALMATY}@gw.example>` });
    expect(call).toMatchObject({ cliSource: "from", paiOther: { tn: ALMATY } });
    expect(otherPresentedCallers(call)).toEqual([]);
  });

  it("keeps the party whole, its number a string", () => {
    const [other] = otherPresentedCallers(json({ from: `"Bank" <sip:+${ALMATY}@gw.example>`, pai: `<tel:+${BERLIN}>` }));
    expect(other).toEqual({ party: { raw: `"Bank" <sip:+${ALMATY}@gw.example>`, tn: ALMATY, unreadable: null, name: "Bank" }, presentedIn: "From" });
  });
});

describe("the parts the verifier could not read, as failed checks (src/call/reading-checks.ts)", () => {
  it("From, P-Asserted-Identity and To each their own check, and a Date that is no date; the Request-URI's is the origin stage's", () => {
    const call: NormalizedCall = json({ from: "<<", pai: "<<", to: "<<", ruri: "<<", date: "never" });
    expect(unreadablePartChecks(call).map(({ id, result, detail }) => [id, result, detail])).toEqual([
      ["sip.from", "fail", "From unparseable"],
      ["sip.pai", "fail", "P-Asserted-Identity unparseable"],
      ["sip.to", "fail", "To unparseable"],
      ["sip.date", "fail", "the Date header is not a date (RFC 3261 §20.17)"],
    ]);
    expect(unreadablePartChecks(json({ from: `<sip:+${ALMATY}@gw.example>`, to: "+77012345678", date: 1 }))).toEqual([]);
  });

  it("repeats at most 256 characters of what was presented", () => {
    const from = `<${"x".repeat(300)}`;
    const [check] = unreadablePartChecks(json({ from }));
    expect(check).toMatchObject({ id: "sip.from", evidence: { presented: from.slice(0, 256) } });
  });
});
