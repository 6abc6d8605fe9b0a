import "reflect-metadata";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { describeAddressProblem, MAX_PARSED_LINE_CHARS, readAddress, readAddressByGrammar, readAssertedIdentities, readCommonAddress, type AddressSource } from "../../../src/sip/address";
import { fuzzRuns, fuzzTimeoutMs, mutationOf } from "../fuzz/mutations";

const addressOf = (value: string, source: AddressSource = "From") => {
  const reading = readAddress(value, source);
  return "address" in reading ? reading.address : reading.problem;
};

describe("an address is what sip.js's grammar reads in the value", () => {
  it.each([
    ['"Bank" <sip:+77272501234@gw.example;user=phone>;tag=abc', { scheme: "sip", user: "+77272501234", name: "Bank" }],
    ["sip:87272501234@gw.example;tag=1", { scheme: "sip", user: "87272501234" }],
    ["<sips:+77272501234@gw.example>", { scheme: "sips", user: "+77272501234" }],
    ["<SIP:+77272501234@GW.example>", { scheme: "sip", user: "+77272501234" }],
    // The grammar decodes the user part (RFC 3261 §19.1.2) and keeps a telephone-subscriber's parameters in it (RFC 4694).
    ["<sip:%2B77272501234@gw.example>", { scheme: "sip", user: "+77272501234" }],
    ["<sip:+77272501234;npdi;rn=+77270000000@gw.example;user=phone>", { scheme: "sip", user: "+77272501234;npdi;rn=+77270000000" }],
    ["<sip:gw.example>", { scheme: "sip", user: null }],
    // sip.js keeps userinfo's password in the user; it is no part of the user (RFC 3261 §19.1.1).
    ["<sip:+77272501234:secret@gw.example>;tag=1", { scheme: "sip", user: "+77272501234" }],
    ["<sip:+77272501234%3Asecret@gw.example>", { scheme: "sip", user: "+77272501234" }],
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

/**
 * The display name is what the callee may be shown beside the number (src/verdict/caller-name.ts): read
 * as the text a phone shows, so the verdict names what the peer presented.
 */
describe("the display name, read as the callee would be shown it (RFC 3261 §20.10, §25.1)", () => {
  it.each([
    ['"Halyk Bank" <sip:+4930123456789@gw.example>;tag=1', "Halyk Bank"],
    // Tokens before `<`, with the white space between them, are a display name too.
    ["Halyk  Bank <sip:+4930123456789@gw.example>;tag=1", "Halyk  Bank"],
    // Quoted pairs undone: what is shown is the character, not its escape.
    ['"Halyk \\"Bank\\" \\\\ 1" <sip:+4930123456789@gw.example>', 'Halyk "Bank" \\ 1'],
    ['"  Halyk Bank " <tel:+4930123456789>', "Halyk Bank"],
    ['"Халық Банк" <sip:+4930123456789@gw.example>', "Халық Банк"],
    ['"Bank" <tel:+7-727-250-1234;phone-context=+7>', "Bank"],
  ])("%s", (value, name) => {
    expect(addressOf(value)).toMatchObject({ name });
  });

  it.each([['"" <sip:+4930123456789@gw.example>'], ['"   " <sip:+4930123456789@gw.example>'], ["<sip:+4930123456789@gw.example>"], ["sip:+4930123456789@gw.example"]])(
    "%s has none",
    (value) => {
      expect(addressOf(value)).not.toHaveProperty("name");
    },
  );

  it("of every P-Asserted-Identity identity, each its own", () => {
    const identities = readAssertedIdentities('"Bank, Almaty" <sip:+77272501234@gw.example>, <tel:+77272501234>');
    expect(identities.map((identity) => ("address" in identity ? identity.address.name : identity.problem))).toEqual(["Bank, Almaty", undefined]);
  });
});

describe("tel URIs, which sip.js's grammar does not know, are read through it as RFC 3261 §19.1.6 maps them", () => {
  it.each([
    ["<tel:+77272501234>;tag=1", "+77272501234"],
    // Its parameters go in the user part, as a telephone-subscriber's do in a user=phone SIP URI (RFC 3261 §19.1.6).
    ["<tel:+7-727-250-1234;phone-context=+7>", "+7-727-250-1234;phone-context=+7"],
    ["<tel:4940545;phone-context=+7701>;tag=1", "4940545;phone-context=+7701"],
    ["Bank Co < tel:+77272501234 >", "unparseable"],
    ["tel:+77272501234;tag=1", "+77272501234"],
    ["TEL:+77272501234", "+77272501234"],
    ["<tel:+77272501234;verstat=TN-Validation-Passed>", "+77272501234;verstat=TN-Validation-Passed"],
    ["<tel:>", "unparseable"],
    ["<tel:+7727 2501234>", "unparseable"],
  ])("%s", (value, user) => {
    const address = addressOf(value);
    expect(address).toEqual(user === "unparseable" ? user : { scheme: "tel", user });
  });

  // A Request-URI is a URI, not a header value: it has no header parameters (RFC 3261 §20.10 is about
  // headers), so every parameter after a tel number is the tel URI's, and phone-context places the number.
  it.each([
    ["tel:4940545;phone-context=+7701", "4940545;phone-context=+7701"],
    ["tel:5550000;phone-context=operator.example", "5550000;phone-context=operator.example"],
    ["tel:+77012345678;isub=1", "+77012345678;isub=1"],
    ["tel:+77012345678", "+77012345678"],
  ])("a Request-URI %s keeps its parameters", (value, user) => {
    expect(addressOf(value, "Request-URI")).toEqual({ scheme: "tel", user });
  });
});

describe("P-Asserted-Identity: the first identity presents the caller (RFC 3325 §9.1)", () => {
  it.each([
    ["<sip:+77272501234@carrier.example;user=phone>, <tel:+77272501234>", { scheme: "sip", user: "+77272501234" }],
    ["<tel:+77272501234>, <sip:+4930123456789@carrier.example>", { scheme: "tel", user: "+77272501234" }],
    ["tel:+77272501234, <sip:+4930123456789@carrier.example>", { scheme: "tel", user: "+77272501234" }],
    ['"x>, <sip:+4930123456789@x>" <sip:+77272501234@c.example> , <tel:+4930123456789>', { scheme: "sip", user: "+77272501234", name: "x>, <sip:+4930123456789@x>" }],
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

describe("the bound and the list, at their edges", () => {
  /** `address` padded with URI-free header parameters to exactly `length` characters. */
  const padded = (address: string, length: number) => `${address};p=${"1".repeat(length - address.length - 3)}`;

  it(`reads a value of exactly ${MAX_PARSED_LINE_CHARS} characters, From or P-Asserted-Identity`, () => {
    const value = padded("<sip:+77272501234@gw.example>", MAX_PARSED_LINE_CHARS);
    expect(value).toHaveLength(MAX_PARSED_LINE_CHARS);
    expect(readAddress(value, "From")).toMatchObject({ address: { user: "+77272501234" } });
    expect(readAssertedIdentities(value)).toMatchObject([{ address: { user: "+77272501234" } }]);
    expect(readAssertedIdentities(`${value}1`)).toEqual([{ raw: `${value}1`, problem: "too-long" }]);
  });

  it("reads at most one identity more than RFC 3325 allows", () => {
    const identities = readAssertedIdentities("<tel:+4930123456789>, <sip:+4930123456789@gw.example>, <tel:+77272501234>, <tel:+77019999999>");
    expect(identities.map((identity) => ("address" in identity ? identity.address.user : identity.problem))).toEqual(["+4930123456789", "+4930123456789", "+77272501234"]);
  });

  it("an empty element after the last comma is no identity", () => {
    expect(readAssertedIdentities("<tel:+77272501234>, ")).toEqual([{ raw: "<tel:+77272501234>", address: { scheme: "tel", user: "+77272501234" } }]);
  });

  it("keeps each identity as written, without the white space around it", () => {
    expect(readAssertedIdentities(" <sip:+77272501234@gw.example> ")).toEqual([{ raw: "<sip:+77272501234@gw.example>", address: { scheme: "sip", user: "+77272501234" } }]);
    expect(readAssertedIdentities("<sip:+77272501234;npdi@gw.example> , <tel:+4930123456789>").map(({ raw }) => raw)).toEqual(["<sip:+77272501234;npdi@gw.example>", "<tel:+4930123456789>"]);
    // A tel URI rewritten as a SIP one lengthens the text: the list is still cut at the value's own comma.
    expect(readAssertedIdentities("<tel:+7-727-250-1234>,<sip:+4930123456789@gw.example>").map(({ raw }) => raw)).toEqual(["<tel:+7-727-250-1234>", "<sip:+4930123456789@gw.example>"]);
  });

  it("only a comma ends an identity: other text after one leaves the list unparseable", () => {
    for (const value of ["<sip:+77272501234@gw.example> <sip:+4930123456789@x.example>", "<sip:+77272501234;npdi@gw.example>;x=1 <sip:+4930123456789@x.example>", "<tel:+7-727-250-1234> <tel:+4930123456789>"]) {
      expect(readAssertedIdentities(value), value).toEqual([{ raw: value, problem: "unparseable" }]);
    }
  });

  it.each(["<tel:;phone-context=+7>", '"Bank" <tel:;phone-context=+7>', "tel:;phone-context=+7", "<tel:,>"])("a tel URI without a number (%s) is unparseable", (value) => {
    expect(readAddress(value, "From")).toEqual({ raw: value, problem: "unparseable" });
    expect(readAddress(value, "Request-URI")).toEqual({ raw: value, problem: "unparseable" });
  });

  it("names each problem and where it was found", () => {
    expect(describeAddressProblem("From", "repeated")).toBe("more than one From header");
    expect(describeAddressProblem("P-Asserted-Identity", "too-long")).toBe(`P-Asserted-Identity longer than ${MAX_PARSED_LINE_CHARS} characters`);
    expect(describeAddressProblem("Request-URI", "unparseable")).toBe("Request-URI unparseable");
  });
});

describe("the common shapes are read without the grammar, as the grammar reads them", () => {
  const SOURCES: AddressSource[] = ["From", "To", "P-Asserted-Identity", "Request-URI"];

  it.each([
    ["<sip:+77015000001@transit.example;user=phone>;tag=1", { scheme: "sip", user: "+77015000001" }],
    ["sip:+77015000001@operator.example", { scheme: "sip", user: "+77015000001" }],
    ['"Bank" <sips:+77272501234@gw.example;transport=tls;lr>;tag=a-1', { scheme: "sips", user: "+77272501234", name: "Bank" }],
    ["<tel:+77272501234>;tag=1", { scheme: "tel", user: "+77272501234" }],
    ["tel:87272501234", { scheme: "tel", user: "87272501234" }],
  ])("%s", (value, address) => {
    expect(readCommonAddress(value)).toEqual(address);
    for (const source of SOURCES) expect(readAddressByGrammar(value, source)).toEqual({ raw: value, address });
  });

  it.each([
    ["<sip:+7701@1.2.3.4>", "an IP address as the host"],
    ["<sip:+7701@1.2.3.4.example>", "a host label starting with a digit (the grammar may take it for an IPv4 address)"],
    ["<sip:%2B7701@gw.example>", "an escaped user part"],
    ["<SIP:+7701@gw.example>", "an upper-case scheme"],
    ["<sip:+7701@gw.example:5060>", "a port"],
    ["<sip:+7701@gw.example;ttl=1234>", "any other URI parameter"],
    ["<sip:+7701;npdi@gw.example>", "parameters in the user part"],
    ["<tel:+7-701>", "a tel number with visual separators"],
    ["<tel:+7701;phone-context=+7>", "a tel URI parameter"],
    ["<sip:+7701@gw.example>, <tel:+7701>", "a list"],
    ['"a\\"b" <sip:+7701@gw.example>', "an escape in the display name"],
  ])("%s goes to the grammar: %s", (value) => {
    expect(readCommonAddress(value)).toBeNull();
  });

  /** One part of an address: mostly what the common shapes allow, now and then a near miss. */
  const part = (common: string[], nearMisses: string[]) => fc.oneof({ arbitrary: fc.constantFrom(...common), weight: 12 }, { arbitrary: fc.constantFrom(...nearMisses), weight: 1 });
  const repeated = (arbitrary: fc.Arbitrary<string>, minLength: number, maxLength: number, separator = "") => fc.array(arbitrary, { minLength, maxLength }).map((parts) => parts.join(separator));
  const nearCommon = fc
    .tuple(
      part(["", '"Bank" ', '"Bank"', '"a-b. c" ', '"" '], ["Bank ", '"x\\"y" ', '"a\\" ', '"<sip:+1@x>" ', '"Bank" sip:+1@x ']),
      part(["<", ""], ["< ", " <", "<<"]),
      part(["sip:", "sips:", "tel:"], ["SIP:", "TEL:", "sipx:", "", "sip", "tel:sip:"]),
      repeated(part(["+", "7", "0", "1", "a", "Z", ".", "-"], ["%2B", ";", ":", "_", "!", " ", "#", "@", ",", ""]), 1, 8),
      part(["@"], ["", "@@", ":pw@"]),
      repeated(part(["gw", "example", "a-b", "x1", "localhost"], ["1", "2", "-a", "a-", "1x", "_a", "", "[::1]"]), 1, 4, "."),
      part([""], [":5060", ":", ".", ":99999"]),
      repeated(part([";user=phone", ";user=ip", ";transport=udp", ";transport=tls", ";lr"], [";user=phonex", ";transport=UDP", ";lr=1", ";ttl=1234", ";maddr=x", ";x", ";", "?h=1"]), 0, 3),
      part([">", ""], [" >", ">>", "> "]),
      part(["", ";tag=1", ";tag=a.b-c"], [";tag=", ";x=y", ", <tel:+1>", " ", ";tag=1;tag=2", ";TAG=1"]),
    )
    .map((parts) => parts.join(""));
  const nearCommonTel = fc
    .tuple(
      part(["", '"Bank" ', '"" '], ["Bank ", '"a\\" ']),
      part(["<", ""], ["< ", " <"]),
      part(["tel:"], ["TEL:", "tel", "tel:tel:"]),
      repeated(part(["+", "7", "0", "1"], ["", "-", ".", "(", " ", "a", "%2B", "#"]), 1, 8),
      part([""], [";phone-context=+7", ";ext=1", ";isub=1", ";", "@x"]),
      part([">", ""], [" >", ">>"]),
      part(["", ";tag=1"], [";tag=", ";x=y", ", <tel:+1>"]),
    )
    .map((parts) => parts.join(""));
  const values = fc.oneof({ arbitrary: nearCommon, weight: 3 }, { arbitrary: nearCommonTel, weight: 1 }, { arbitrary: fc.oneof(nearCommon, nearCommonTel).chain(mutationOf), weight: 1 });
  const runs = fuzzRuns(20_000);

  it(
    "a value the common reading accepts is the same address for the grammar, whichever header it came in",
    () => {
      let accepted = 0;
      fc.assert(
        fc.property(values, (value) => {
          const common = readCommonAddress(value);
          if (common === null) return;
          accepted++;
          for (const source of SOURCES) expect(readAddressByGrammar(value, source)).toEqual({ raw: value, address: common });
        }),
        { numRuns: runs },
      );
      // The property must have compared something: the generator is built around the common shapes.
      expect(accepted).toBeGreaterThan(runs / 100);
    },
    fuzzTimeoutMs(runs),
  );

  it("readAddress gives the common reading where there is one, the grammar's elsewhere", () => {
    fc.assert(
      fc.property(values, (value) => {
        if (value.length > MAX_PARSED_LINE_CHARS) return;
        const common = readCommonAddress(value);
        expect(readAddress(value, "From")).toEqual(common === null ? readAddressByGrammar(value, "From") : { raw: value, address: common });
      }),
      { numRuns: 500 },
    );
  });
});
