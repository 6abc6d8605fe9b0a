import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { fixedClock, systemClock } from "../../../src/lib/clock";
import { homeCountryOf, isolateOriginSnapshots, originDepsFromEnv, originSnapshotOptions, roamingLookupFor } from "../../../src/origin/deps";
import { roamingSettingsSchema } from "../../../src/origin/roaming/settings";
import { putRoamingEntry } from "../../../src/origin/roaming/table-lookup";
import { createSnapshotCache } from "../../../src/origin/snapshot";
import { UNREAD_RULE_ID } from "../../../src/rules/matcher";
import { createRule } from "../../../src/rules/store";
import { Deadline } from "../../../src/verdict/deadline";
import { growthDuring } from "../metrics/support";
import { TEST_ACTOR } from "../support/auth";
import { switchableD1 } from "../support/d1-faults";

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

describe("the roaming source (roamingLookupFor)", () => {
  const hints = { ingressCarrier: "TransitCo", ingressCountry: null };

  it("asks the table when the table is the source, though the document keeps a camaraBaseUrl, and sends nothing there", async () => {
    await putRoamingEntry(env.DB, "77771230001", { status: "roaming", visitedCountry: "TR" }, undefined, TEST_ACTOR, 1_000);
    const asked: string[] = [];
    const fetch = (async (input: RequestInfo | URL) => (asked.push(String(input)), Response.json({ roaming: false }))) as typeof globalThis.fetch;
    const settings = roamingSettingsSchema.parse({ source: "table", camaraBaseUrl: "https://camara.example" });
    const lookup = roamingLookupFor(settings, { db: env.DB, camaraToken: "t", camaraAllowedHosts: ["camara.example"], clock: fixedClock(0), fetch });
    expect(await lookup.lookup("77771230001", 0, hints)).toMatchObject({ status: "roaming", source: "table" });
    expect(asked).toEqual([]);
  });

  it("remembers an answer for cacheTtlSeconds, and asks again after", async () => {
    let nowMs = 1_900_000_000_000;
    const clock = { now: () => nowMs };
    await putRoamingEntry(env.DB, "77771230002", { status: "roaming", visitedCountry: "TR" }, undefined, TEST_ACTOR, nowMs);
    const lookup = roamingLookupFor(roamingSettingsSchema.parse({ source: "table", cacheTtlSeconds: 60 }), { db: env.DB, camaraToken: undefined, camaraAllowedHosts: [], clock });
    expect(await lookup.lookup("77771230002", nowMs, hints)).toMatchObject({ status: "roaming" });
    await putRoamingEntry(env.DB, "77771230002", { status: "home" }, undefined, TEST_ACTOR, nowMs);
    nowMs += 59_000;
    expect(await lookup.lookup("77771230002", nowMs, hints)).toMatchObject({ status: "roaming" });
    nowMs += 1_000;
    expect(await lookup.lookup("77771230002", nowMs, hints)).toMatchObject({ status: "home" });
  });
});

describe("the operator's rules and configuration as the verdict gets them (originDepsFromEnv)", () => {
  it("enforces an exact-number rule as the index remembers it when D1 cannot read its details", async () => {
    for (const { name } of (await env.ORIGIN_SNAPSHOTS.list({ prefix: "origin/" })).keys) await env.ORIGIN_SNAPSHOTS.delete(name);
    const cli = "77272504451";
    await createRule(env.DB, { criteria: { cli: { exact: cli } }, action: "block", reason: "reported" }, { actor: "analyst", author: null }, Date.now());
    const snapshot = await createSnapshotCache({ homeCountry: "KZ", clock: systemClock }).current({ db: env.DB, saved: env.ORIGIN_SNAPSHOTS }, () => {}, Date.now());
    const watched = switchableD1(env.DB);
    watched.set("down", /WHERE cli_key = \?1/);
    const deadline = new Deadline(60_000, () => {});
    const deps = originDepsFromEnv({ ...env, DB: watched.db }, isolateOriginSnapshots(env), () => {}, systemClock, deadline);
    const matched = await deps.operatorRules(snapshot.rules!, { cli, destination: null, trunk: null, carriers: [], name: null, atMs: Date.now() });
    expect(matched).toEqual([expect.objectContaining({ id: UNREAD_RULE_ID, action: "block" })]);
    expect(deadline.troubles).toContainEqual(expect.objectContaining({ dependency: "rules", problem: "error" }));
  });
});
