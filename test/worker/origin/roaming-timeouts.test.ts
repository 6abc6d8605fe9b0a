import { describe, expect, it } from "vitest";
import { withTimeBudget, type RoamingLookup } from "../../../src/origin/roaming/lookup";
import { growthDuring } from "../metrics/support";

/**
 * shaken_roaming_lookup_timeouts_total (withTimeBudget): only a lookup that ran out of its budget is
 * counted; one that answered first stops the budget's timer, and is not counted when it would have run out.
 */
const hints = { ingressCarrier: null, ingressCountry: null };
const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const SERIES = (source: string) => `shaken_roaming_lookup_timeouts_total{source="${source}"}`;

describe("roaming lookup timeouts counted", () => {
  it("counts a lookup that ran out of its budget, under its source", async () => {
    const hanging: RoamingLookup = { lookup: () => new Promise(() => {}) };
    const growth = await growthDuring(async () => {
      expect(await withTimeBudget(hanging, "timeout-test", 10).lookup("77012345678", 0, hints)).toMatchObject({ status: "unknown" });
    });
    expect(growth(SERIES("timeout-test"))).toBe(1);
  });
  it("does not count a lookup that answered within its budget, even after the budget's time has passed", async () => {
    const quick: RoamingLookup = { lookup: async () => ({ status: "home", observedAt: null, source: "table" }) };
    const growth = await growthDuring(async () => {
      expect(await withTimeBudget(quick, "answered-test", 20).lookup("77012345678", 0, hints)).toMatchObject({ status: "home" });
      await settle(60);
    });
    expect(growth(SERIES("answered-test"))).toBe(0);
  });
});
