import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { fixedClock } from "../../../src/lib/clock";
import { isolateOriginSnapshots, originDepsFromEnv, roamingLookupFor } from "../../../src/origin/deps";
import { createCamaraRoamingLookup } from "../../../src/origin/roaming/camara-lookup";
import { withIsolateCache, withTimeBudget, type RoamingLookup, type Sleep } from "../../../src/origin/roaming/lookup";
import { roamingSettingsSchema } from "../../../src/origin/roaming/settings";
import { createTableRoamingLookup, putRoamingEntry } from "../../../src/origin/roaming/table-lookup";
import { TEST_ACTOR } from "../support/auth";

const hints = { ingressCarrier: "TransitCo", ingressCountry: null };
/** A source that never answers until its budget aborts it, so the test decides when time runs out. */
const hanging: RoamingLookup = { lookup: (_tn, _at, { signal }) => new Promise((_, reject) => signal?.addEventListener("abort", () => reject(new Error("aborted")))) };
const budgetRunsOutNow: Sleep = async () => {};

describe("time budget", () => {
  it("a lookup still running when the budget is spent answers unknown, and its I/O is aborted", async () => {
    let aborted = false;
    const watched: RoamingLookup = { lookup: (tn, at, h) => (h.signal?.addEventListener("abort", () => (aborted = true)), hanging.lookup(tn, at, h)) };
    const answer = await withTimeBudget(watched, "camara", 150, budgetRunsOutNow).lookup("77012345678", 0, hints);
    expect(answer).toMatchObject({ status: "unknown", source: "camara", error: "no answer within the 150 ms budget" });
    expect(aborted).toBe(true);
  });
  it("a failing source answers unknown instead of throwing", async () => {
    const broken: RoamingLookup = { lookup: async () => Promise.reject(new Error("HLR down")) };
    expect(await withTimeBudget(broken, "table", 150, () => new Promise(() => {})).lookup("77012345678", 0, hints)).toMatchObject({ status: "unknown", error: "HLR down" });
  });
});

describe("per-isolate cache", () => {
  it("serves a definitive answer for the TTL, then asks again; unknown is never cached", async () => {
    let now = 0;
    const clock = { now: () => now };
    let asked = 0;
    let status: "home" | "unknown" = "home";
    const source: RoamingLookup = { lookup: async () => (asked++, { status, observedAt: null, source: "cache-test" }) };
    const cached = withIsolateCache(source, "cache-test", 300_000, clock, null);
    await cached.lookup("77010000001", 0, hints);
    expect(await cached.lookup("77010000001", 0, hints)).toMatchObject({ status: "home", source: "cache-test+cache" });
    expect(asked).toBe(1);
    now = 300_000;
    status = "unknown";
    await cached.lookup("77010000001", 0, hints);
    await cached.lookup("77010000001", 0, hints);
    expect(asked).toBe(3);
  });
});

describe("CAMARA Device Roaming Status client", () => {
  function camara(respond: (request: Request) => Response | Promise<Response>) {
    const requests: Request[] = [];
    const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init);
      requests.push(request);
      return respond(request);
    }) as typeof globalThis.fetch;
    return { lookup: createCamaraRoamingLookup({ baseUrl: "https://camara.example/api/", token: "secret-token", fetch }), requests };
  }

  it("POSTs the device's number and maps roaming=true to roaming with the visited country and network's MCC", async () => {
    const { lookup, requests } = camara(() => Response.json({ roaming: true, countryCode: 286, countryName: ["TR"], lastStatusTime: "2026-11-27T11:58:00Z" }));
    expect(await lookup.lookup("77012345678", 0, hints)).toEqual({ status: "roaming", visitedCountry: "TR", visitedMcc: "286", observedAt: Date.parse("2026-11-27T11:58:00Z"), source: "camara" });
    const [request] = requests;
    expect(request!.url).toBe("https://camara.example/api/device-roaming-status/v1/retrieve");
    expect(request!.method).toBe("POST");
    expect(request!.headers.get("Authorization")).toBe("Bearer secret-token");
    expect(await request!.json()).toEqual({ device: { phoneNumber: "+77012345678" } });
  });
  it("reads countryCode as the visited network's MCC, never as a country", async () => {
    const { lookup } = camara(() => Response.json({ roaming: true, countryCode: 401, countryName: [] }));
    expect(await lookup.lookup("77012345678", 0, hints)).toEqual({ status: "roaming", visitedMcc: "401", observedAt: null, source: "camara" });
  });
  it("maps roaming=false to home", async () => {
    const { lookup } = camara(() => Response.json({ roaming: false }));
    expect(await lookup.lookup("77012345678", 0, hints)).toMatchObject({ status: "home", observedAt: null });
  });
  it.each([
    ["an HTTP error", () => Response.json({ status: 404, code: "IDENTIFIER_NOT_FOUND", message: "x" }, { status: 404 }), "HTTP 404 IDENTIFIER_NOT_FOUND"],
    ["a body that is not a roaming status", () => Response.json({ roaming: "yes" }), "response is not a CAMARA roaming status"],
    ["a non-JSON body", () => new Response("<html>"), "response is not a CAMARA roaming status"],
  ])("answers unknown on %s", async (_, respond, error) => {
    expect(await camara(respond).lookup.lookup("77012345678", 0, hints)).toMatchObject({ status: "unknown", error });
  });
  it("answers unknown without a token", async () => {
    const lookup = createCamaraRoamingLookup({ baseUrl: "https://camara.example", token: undefined, fetch: () => Promise.reject(new Error("must not be called")) });
    expect(await lookup.lookup("77012345678", 0, hints)).toMatchObject({ status: "unknown", error: "CAMARA_TOKEN is not configured" });
  });
  it("is aborted by the budget wrapper when it does not answer in time", async () => {
    const fetch = ((_input: RequestInfo | URL, init?: RequestInit) => hanging.lookup("", 0, { ...hints, signal: init?.signal ?? undefined })) as unknown as typeof globalThis.fetch;
    const settings = roamingSettingsSchema.parse({ source: "camara", camaraBaseUrl: "https://camara.example", cacheTtlSeconds: 0 });
    const lookup = roamingLookupFor(settings, { db: env.DB, camaraToken: "t", camaraAllowedHosts: ["camara.example"], clock: fixedClock(0), fetch, sleep: budgetRunsOutNow });
    expect(await lookup.lookup("77012345678", 0, hints)).toMatchObject({ status: "unknown", source: "camara" });
  });
});

describe("roaming settings", () => {
  it.each([
    ["https://169.254.169.254/latest", /169\.254\.169\.254 is a link-local address/],
    ["https://10.0.0.1:6443/", /10\.0\.0\.1 is a private/],
    ["https://localhost./camara", /localhost is localhost/],
    ["https://[::1]/", /loopback/],
    ["https://user:secret@camara.example/", /must not carry userinfo/],
    ["http://camara.example/", /expected an https:\/\/ URL/],
  ])("refuses camaraBaseUrl %s: the CAMARA token would go there", (camaraBaseUrl, message) => {
    const result = roamingSettingsSchema.safeParse({ source: "camara", camaraBaseUrl });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.message).join("; ")).toMatch(message);
  });

  it("accepts a public https server", () => {
    expect(roamingSettingsSchema.parse({ source: "camara", camaraBaseUrl: "https://api.camara.example/location/v0" }).camaraBaseUrl).toBe("https://api.camara.example/location/v0");
  });
});

describe("the verdict's roaming lookup (originDepsFromEnv)", () => {
  it("does not serve a cached roaming answer observed longer ago than maxObservationAgeSeconds: it asks the table again", async () => {
    const t0 = 1_900_000_000_000;
    let nowMs = t0 + 100_000;
    const clock = { now: () => nowMs };
    await putRoamingEntry(env.DB, "77771234567", { status: "roaming", visitedCountry: "TR", observedAt: t0 }, undefined, TEST_ACTOR, t0);
    const settings = roamingSettingsSchema.parse({ source: "table", cacheTtlSeconds: 3_600, maxObservationAgeSeconds: 900 });
    const deps = originDepsFromEnv(env, isolateOriginSnapshots(env), () => {}, clock);
    expect(await deps.roamingLookup(settings).lookup("77771234567", nowMs, hints)).toMatchObject({ observedAt: t0, source: "table" });
    // The HLR sync records a newer observation; this isolate still holds the old one.
    await env.DB.prepare("UPDATE roaming_status SET observed_at = ? WHERE tn = ?").bind(t0 + 1_000_000, "77771234567").run();
    nowMs = t0 + 1_000_000;
    expect(await deps.roamingLookup(settings).lookup("77771234567", nowMs, hints)).toMatchObject({ observedAt: t0 + 1_000_000, source: "table" });
  });
});

describe("per-isolate cache key", () => {
  it("an answer cached from one CAMARA server is not served once the settings name another", async () => {
    const fetch = (async (input: RequestInfo | URL) =>
      Response.json(new URL(String(input)).hostname === "camara.example" ? { roaming: true, countryName: ["TR"] } : { roaming: false })) as typeof globalThis.fetch;
    const deps = { db: env.DB, camaraToken: "t", camaraAllowedHosts: ["camara.example", "camara.operator.example"], clock: fixedClock(0), fetch };
    const before = roamingSettingsSchema.parse({ source: "camara", camaraBaseUrl: "https://camara.example" });
    const after = roamingSettingsSchema.parse({ source: "camara", camaraBaseUrl: "https://camara.operator.example" });
    expect(await roamingLookupFor(before, deps).lookup("77759990001", 0, hints)).toMatchObject({ status: "roaming" });
    // The operator moved off a server that answered wrongly: its answers must not outlive the change.
    expect(await roamingLookupFor(after, deps).lookup("77759990001", 0, hints)).toMatchObject({ status: "home", source: "camara" });
  });
});

describe("roaming table in D1", () => {
  it("answers what the operator recorded, and unknown for a number it never recorded", async () => {
    await putRoamingEntry(env.DB, "77011112233", { status: "roaming", visitedCountry: "AE" }, undefined, TEST_ACTOR, 1_000);
    const table = createTableRoamingLookup(env.DB);
    expect(await table.lookup("77011112233", 0, hints)).toEqual({ status: "roaming", visitedCountry: "AE", observedAt: 1_000, source: "table" });
    expect(await table.lookup("77019998877", 0, hints)).toMatchObject({ status: "unknown", error: "no entry in the roaming table" });
  });
});
