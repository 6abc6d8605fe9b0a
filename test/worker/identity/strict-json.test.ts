import { describe, expect, it } from "vitest";
import { parseStrictJson, shortened, showJsonValue } from "../../../src/lib/strict-json";

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
  it("refuses a duplicate member after an array value: the array's end is the object's again", () => {
    expect(() => parseStrictJson('{"dest":["77012345678"],"orig":{"tn":"1"},"orig":{"tn":"2"}}')).toThrow(/duplicate member name 'orig'/);
  });
  it("reads no string of an array as a member name, however many follow a comma", () => {
    expect(parseStrictJson('{"tn":["7701","7701","7701"]}')).toEqual({ tn: ["7701", "7701", "7701"] });
  });
  it("reads a value that spells a member name as a value", () => {
    expect(parseStrictJson('{"orig":"dest","dest":"orig"}')).toEqual({ orig: "dest", dest: "orig" });
  });
  it("parses JSON that is a single string", () => {
    expect(parseStrictJson('"ES256"')).toBe("ES256");
  });
  it("refuses text that is not JSON", () => {
    expect(() => parseStrictJson("{a:1}")).toThrow(SyntaxError);
  });
});

describe("a caller's text as an error message quotes it", () => {
  it("keeps 64 characters whole and cuts a longer text to its first 64 and an ellipsis", () => {
    expect(shortened("a".repeat(64))).toBe("a".repeat(64));
    expect(shortened("a".repeat(65))).toBe(`${"a".repeat(64)}…`);
    expect(shortened("a".repeat(4_096))).toBe(`${"a".repeat(64)}…`);
  });
  it("shows a control character as its escape, and never cuts an escape in two", () => {
    expect(shortened("a\r\nb")).toBe("a\\u000d\\u000ab");
    // The escape ends at the 64th character: kept.
    expect(shortened(`${"a".repeat(58)}\u0001${"b".repeat(10)}`)).toBe(`${"a".repeat(58)}\\u0001…`);
    // It would end past it: cut before it, at the last escape that starts before the 64th character.
    expect(shortened(`${"a".repeat(59)}\u0001${"b".repeat(10)}`)).toBe(`${"a".repeat(59)}…`);
    expect(shortened(`${"a".repeat(59)}\u0001\u0002`)).toBe(`${"a".repeat(59)}…`);
  });
});

describe("a value a caller sent, as an error message shows it", () => {
  it("is its JSON text, except the numbers JSON cannot write", () => {
    expect(showJsonValue("x")).toBe('"x"');
    expect(showJsonValue(JSON.parse("1e400"))).toBe("Infinity");
    expect(showJsonValue(-Infinity)).toBe("-Infinity");
    expect(showJsonValue(12)).toBe("12");
    expect(showJsonValue(undefined)).toBe("null");
  });
});
