import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { getConfigSection, putConfigSection } from "../../../src/origin/config/store";
import { markIsolateSnapshotsStale } from "../../../src/origin/snapshot";
import { NAMED, TEST_ACTOR } from "../support/auth";
import { manualClock, operatorApp } from "./support";

/** The roaming section's check-6 settings: a value that is wrong is refused with a 400 naming it, never stored. */
async function putRoaming(document: object) {
  const { app } = operatorApp(manualClock(Date.now()));
  const current = (await (await app.request("/v1/admin/config/roaming", { headers: NAMED.admin.headers }, env)).json()) as { version: number };
  return app.request("/v1/admin/config/roaming", { method: "PUT", headers: { ...NAMED.admin.headers, "Content-Type": "application/json" }, body: JSON.stringify({ document, version: current.version }) }, env);
}

afterEach(async () => {
  const current = await getConfigSection(env.DB, "roaming", "KZ");
  await putConfigSection(env.DB, "roaming", { source: "table", budgetMs: 150, cacheTtlSeconds: 300 }, current.version, TEST_ACTOR, Date.now(), "KZ");
  markIsolateSnapshotsStale();
});

describe("PUT /v1/admin/config/roaming", () => {
  it.each([
    [{ homeMccs: ["40"] }, "document.homeMccs.0", /3-digit mobile country code/],
    [{ homeMccs: [401] }, "document.homeMccs.0", /expected string/],
    [{ homeMccs: "401" }, "document.homeMccs", /expected array/],
    [{ maxObservationAgeSeconds: "900" }, "document.maxObservationAgeSeconds", /expected number/],
    [{ maxObservationAgeSeconds: 0 }, "document.maxObservationAgeSeconds", /expected number to be >=1/],
    [{ maxObservationAgeSeconds: 1.5 }, "document.maxObservationAgeSeconds", /expected int/],
  ])("refuses %j, naming the field", async (document, field, message) => {
    const response = await putRoaming(document);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: "ERR_VALIDATION", fields: { [field]: expect.stringMatching(message) } } });
  });

  it("stores the home MCCs the operator lists", async () => {
    expect((await putRoaming({ homeMccs: ["401", "402"] })).status).toBe(200);
    expect((await getConfigSection(env.DB, "roaming", "KZ")).document.homeMccs).toEqual(["401", "402"]);
  });

  it("stores an observation age limit, and null turns it off", async () => {
    expect((await putRoaming({ maxObservationAgeSeconds: 900 })).status).toBe(200);
    expect((await getConfigSection(env.DB, "roaming", "KZ")).document.maxObservationAgeSeconds).toBe(900);
    expect((await putRoaming({ maxObservationAgeSeconds: null })).status).toBe(200);
    expect((await getConfigSection(env.DB, "roaming", "KZ")).document.maxObservationAgeSeconds).toBeNull();
  });
});
