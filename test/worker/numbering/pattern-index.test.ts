import { describe, expect, it } from "vitest";
import type { NumberPattern } from "../../../src/numbering/number-pattern";
import { buildPatternIndex } from "../../../src/numbering/pattern-index";

const indexOf = (patterns: Record<string, NumberPattern>) => buildPatternIndex(Object.entries(patterns).map(([value, pattern]) => ({ pattern, value })));

describe("a prefix covers every number under it, whatever else the index holds", () => {
  it("matches a number that runs past the prefix, with no longer entry under it", () => {
    const index = indexOf({ almaty: { prefix: "7727" } });
    expect(index.matching("77271234567")).toEqual(["almaty"]);
    expect(index.matching("77171234567")).toEqual([]);
  });

  it("matches at every depth along the number: shorter prefixes first, then the exact number", () => {
    const index = indexOf({
      exact: { exact: "77272501234" },
      kazakhstan: { prefix: "7" },
      almaty: { prefix: "7727" },
      block: { prefix: "7727250" },
      longer: { prefix: "772725012345" },
      elsewhere: { prefix: "7717" },
    });
    expect(index.matching("77272501234")).toEqual(["kazakhstan", "almaty", "block", "exact"]);
    expect(index.matching("77272509999")).toEqual(["kazakhstan", "almaty", "block"]);
  });

  it("a prefix as long as the number covers it", () => {
    expect(indexOf({ whole: { prefix: "77272501234" } }).matching("77272501234")).toEqual(["whole"]);
  });
});

describe("ranges cover numbers of their own length only", () => {
  it("finds every covering range, nested and overlapping, and none of another length", () => {
    const index = indexOf({
      wide: { from: "77000000000", to: "77999999999" },
      almaty: { from: "77270000000", to: "77279999999" },
      block: { from: "77272500000", to: "77272509999" },
      shorter: { from: "7727000000", to: "7727999999" },
    });
    expect(index.matching("77272501234").sort()).toEqual(["almaty", "block", "wide"]);
    expect(index.matching("77272510000").sort()).toEqual(["almaty", "wide"]);
    expect(index.matching("77272500000").sort()).toEqual(["almaty", "block", "wide"]);
    expect(index.matching("77272509999").sort()).toEqual(["almaty", "block", "wide"]);
  });
});

describe("operator scale: no recursion or argument spread over the entries", () => {
  it("200 000 entries under one prefix build and match (a spread push overflowed the stack here)", () => {
    const index = buildPatternIndex(Array.from({ length: 200_000 }, (_, value) => ({ pattern: { prefix: "7727" }, value })));
    const found = index.matching("77272501234");
    expect(found).toHaveLength(200_000);
    expect(found[199_999]).toBe(199_999);
  });

  it("200 000 entries on one exact number", () => {
    const index = buildPatternIndex(Array.from({ length: 200_000 }, (_, value) => ({ pattern: { exact: "77272501234" }, value })));
    expect(index.matching("77272501234")).toHaveLength(200_000);
  });

  it("200 000 ranges, each nested in the next, build and match", () => {
    const ranges = Array.from({ length: 200_000 }, (_, value) => ({ pattern: { from: String(77_272_500_000 - value), to: String(77_272_500_000 + value) }, value }));
    const index = buildPatternIndex(ranges);
    expect(index.matching("77272500000")).toHaveLength(200_000);
    expect(index.matching("77272600000")).toHaveLength(100_000);
  });
});
