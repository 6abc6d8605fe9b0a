import { describe, expect, it } from "vitest";
import { diallingPlanFor } from "../../../src/numbers/telephone-number";
import { expiryIso, ruleInputSchema, ruleReplacementSchema } from "../../../src/rules/rule";

const NOW = Date.parse("2026-11-30T10:00:00Z");
const KZ = diallingPlanFor("KZ");
const input = (fields: Record<string, unknown>) => ruleInputSchema(NOW, KZ).safeParse({ criteria: { cli: { exact: "+77272509101" } }, action: "block", reason: "bank impersonation wave", ...fields });

describe("a rule's input", () => {
  it("trims its reason, and refuses one that is only blanks", () => {
    expect(input({ reason: "  bank impersonation wave  " }).data?.reason).toBe("bank impersonation wave");
    expect(input({ reason: "   " }).error?.issues).toMatchObject([{ path: ["reason"] }]);
  });

  it("takes an expiry in the future or none; refuses one at or before the instant of the write", () => {
    expect(input({ expiresAt: null }).success).toBe(true);
    expect(input({}).success).toBe(true);
    expect(input({ expiresAt: "2026-11-30T10:00:00.001Z" }).success).toBe(true);
    expect(input({ expiresAt: "2026-11-30T10:00:00.000Z" }).error?.issues).toMatchObject([{ path: ["expiresAt"], message: "expiry must be in the future" }]);
  });
});

describe("a rule's replacement", () => {
  const replacement = (fields: Record<string, unknown>) =>
    ruleReplacementSchema(NOW, KZ).safeParse({ criteria: { cli: { exact: "+77272509101" } }, action: "block", reason: "wave", version: 3, ...fields });

  it("takes the version it read, and refuses an expiry at or before the instant of the write, as a new rule does", () => {
    expect(replacement({}).data?.version).toBe(3);
    expect(replacement({ expiresAt: "2026-11-30T10:00:00.001Z" }).success).toBe(true);
    expect(replacement({ expiresAt: "2026-11-30T10:00:00.000Z" }).error?.issues).toMatchObject([{ path: ["expiresAt"], message: "expiry must be in the future" }]);
    expect(replacement({ surprise: true }).success).toBe(false);
  });
});

describe("a rule's numbers, read with the plan it is written under", () => {
  // The schemas are built once per plan (src/rules/rule.ts): each plan must still get its own.
  const cliOf = (plan: ReturnType<typeof diallingPlanFor>, exact: string) =>
    ruleInputSchema(NOW, plan).safeParse({ criteria: { cli: { exact } }, action: "block", reason: "wave" }).data?.criteria.cli;

  it("reads a national-format number with each plan's trunk prefix, whichever plan came first", () => {
    expect(cliOf(KZ, "8 727 250 9101")).toBeDefined();
    expect(cliOf(KZ, "8 727 250 9101")).toEqual(cliOf(KZ, "+7 727 250 9101"));
    const GB = diallingPlanFor("GB");
    expect(cliOf(GB, "07700 900123")).toBeDefined();
    expect(cliOf(GB, "07700 900123")).toEqual(cliOf(GB, "+44 7700 900123"));
    expect(cliOf(GB, "07700 900123")).not.toEqual(cliOf(KZ, "07700 900123"));
    expect(cliOf(KZ, "8 727 250 9101")).toEqual(cliOf(KZ, "+7 727 250 9101"));
  });
});

describe("a rule's expiry as the admin API shows it", () => {
  it("is null for a rule that never expires, and the instant itself within a Date's range", () => {
    expect(expiryIso(null)).toBeNull();
    expect(expiryIso(Date.parse("2027-01-01T00:00:00Z"))).toBe("2027-01-01T00:00:00.000Z");
  });

  it("is the furthest instant a Date carries, either way, for a stored number past it", () => {
    expect(expiryIso(1e17)).toBe("+275760-09-13T00:00:00.000Z");
    expect(expiryIso(-1e17)).toBe("-271821-04-20T00:00:00.000Z");
  });
});
