import { describe, expect, it } from "vitest";
import { homeCountryOf, originSnapshotOptions } from "../../../src/origin/deps";
import { growthDuring } from "../metrics/support";

/** How src/origin/deps.ts assembles the origin stage's dependencies from the Worker's bindings. */
describe("the home country (HOME_COUNTRY)", () => {
  it("is read in upper case with its blanks trimmed, and is KZ when unset or blank", () => {
    expect(homeCountryOf({ HOME_COUNTRY: " uz " })).toBe("UZ");
    expect(homeCountryOf({ HOME_COUNTRY: "KZ" })).toBe("KZ");
    expect(homeCountryOf({})).toBe("KZ");
    expect(homeCountryOf({ HOME_COUNTRY: "  " })).toBe("KZ");
  });
});

describe("the production snapshot cache's options", () => {
  it("name the home country, and count a reload or version check that ran out of time under shaken_background_timeouts_total, by task", async () => {
    const options = originSnapshotOptions({ HOME_COUNTRY: "uz" });
    expect(options.homeCountry).toBe("UZ");
    const grew = await growthDuring(() => {
      options.onTimeout!("snapshot-reload");
      options.onTimeout!("snapshot-version-check");
      options.onTimeout!("snapshot-version-check");
    });
    expect(grew('shaken_background_timeouts_total{task="snapshot-reload"}')).toBe(1);
    expect(grew('shaken_background_timeouts_total{task="snapshot-version-check"}')).toBe(2);
  });
});
