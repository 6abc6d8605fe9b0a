import { describe, expect, it } from "vitest";
import { dialledNumberPatternSchema, numberPatternSchema } from "../../../src/numbering/number-pattern";
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

  it("refuses '*' or '#' anywhere in a prefix", () => {
    expect(rulePattern({ prefix: "+77*27" }).error?.issues).toMatchObject([{ message: "'*' and '#' are no wildcards: a prefix is the leading digits of numbers" }]);
    expect(rulePattern({ prefix: "#" }).error?.issues).toMatchObject([{ message: "'*' and '#' are no wildcards: a prefix is the leading digits of numbers" }]);
  });

  it("takes the prefix without it, and an exact number with '*' or '#' (a caller ID may carry them)", () => {
    expect(rulePattern({ prefix: "+7727250" }).data).toEqual({ prefix: "7727250" });
    expect(rulePattern({ exact: "*100#" }).data).toEqual({ exact: "*100#" });
  });
});

describe("a range's ends are numbers of digits", () => {
  // A range is compared as numbers (src/numbering/pattern-index.ts): `7727*` is no number, and such an end
  // made a range the index returned for every number of its length.
  it("refuses a range with '*' or '#' in either end, naming the end", () => {
    expect(rulePattern({ from: "+77272500000", to: "+7727250999*" }).error?.issues).toMatchObject([{ path: ["to"], message: "a range's ends are numbers of digits only" }]);
    expect(rulePattern({ from: "#7727250000", to: "77272509999" }).error?.issues).toMatchObject([{ path: ["from"], message: "a range's ends are numbers of digits only" }]);
  });

  it("takes a range written in national format, read as the verdict reads a caller ID", () => {
    expect(rulePattern({ from: "8 727 250 00 00", to: "+7 727 250 99 99" }).data).toEqual({ from: "77272500000", to: "77272509999" });
  });
});
