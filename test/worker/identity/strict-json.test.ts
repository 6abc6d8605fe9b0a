import { describe, expect, it } from "vitest";
import { parseStrictJson } from "../../../src/lib/strict-json";

describe("strict JSON for PASSporT segments", () => {
  it("parses ordinary JSON, keys inside strings included", () => {
    expect(parseStrictJson('{"a":"\\"a\\":1","b":[{"a":1},{"a":2}],"c":{"a":{"a":1}}}')).toEqual({ a: '"a":1', b: [{ a: 1 }, { a: 2 }], c: { a: { a: 1 } } });
  });
  it("refuses duplicate member names at any depth", () => {
    expect(() => parseStrictJson('{"a":1,"a":2}')).toThrow(/duplicate member name 'a'/);
    expect(() => parseStrictJson('{"x":{"tn":"1","tn":"2"}}')).toThrow(/'tn'/);
    expect(() => parseStrictJson('{"a":1,"\\u0061":2}')).toThrow(/'a'/);
    // Names compared by what they decode to, whichever way each is escaped.
    expect(() => parseStrictJson('{"\\"q":1,"\\u0022q":2}')).toThrow(/duplicate member name '"q'/);
    expect(parseStrictJson('{"\\"q":1,"\\\\q":2}')).toEqual({ '"q': 1, "\\q": 2 });
  });
  it("reads strings in an array as values, however many repeat: a dest's numbers may name one number twice", () => {
    expect(parseStrictJson('{"dest":{"tn":["77272501234","77272501234"]},"a":["x",{"x":1},"x"]}')).toEqual({ dest: { tn: ["77272501234", "77272501234"] }, a: ["x", { x: 1 }, "x"] });
  });
  it("bounds nesting: 8 levels are read, the 9th is refused", () => {
    expect(parseStrictJson(`${"[".repeat(8)}${"]".repeat(8)}`)).toEqual([[[[[[[[]]]]]]]]);
    expect(parseStrictJson(`{"a":${'{"a":'.repeat(7)}1${"}".repeat(7)}}`)).toMatchObject({ a: { a: { a: {} } } });
    expect(() => parseStrictJson(`${"[".repeat(9)}${"]".repeat(9)}`)).toThrow(/deeper than 8/);
    expect(() => parseStrictJson(`{"a":{"b":[1,{"c":{"d":[{"e":{"f":[{"g":1}]}}]}}]}}`)).toThrow(/deeper than 8/);
  });
  it("refuses text that is not JSON", () => {
    expect(() => parseStrictJson("{a:1}")).toThrow(SyntaxError);
  });
});
