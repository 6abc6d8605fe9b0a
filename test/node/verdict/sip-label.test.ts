import { describe, expect, it } from "vitest";
import { outweighs, pass, fail, skip, warn } from "../../../src/verdict/check";
import { findingSource } from "../../../src/verdict/finding";
import { isSipLabel, sipLabelSchema, sipTextOf } from "../../../src/verdict/sip-label";

/**
 * What a verdict may say towards the caller's network (a rejection's Reason, a tag's label): a short
 * label from a charset that needs no quoting in a SIP header, else the deciding check's id.
 */
describe("a SIP label", () => {
  it.each(["Suspected spoofing", "SPAM?", "International Call", "a", "A".repeat(32), "x-(1)/2_3+4.5!"])("%j is one", (label) => {
    expect(isSipLabel(label)).toBe(true);
  });

  it.each([
    ["empty", ""],
    ["33 characters", "A".repeat(33)],
    ["starting with a space", " Spam"],
    ["starting with punctuation", "-Spam"],
    ["a CRLF and another header", "Spam\r\nX-Injected: 1"],
    ["a trailing line feed", "Spam\n"],
    ["a quote", 'Spam"; cause=16'],
    ["a backslash", "Spam\\"],
    ["non-ASCII", "Спам"],
  ])("%s is none", (_what, label) => {
    expect(isSipLabel(label)).toBe(false);
  });

  it("is read by the schema with the white space around it trimmed", () => {
    expect(sipLabelSchema.parse("  Suspected spoofing ")).toBe("Suspected spoofing");
    expect(sipLabelSchema.safeParse("Spam\r\nX-Injected: 1").success).toBe(false);
  });
});

describe("the text a finding shows in SIP", () => {
  it("is its label when SIP can carry it", () => {
    expect(sipTextOf({ checkId: "origin.cli-unverified", label: "Suspected spoofing" })).toBe("Suspected spoofing");
  });

  it.each([
    ["no label", undefined],
    ["a null label", null],
    ["a label with a victim's details", "Reported by Aigerim, +7 701 234 5678 (card 4400…)\r\n"],
  ])("is the check id with %s", (_what, label) => {
    expect(sipTextOf({ checkId: "rules.block", label })).toBe("rules.block");
  });
});

describe("which check says more against a call", () => {
  it("a failure, then a warning, then a pass, then a check not run", () => {
    const ordered = [fail("c", "failed"), warn("c", "warned"), pass("c"), skip("c", "not run")];
    for (const [index, check] of ordered.entries()) {
      for (const [otherIndex, other] of ordered.entries()) expect(outweighs(check, other), `${check.result} over ${other.result}`).toBe(index < otherIndex);
    }
  });
});

describe("who a monitored finding names", () => {
  it("is its rule, else its check", () => {
    expect(findingSource({ checkId: "rules.block", action: "block", reason: "r", ruleId: "rule-7" })).toBe("rule-7");
    expect(findingSource({ checkId: "origin.cli-unverified", action: "tag", reason: "r" })).toBe("origin.cli-unverified");
  });
});
