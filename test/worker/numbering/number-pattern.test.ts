import { describe, expect, it } from "vitest";
import { ambiguousPrefixes, describePattern, dialledNumberPatternSchema, numberPatternSchema, patternCovers, patternInPlan, withInternationalPrefixes } from "../../../src/numbering/number-pattern";
import { diallingPlanFor } from "../../../src/numbers/telephone-number";

/** How an analyst's rule pattern (dialledNumberPatternSchema) and a configuration's (numberPatternSchema) are read. */
const KZ = diallingPlanFor("KZ");
const rulePattern = (pattern: unknown) => dialledNumberPatternSchema(KZ).safeParse(pattern);

describe("a rule's prefix is leading digits: '*' is no wildcard", () => {
  // The verdicts and rule hits show a prefix as `7727250*`. Written back so, `+7727250*` was kept as the
  // prefix 7727250* and covered only caller IDs with a literal '*' in them: a rule the analyst saw stored,
  // that matched none of the fraudster's calls.
  it("refuses a prefix written with a trailing '*', naming the prefix that covers what it meant", () => {
    expect(rulePattern({ prefix: "+7727250*" }).error?.issues).toMatchObject([{ message: "'*' and '#' are no wildcards: a prefix covers every number that starts with it; write +7727250" }]);
    expect(rulePattern({ prefix: "+7 727 250 **" }).error?.issues).toMatchObject([{ message: "'*' and '#' are no wildcards: a prefix covers every number that starts with it; write +7727250" }]);
  });

  it("refuses a prefix that is no number, saying what a prefix is", () => {
    expect(rulePattern({ prefix: "Almaty" }).error?.issues).toMatchObject([{ message: "expected the leading 1–15 digits of numbers in international form, e.g. +7 727" }]);
  });

  it("refuses '*' or '#' anywhere in a prefix", () => {
    expect(rulePattern({ prefix: "+77*27" }).error?.issues).toMatchObject([{ message: "'*' and '#' are no wildcards: a prefix is the leading digits of numbers" }]);
    expect(rulePattern({ prefix: "#" }).error?.issues).toMatchObject([{ message: "'*' and '#' are no wildcards: a prefix is the leading digits of numbers" }]);
  });

  it("takes the prefix without it, and an exact number with '*' or '#' (a caller ID may carry them)", () => {
    expect(rulePattern({ prefix: "+7727250" }).data).toEqual({ prefix: "7727250" });
    // Written with '+' after a blank: international digits, with no home reading to refuse.
    expect(rulePattern({ prefix: " +8 727" }).data).toEqual({ prefix: "8727" });
    expect(rulePattern({ exact: "*100#" }).data).toEqual({ exact: "*100#" });
  });
});

describe("a range's ends are numbers of digits", () => {
  // A range is compared as numbers (src/numbering/pattern-index.ts): `7727*` is no number, and such an end
  // made a range the index returned for every number of its length.
  it("refuses a range with '*' or '#' in either end, first or last, naming the end", () => {
    expect(rulePattern({ from: "+77272500000", to: "+7727250999*" }).error?.issues).toMatchObject([{ path: ["to"], message: "a range's ends are numbers of digits only" }]);
    expect(rulePattern({ from: "+77272500000", to: "#7727250999" }).error?.issues).toMatchObject([{ path: ["to"], message: "a range's ends are numbers of digits only" }]);
    expect(rulePattern({ from: "#7727250000", to: "77272509999" }).error?.issues).toMatchObject([{ path: ["from"], message: "a range's ends are numbers of digits only" }]);
    expect(rulePattern({ from: "+7727250000*", to: "+77272509999" }).error?.issues).toMatchObject([{ path: ["from"], message: "a range's ends are numbers of digits only" }]);
  });

  it("takes a range written in national format, read as the verdict reads a caller ID", () => {
    expect(rulePattern({ from: "8 727 250 00 00", to: "+7 727 250 99 99" }).data).toEqual({ from: "77272500000", to: "77272509999" });
  });
});

describe("a pattern is exactly one of exact, prefix, or from+to", () => {
  const configPattern = (pattern: unknown) => numberPatternSchema.safeParse(pattern);

  it("refuses none, or two forms at once", () => {
    for (const pattern of [{}, { exact: "77272501234", prefix: "7727" }, { prefix: "7727", from: "77272500000", to: "77272509999" }, { exact: "77272501234", to: "77272509999" }]) {
      expect(configPattern(pattern).error?.issues).toMatchObject([{ message: "give exactly one of exact, prefix, or from+to" }]);
    }
  });

  it("refuses half a range, naming the end that is missing", () => {
    expect(configPattern({ from: "77272500000" }).error?.issues).toMatchObject([{ path: ["to"], message: "a range needs both from and to" }]);
    expect(configPattern({ to: "77272509999" }).error?.issues).toMatchObject([{ path: ["from"], message: "a range needs both from and to" }]);
  });

  it("refuses a range whose ends differ in length, or run backwards; takes one of a single number", () => {
    expect(configPattern({ from: "7727250000", to: "77272509999" }).error?.issues).toMatchObject([{ path: ["to"], message: "from and to must have the same number of digits" }]);
    expect(configPattern({ from: "77272509999", to: "77272500000" }).error?.issues).toMatchObject([{ path: ["to"], message: "to must not be below from" }]);
    expect(configPattern({ from: "77272501234", to: "77272501234" }).data).toEqual({ from: "77272501234", to: "77272501234" });
  });

  it("reads each form as itself, dropping a leading '+' only", () => {
    expect(configPattern({ exact: " +77272501234 " }).data).toEqual({ exact: "77272501234" });
    expect(configPattern({ prefix: "+7727" }).data).toEqual({ prefix: "7727" });
    expect(configPattern({ from: "+77272500000", to: "77272509999" }).data).toEqual({ from: "77272500000", to: "77272509999" });
    expect(configPattern({ prefix: "77+27" }).error?.issues).toMatchObject([{ path: ["prefix"], message: "expected 1–15 digits, optionally after '+'" }]);
  });
});

describe("what a pattern covers (patternCovers), and how it is shown (describePattern)", () => {
  it("an exact number covers that number only", () => {
    expect(patternCovers({ exact: "77272501234" }, "77272501234")).toBe(true);
    expect(patternCovers({ exact: "77272501234" }, "772725012345")).toBe(false);
  });

  it("a prefix covers the numbers that start with it", () => {
    expect(patternCovers({ prefix: "7727250" }, "77272501234")).toBe(true);
    expect(patternCovers({ prefix: "7727250" }, "77172501234")).toBe(false);
  });

  it("a range covers the numbers of its length between its ends, both ends included", () => {
    const range = { from: "77272500000", to: "77272509999" };
    expect(["77272500000", "77272505000", "77272509999"].map((tn) => patternCovers(range, tn))).toEqual([true, true, true]);
    expect(["77272499999", "77272510000", "7727250500", "772725050000"].map((tn) => patternCovers(range, tn))).toEqual([false, false, false, false]);
  });

  it("is shown as the number, the prefix with '*', or the range's ends", () => {
    expect([{ exact: "77272501234" }, { prefix: "7727250" }, { from: "77272500000", to: "77272509999" }].map(describePattern)).toEqual(["77272501234", "7727250*", "77272500000..77272509999"]);
  });
});

describe("a configured pattern read as the calls' numbers are (patternInPlan)", () => {
  it("reads a number written in national format as the number it names; keeps a valid international one", () => {
    expect(patternInPlan({ exact: "87272501234" }, KZ)).toEqual({ exact: "77272501234" });
    expect(patternInPlan({ exact: "4930123456" }, KZ)).toEqual({ exact: "4930123456" });
  });

  it("keeps a prefix as the international digits it is", () => {
    expect(patternInPlan({ prefix: "8727" }, KZ)).toEqual({ prefix: "8727" });
  });

  it("reads a range's ends in national format as one range", () => {
    expect(patternInPlan({ from: "87272500000", to: "87272509999" }, KZ)).toEqual({ from: "77272500000", to: "77272509999" });
    expect(patternInPlan({ from: "87272501234", to: "87272501234" }, KZ)).toEqual({ from: "77272501234", to: "77272501234" });
  });

  it("keeps a range as written when its ends read as numbers of different lengths, or in the wrong order", () => {
    // 4930123456 is Berlin, kept; 7272500000 is Almaty read nationally, 77272500000.
    expect(patternInPlan({ from: "4930123456", to: "7272500000" }, KZ)).toEqual({ from: "4930123456", to: "7272500000" });
    // 85221234567 is Hong Kong, kept; 87272500000 is Almaty read nationally, 77272500000: read, the ends would run backwards.
    expect(patternInPlan({ from: "85221234567", to: "87272500000" }, KZ)).toEqual({ from: "85221234567", to: "87272500000" });
  });
});

describe("a configuration document's prefixes that may be dialled at home (ambiguousPrefixes)", () => {
  it("names each one by where it is in the document, however deep, with both readings", () => {
    const document = { entries: [{ customer: "Halyk", cli: { prefix: "+7727" } }, { cli: { prefix: "8727" }, note: null, weight: 3 }], ownSubscribers: [{ prefix: "8 800" }], portedOut: [{ exact: "87272501234" }] };
    expect(ambiguousPrefixes(document, KZ)).toEqual([
      { field: "document.entries.1.cli.prefix", message: "may be dialled at home: write +7727 for that, or +8727 for the international prefix" },
      { field: "document.ownSubscribers.0.prefix", message: "may be dialled at home: write +7800 for that, or +8800 for the international prefix" },
    ]);
  });

  it("passes a prefix written with '+', one no one dials at home, and a prefix that is no number or no text (the schema refuses those)", () => {
    expect(ambiguousPrefixes([{ prefix: "+8727" }, { prefix: "7727" }, { prefix: "eight" }, { prefix: 8727 }, { prefix: { prefix: "8727" } }], KZ)).toEqual([
      { field: "document.4.prefix.prefix", message: "may be dialled at home: write +7727 for that, or +8727 for the international prefix" },
    ]);
  });
});

describe("a configuration document as the admin API shows it (withInternationalPrefixes)", () => {
  it("writes each prefix with '+', however deep, and leaves every other value as it is", () => {
    const document = { entries: [{ cli: { prefix: "7727" }, exact: "7701" }, { cli: { prefix: "+7701" } }], weight: 3, note: null, prefix: 7727 };
    expect(withInternationalPrefixes(document)).toEqual({ entries: [{ cli: { prefix: "+7727" }, exact: "7701" }, { cli: { prefix: "+7701" } }], weight: 3, note: null, prefix: 7727 });
    expect(withInternationalPrefixes([{ prefix: "76" }])).toEqual([{ prefix: "+76" }]);
  });
});
