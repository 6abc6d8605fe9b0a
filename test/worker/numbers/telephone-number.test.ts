import { describe, expect, it } from "vitest";
import { canonicalizeTn, canonicalizeTnPreferringE164, diallingPlanFor, nationalReadingOfPrefix, telephoneNumberDigits } from "../../../src/numbers/telephone-number";

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
    // Full-width and Arabic-Indic digits, as libphonenumber reads them.
    ["+７ ７２７ ２５０ １２ ３４", "77272501234"],
    ["٨ ٧٢٧ ٢٥٠ ١٢ ٣٤", "77272501234"],
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

  it("follows the configured home country", () => {
    expect(canonicalizeTn("6468131424", diallingPlanFor("US"))).toBe("16468131424");
    expect(() => diallingPlanFor("XX")).toThrow(/HOME_COUNTRY 'XX'/);
  });
});

describe("telephone-number canonicalization: the edges", () => {
  it("reads a global number of ten digits as the international number it is, white space around it or not", () => {
    // Ten digits are a Kazakh national significant number's length: only the `+` says this is +49 30 123456.
    expect(canonicalizeTn("+4930123456", kz)).toBe("4930123456");
    expect(canonicalizeTn(" +4930123456 ", kz)).toBe("4930123456");
  });

  it("reads the full-width plus sign as a plus, as libphonenumber does", () => {
    expect(canonicalizeTn("＋4930123456", kz)).toBe("4930123456");
    expect(canonicalizeTn("＋７ ７２７ ２５０ １２ ３４", kz)).toBe("77272501234");
  });

  it("reads the punctuation libphonenumber reads inside a number as separators, in a call's number only", () => {
    for (const spelled of ["8‐727‐250‐12‐34", "8\u200B727\u200B2501234", "8\u00AD727 2501234", "（727）2501234", "+7−727−250−12−34", "8／727／2501234", "8～727～2501234", "+7 [727] 2501234"]) {
      expect(canonicalizeTn(spelled, kz), spelled).toBe("77272501234");
    }
    // Letters still make it no number, and a PASSporT's claim keeps RFC 8224's separators only.
    expect(canonicalizeTn("8‐727‐250‐12‐34a", kz)).toBeNull();
    expect(telephoneNumberDigits("7‐727‐250‐12‐34")).toBeNull();
  });

  it("takes 15 digits, the most E.164 allows, and no more", () => {
    expect(canonicalizeTn("+123456789012345", kz)).toBe("123456789012345");
    expect(telephoneNumberDigits("+123456789012345")).toBe("123456789012345");
    expect(telephoneNumberDigits("+1234567890123456")).toBeNull();
  });

  it.each(["x77272501234", "tel 77272501234", "()", "+-", " . "])("%s, text before the digits or no digit at all, is no number", (value) => {
    expect(canonicalizeTn(value, kz)).toBeNull();
    expect(telephoneNumberDigits(value)).toBeNull();
  });

  it("reads a claim's digits with visual separators, never in the home plan", () => {
    expect(telephoneNumberDigits(" +7 727 250-12-34 ")).toBe("77272501234");
    expect(telephoneNumberDigits("87272501234")).toBe("87272501234");
    expect(telephoneNumberDigits("alice")).toBeNull();
  });

  it.each([
    // 810 then 7 digits is too short for an international number: a national number that starts 810.
    ["810 1234567", "78101234567"],
    ["810 12345678", "12345678"],
    // Eleven digits that do not start with the trunk prefix are not a national number with one.
    ["49301234567", "49301234567"],
    // The trunk prefix before digits of no national number's length is not taken off.
    ["8 123", "8123"],
    ["8101", "8101"],
  ])("national format: %s → %s", (value, canonical) => {
    expect(canonicalizeTn(value, kz)).toBe(canonical);
  });
});

describe("the national reading of a number's leading digits (nationalReadingOfPrefix)", () => {
  it.each([
    ["KZ", "8727", "7727"],
    ["KZ", "81049", "49"],
    // 810 alone is no international prefix followed by anything: the trunk prefix 8, then 10.
    ["KZ", "810", "710"],
    ["KZ", "8727810", "7727810"],
    ["KZ", "7727", null],
    ["KZ", "4938", null],
    // The US trunk prefix 1 begins the country code itself: `1 212` is +1 212 either way.
    ["US", "1212", null],
    ["DE", "0301", "49301"],
    // Egypt's country code 20 ends with its trunk prefix 0, and does not start with it.
    ["EG", "0100", "20100"],
  ])("%s: %s → %s", (country, digits, reading) => {
    expect(nationalReadingOfPrefix(digits, diallingPlanFor(country))).toBe(reading);
  });

  it("is null in a plan without a trunk prefix", () => {
    expect(nationalReadingOfPrefix("8727", { ...kz, nationalPrefix: null })).toBeNull();
  });
});
