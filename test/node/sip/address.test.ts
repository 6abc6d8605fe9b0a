import "reflect-metadata";
import { describe, expect, it } from "vitest";
import { MAX_PARSED_LINE_CHARS, readAddress, type AddressSource } from "../../../src/sip/address";

const addressOf = (value: string, source: AddressSource = "From") => {
  const reading = readAddress(value, source);
  return "address" in reading ? reading.address : reading.problem;
};

describe("an address is what sip.js's grammar reads in the value", () => {
  it.each([
    ['"Bank" <sip:+77272501234@gw.example;user=phone>;tag=abc', { scheme: "sip", user: "+77272501234" }],
    ["sip:87272501234@gw.example;tag=1", { scheme: "sip", user: "87272501234" }],
    ["<sips:+77272501234@gw.example>", { scheme: "sips", user: "+77272501234" }],
    ["<SIP:+77272501234@GW.example>", { scheme: "sip", user: "+77272501234" }],
    // The grammar decodes the user part (RFC 3261 §19.1.2) and keeps a telephone-subscriber's parameters in it (RFC 4694).
    ["<sip:%2B77272501234@gw.example>", { scheme: "sip", user: "+77272501234" }],
    ["<sip:+77272501234;npdi;rn=+77270000000@gw.example;user=phone>", { scheme: "sip", user: "+77272501234;npdi;rn=+77270000000" }],
    ["<sip:gw.example>", { scheme: "sip", user: null }],
  ])("%s", (value, address) => {
    expect(addressOf(value)).toEqual(address);
  });

  it("keeps the value as the peer sent it", () => {
    expect(readAddress("<sip:+77272501234@gw.example>;tag=1", "To")).toEqual({ raw: "<sip:+77272501234@gw.example>;tag=1", address: { scheme: "sip", user: "+77272501234" } });
  });
});

describe("a display name is never the address (RFC 3261 §25.1)", () => {
  // The display name is the caller's text: a URI written there must not become the CLI the checks judge.
  it.each([
    ['"<sip:+4930123456789@x>" <sip:+77272501234@gw.example>;tag=1', "+77272501234"],
    ['"a \\"<tel:+4930123456789>\\" b" <tel:+77272501234>', "+77272501234"],
    ['"x;y,z" <sip:+77272501234@gw.example>', "+77272501234"],
    ["Bank <sip:+77272501234@gw.example>", "+77272501234"],
    ['"x>, <sip:+4930123456789@x>" <sip:+77272501234@c.example>', "+77272501234"],
  ])("%s", (value, user) => {
    expect(addressOf(value)).toMatchObject({ user });
  });

  it.each([
    ['"<sip:+4930123456789@x> <sip:+77272501234@gw.example>', "a quoted display name that never closes"],
    ['"Bank" sip:+77272501234@gw.example', "a quoted display name followed by no <URI>"],
    ["<sip:+77272501234@gw.example", "a URI whose bracket never closes"],
    ['"x" tel:+4930123456789 <sip:+77272501234@gw.example>', "a tel URI where a display name ends"],
  ])("%s is no address: %s", (value) => {
    expect(addressOf(value)).toBe("unparseable");
  });
});

describe("tel URIs, which sip.js's grammar does not know, are read through it as RFC 3261 §19.1.6 maps them", () => {
  it.each([
    ["<tel:+77272501234>;tag=1", "+77272501234"],
    ['"Bank" <tel:+7-727-250-1234;phone-context=+7>', "+7-727-250-1234"],
    ["Bank Co < tel:+77272501234 >", "unparseable"],
    ["tel:+77272501234;tag=1", "+77272501234"],
    ["TEL:+77272501234", "+77272501234"],
    ["<tel:+77272501234;verstat=TN-Validation-Passed>", "+77272501234"],
    ["<tel:>", "unparseable"],
    ["<tel:+7727 2501234>", "unparseable"],
  ])("%s", (value, user) => {
    const address = addressOf(value);
    expect(address).toEqual(user === "unparseable" ? user : { scheme: "tel", user });
  });
});

describe("P-Asserted-Identity: the first identity presents the caller (RFC 3325 §9.1)", () => {
  it.each([
    ["<sip:+77272501234@carrier.example;user=phone>, <tel:+77272501234>", { scheme: "sip", user: "+77272501234" }],
    ["<tel:+77272501234>, <sip:+4930123456789@carrier.example>", { scheme: "tel", user: "+77272501234" }],
    ["tel:+77272501234, <sip:+4930123456789@carrier.example>", { scheme: "tel", user: "+77272501234" }],
    ['"x>, <sip:+4930123456789@x>" <sip:+77272501234@c.example> , <tel:+4930123456789>', { scheme: "sip", user: "+77272501234" }],
    ["sip:+77272501234@carrier.example", { scheme: "sip", user: "+77272501234" }],
  ])("%s", (value, address) => {
    expect(addressOf(value, "P-Asserted-Identity")).toEqual(address);
  });

  it("lists only there: a From or To is one address", () => {
    expect(addressOf("<sip:+77272501234@carrier.example>, <tel:+4930123456789>", "From")).toBe("unparseable");
    expect(addressOf("<sip:+77272501234@carrier.example>, <tel:+4930123456789>", "To")).toBe("unparseable");
  });

  it("a first identity the grammar refuses is not skipped for the second", () => {
    expect(addressOf("<sip:+7 727 250 1234@x>, <tel:+77272501234>", "P-Asserted-Identity")).toBe("unparseable");
  });
});

describe("what the grammar refuses is unparseable, where a regular expression read a number", () => {
  // Each of these gave the previous, regular-expression reading a caller ID (77272501234 or 77019999999).
  it.each([
    ["<sip:+7 727 250 1234@gw.example>", "spaces inside the user part"],
    ['"Bank" <sip:+77019999999@c.example>, <sip:+77272501234@c.example>', "two addresses in one From"],
    ["<sip:+77272501234@gw.example>;tag=1 <sip:+4930123456789@x>", "text after the parameters"],
  ])("%s (%s)", (value) => {
    expect(readAddress(value, "From")).toEqual({ raw: value, problem: "unparseable" });
  });
});

describe("the grammar's work is bounded", () => {
  it(`does not parse a value longer than ${MAX_PARSED_LINE_CHARS} characters`, () => {
    const address = "<sip:+77272501234@gw.example>;tag=1";
    const longest = address + ";p=1".repeat(Math.floor((MAX_PARSED_LINE_CHARS - address.length) / 4));
    expect(readAddress(longest, "From")).toMatchObject({ address: { user: "+77272501234" } });
    const value = `${longest};p=1`;
    expect(readAddress(value, "From")).toEqual({ raw: value, problem: "too-long" });
  });
});
