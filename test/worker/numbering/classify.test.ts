import { parsePhoneNumberFromString } from "libphonenumber-js/max";
import { describe, expect, it } from "vitest";
import { classifyNumber } from "../../../src/numbering/classify";
import { compileHomeNumberingPlan, defaultNumberingOverrides } from "../../../src/numbering/home-plan";

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
