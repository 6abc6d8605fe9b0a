import { parsePhoneNumberFromString } from "libphonenumber-js/max";
import { describe, expect, it } from "vitest";
import { classifyNumber } from "../../../src/numbering/classify";
import { compileHomeNumberingPlan, defaultNumberingOverrides, numberingOverridesSchema, UnsupportedHomeCountryError } from "../../../src/numbering/home-plan";

const kazakhstan = compileHomeNumberingPlan("KZ", defaultNumberingOverrides("KZ"));

describe("Kazakhstan under +7: decided by the zone code (spec digest §2)", () => {
  it.each([
    ["77272501234", { country: "KZ", home: true, type: "fixed", assigned: true, typeSource: "metadata" }],
    ["77172123456", { country: "KZ", home: true, type: "fixed", assigned: true }],
    ["77012345678", { country: "KZ", home: true, type: "mobile", assigned: true }],
    ["77771234567", { country: "KZ", home: true, type: "mobile", assigned: true }],
    ["77511234567", { country: "KZ", home: true, type: "voip", assigned: true, typeSource: "metadata" }],
    // libphonenumber-js 1.13 leaves 750 unassigned; the digest reports it VoIP: filled by the default override.
    ["77501234567", { country: "KZ", home: true, type: "voip", assigned: true, typeSource: "operator-override" }],
    // The 6xx zone is Kazakh, but the metadata assigns +7 6… to nobody.
    ["76001234567", { country: "KZ", home: true, type: "unknown", assigned: false }],
    ["74951234567", { country: "RU", home: false, type: "fixed", assigned: true }],
    ["79161234567", { country: "RU", home: false, type: "mobile", assigned: true }],
  ])("+%s", (tn, expected) => {
    expect(classifyNumber(tn, kazakhstan)).toEqual({ facts: expect.objectContaining({ tn, ...expected }) });
  });
  it.each([
    ["112", "emergency"],
    ["7112", "emergency"],
    ["103", "emergency"],
    ["1414", "short-code"],
  ])("%s is a %s", (tn, type) => {
    expect(classifyNumber(tn, kazakhstan)).toEqual({ facts: expect.objectContaining({ type, home: true }) });
  });
  it.each([
    ["7727250123", "wrong-length"],
    ["999123456789", "unknown-country-code"],
    ["1234567890123456", "too-long"],
    ["7727*501234", "non-digit"],
  ])("%s has a format problem: %s", (tn, problem) => {
    expect(classifyNumber(tn, kazakhstan)).toEqual({ problem });
  });
});

describe("one type lookup decides validity", () => {
  it("matches libphonenumber's isValid() on numbers across country codes and lengths", () => {
    // classifyNumber reads `assigned` off getType() (isValid() is getType() !== undefined when the
    // metadata has per-type patterns, as "max" does for every country); this pins that equivalence.
    let seed = 7;
    const random = () => (seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647;
    const prefixes = ["7", "1", "44", "49", "33", "86", "91", "998", "996", "992", "380", "90", "971", "234", "55"];
    let disagreements = 0;
    let valid = 0;
    for (let index = 0; index < 6_000; index++) {
      const prefix = prefixes[index % prefixes.length]!;
      const length = 8 + Math.floor(random() * 7);
      const digits = prefix + Array.from({ length: length - prefix.length }, () => Math.floor(random() * 10)).join("");
      const parsed = parsePhoneNumberFromString(`+${digits}`);
      if (!parsed) continue;
      if (parsed.isValid() !== (parsed.getType() !== undefined)) disagreements++;
      if (parsed.isValid()) valid++;
    }
    expect(disagreements).toBe(0);
    expect(valid).toBeGreaterThan(300); // the sample covers valid numbers, not only invalid ones
  });
});

describe("the edges of a caller ID's length", () => {
  it("reads 6 digits as a short code and 7 as a number to look up", () => {
    expect(classifyNumber("101010", kazakhstan)).toEqual({ facts: expect.objectContaining({ type: "short-code", home: true, assigned: true, typeSource: "short-code-table" }) });
    expect(classifyNumber("1010101", kazakhstan)).not.toHaveProperty("facts.typeSource", "short-code-table");
  });

  it("looks a number of 15 digits up, and refuses 16 as too long", () => {
    expect(classifyNumber("999123456789012", kazakhstan)).toEqual({ problem: "unknown-country-code" });
    expect(classifyNumber("7712345678901234", kazakhstan)).toEqual({ problem: "too-long" });
  });
});

describe("the operator's home ranges and type overrides", () => {
  const withOverrides = (overrides: Record<string, unknown>) => compileHomeNumberingPlan("KZ", numberingOverridesSchema.parse(overrides));

  it("places a number of a country code the metadata does not know in the home country when a home range lists it", () => {
    const plan = withOverrides({ homeRanges: [{ prefix: "999" }] });
    expect(classifyNumber("999123456789", plan)).toEqual({ facts: { tn: "999123456789", country: "KZ", home: true, type: "unknown", assigned: false, typeSource: "metadata" } });
  });

  it("takes the type of the most specific override: a longer prefix's over a shorter one's", () => {
    const plan = withOverrides({ typeOverrides: [{ pattern: { prefix: "7727250" }, type: "premium" }, { pattern: { prefix: "7727" }, type: "voip" }] });
    expect(classifyNumber("77272501234", plan)).toEqual({ facts: expect.objectContaining({ type: "premium", typeSource: "operator-override", assigned: true }) });
    expect(classifyNumber("77271234567", plan)).toEqual({ facts: expect.objectContaining({ type: "voip", typeSource: "operator-override" }) });
  });
});

describe("the home plan of a country", () => {
  it("has no metadata gaps to fill outside Kazakhstan", () => {
    expect(defaultNumberingOverrides("DE")).toEqual(numberingOverridesSchema.parse({}));
  });

  it("refuses a country libphonenumber does not know, with its code", () => {
    expect(() => compileHomeNumberingPlan("XX", defaultNumberingOverrides("XX"))).toThrow(UnsupportedHomeCountryError);
    expect(() => compileHomeNumberingPlan("XX", defaultNumberingOverrides("XX"))).toThrow("home country 'XX' is not a country libphonenumber knows");
  });
});
