import { describe, expect, it } from "vitest";
import { callPartyFrom, canonicalizeTn, canonicalizeTnPreferringE164, diallingPlanFor } from "../../../src/numbers/telephone-number";

const kz = diallingPlanFor("KZ");

describe("telephone-number canonicalization (RFC 8224 §8.3)", () => {
  it("derives Kazakhstan's dialling plan from libphonenumber", () => {
    expect(kz).toMatchObject({ countryCode: "7", nationalPrefix: "8", internationalPrefix: "810" });
  });

  it.each([
    ["+7 727 250-12-34", "77272501234"],
    ["+7 (727) 250.12.34", "77272501234"],
    ["77272501234", "77272501234"],
    ["8 727 250 12 34", "77272501234"],
    ["7272501234", "77272501234"],
    ["810 49 30 1234567", "49301234567"],
    // 17 digits as dialled, 14 once the international prefix is taken off.
    ["810 49 30 1234567890", "49301234567890"],
    ["+1 215-555-1234", "12155551234"],
    ["*123#", "*123#"],
  ])("%s → %s", (value, canonical) => {
    expect(canonicalizeTn(value, kz)).toBe(canonical);
  });

  it.each(["", "alice", "+", "+1234567890123456", "12ab"])("%s is not a telephone number", (value) => {
    expect(canonicalizeTn(value, kz)).toBeNull();
  });

  it.each([
    ["4930123456", "4930123456"],
    ["84912345678", "84912345678"],
    ["49301234567890", "49301234567890"],
    ["87272501234", "77272501234"],
    ["7272501234", "77272501234"],
    ["810 49 30 1234567", "49301234567"],
    ["+7 727 250-12-34", "77272501234"],
  ])("a request's canonical TN %s is read as E.164 first, in national format only when it is no international number → %s", (value, canonical) => {
    expect(canonicalizeTnPreferringE164(value, kz)).toBe(canonical);
  });

  it("reads numbers out of header values and URIs", () => {
    expect(callPartyFrom('"Bank" <sip:+77272501234@gw.example;user=phone>;tag=abc', kz)).toMatchObject({ tn: "77272501234", uri: "sip:+77272501234@gw.example;user=phone" });
    expect(callPartyFrom("<tel:+7-727-250-1234;phone-context=x>", kz).tn).toBe("77272501234");
    expect(callPartyFrom("sip:87272501234@gw.example", kz).tn).toBe("77272501234");
    expect(callPartyFrom("sip:%2B77272501234@gw.example", kz).tn).toBe("77272501234");
    expect(callPartyFrom("<sip:alice@example.com>", kz)).toMatchObject({ tn: null, uri: "sip:alice@example.com" });
    expect(callPartyFrom("+77272501234", kz)).toMatchObject({ tn: "77272501234", uri: null });
  });

  it("never takes the address from inside a quoted display name (RFC 3261 §25.1)", () => {
    // The display name is the caller's text: a URI written there must not become the CLI the checks judge.
    expect(callPartyFrom('"<sip:+4930123456789@x>" <sip:+77272501234@gw.example>;tag=1', kz)).toMatchObject({ tn: "77272501234", uri: "sip:+77272501234@gw.example" });
    expect(callPartyFrom('"a \\"<tel:+4930123456789>\\" b" <tel:+77272501234>', kz)).toMatchObject({ tn: "77272501234", uri: "tel:+77272501234" });
    expect(callPartyFrom('  "x;y,z" <sip:+77272501234@gw.example>', kz).tn).toBe("77272501234");
    expect(callPartyFrom('Bank <sip:+77272501234@gw.example>', kz).tn).toBe("77272501234");
    // A quoted display name that never closes, or one followed by no <URI>, is no address at all.
    expect(callPartyFrom('"<sip:+4930123456789@x> <sip:+77272501234@gw.example>', kz)).toMatchObject({ tn: null, uri: null });
    expect(callPartyFrom('"Bank" sip:+77272501234@gw.example', kz)).toMatchObject({ tn: null, uri: null });
  });

  it("follows the configured home country", () => {
    expect(canonicalizeTn("6468131424", diallingPlanFor("US"))).toBe("16468131424");
    expect(() => diallingPlanFor("XX")).toThrow(/HOME_COUNTRY 'XX'/);
  });
});
