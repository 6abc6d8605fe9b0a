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
  it("bounds nesting", () => {
    expect(() => parseStrictJson(`${"[".repeat(9)}${"]".repeat(9)}`)).toThrow(/deeper than 8/);
  });
  it("refuses text that is not JSON", () => {
    expect(() => parseStrictJson("{a:1}")).toThrow(SyntaxError);
  });
});
