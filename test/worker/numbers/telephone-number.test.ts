import { describe, expect, it } from "vitest";
import { canonicalizeTn, canonicalizeTnPreferringE164, diallingPlanFor } from "../../../src/numbers/telephone-number";

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
