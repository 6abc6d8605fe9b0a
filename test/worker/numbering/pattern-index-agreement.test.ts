import { describe, expect, it } from "vitest";
import { patternCovers } from "../../../src/numbering/number-pattern";
import { buildPatternIndex } from "../../../src/numbering/pattern-index";

/**
 * The index (src/numbering/pattern-index.ts) answers what a scan with patternCovers would: the interval
 * tree only saves the scan. A range it misses is a blocking rule the fraudster's calls pass; one it
 * returns wrongly is an allow-list entry that exempts a number it does not list.
 */
describe("the index finds exactly the patterns that cover a number", () => {
  it("ranges disjoint, nested, overlapping and touching, at every point near their ends", () => {
    let seed = 11;
    const random = (below: number) => {
      seed = (seed * 48_271) % 2_147_483_647;
      return seed % below;
    };
    const BASE = 77_272_500_000;
    for (let round = 0; round < 40; round++) {
      const patterns = Array.from({ length: 1 + random(30) }, () => {
        const low = BASE + random(1_000);
        return { from: String(low), to: String(low + random(200)) };
      });
      const index = buildPatternIndex(patterns.map((pattern, value) => ({ pattern, value })));
      const points = [...new Set(patterns.flatMap(({ from, to }) => [Number(from) - 1, Number(from), Number(to), Number(to) + 1]).concat(Array.from({ length: 50 }, () => BASE + random(1_300))))];
      for (const point of points) {
        const tn = String(point);
        const expected = patterns.flatMap((pattern, value) => (patternCovers(pattern, tn) ? [value] : []));
        expect(index.matching(tn).sort((a, b) => a - b), `round ${round}, ${tn}`).toEqual(expected);
      }
    }
  });

  it("a number that is not all digits meets no range of its length, though its digits would", () => {
    const index = buildPatternIndex([{ pattern: { from: "77272500000", to: "77272509999" }, value: "almaty" }]);
    expect(index.matching("7727250*234")).toEqual([]);
    expect(index.matching("772725012#4")).toEqual([]);
    expect(index.matching("*7727250123")).toEqual([]);
    expect(index.matching("77272501234")).toEqual(["almaty"]);
  });
});

describe("the order and count of what the index finds", () => {
  it("lists prefixes from the shortest, whatever order they were added in", () => {
    const index = buildPatternIndex([
      { pattern: { prefix: "7727250" }, value: "block" },
      { pattern: { prefix: "7" }, value: "kazakhstan" },
      { pattern: { prefix: "7727" }, value: "almaty" },
    ]);
    expect(index.matching("77272501234")).toEqual(["kazakhstan", "almaty", "block"]);
  });

  it("finds a prefix as long as the number once, beside a prefix longer than the number", () => {
    const index = buildPatternIndex([
      { pattern: { prefix: "7727" }, value: "short" },
      { pattern: { prefix: "77272501234" }, value: "long" },
    ]);
    expect(index.matching("7727")).toEqual(["short"]);
  });

  it("counts every entry added", () => {
    expect(buildPatternIndex([{ pattern: { exact: "7701" }, value: 1 }, { pattern: { prefix: "7" }, value: 2 }, { pattern: { from: "1", to: "2" }, value: 3 }]).size).toBe(3);
  });
});
