import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { fixedClock } from "../../../src/lib/clock";
import { isolateOriginSnapshots, originDepsFromEnv, roamingLookupFor } from "../../../src/origin/deps";
import { createCamaraRoamingLookup } from "../../../src/origin/roaming/camara-lookup";
import { forgetCachedRoamingStatus, timerSleep, withIsolateCache, withTimeBudget, type RoamingLookup, type Sleep } from "../../../src/origin/roaming/lookup";
import { futureObservation, observationAgeSeconds, observationTrouble } from "../../../src/origin/roaming/observation-age";
import { camaraAllowedHosts, camaraHostRefusal, homeMccsOf, maxObservationAgeMsOf, roamingCacheScope, roamingSettingsSchema } from "../../../src/origin/roaming/settings";
import { createTableRoamingLookup, deleteRoamingEntry, putRoamingEntry, roamingEntrySchema } from "../../../src/origin/roaming/table-lookup";
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

describe("time budget, with the real timer (timerSleep)", () => {
  it("answers what the source said when it answers within the budget", async () => {
    const quick: RoamingLookup = { lookup: async () => ({ status: "home", observedAt: null, source: "table" }) };
    expect(await withTimeBudget(quick, "table", 2_000).lookup("77012345678", 0, hints)).toEqual({ status: "home", observedAt: null, source: "table" });
  });
  it("answers unknown once the budget is spent by the clock", async () => {
    expect(await withTimeBudget(hanging, "camara", 10).lookup("77012345678", 0, hints)).toMatchObject({ status: "unknown", error: "no answer within the 10 ms budget" });
  });
  it("ends the wait at once when aborted", async () => {
    const abort = new AbortController();
    const started = Date.now();
    const waited = timerSleep(60_000, abort.signal);
    abort.abort();
    await waited;
    expect(Date.now() - started).toBeLessThan(5_000);
  });
  it("names what a source threw that is not an Error", async () => {
    const broken: RoamingLookup = { lookup: async () => Promise.reject("HLR said no") };
    expect(await withTimeBudget(broken, "table", 150, () => new Promise(() => {})).lookup("77012345678", 0, hints)).toMatchObject({ status: "unknown", source: "table", error: "HLR said no" });
  });
});

describe("per-isolate cache, a roaming answer's age", () => {
  it("serves a roaming answer whose source gave no time while it was asked recently enough, and not after", async () => {
    let now = 0;
    const clock = { now: () => now };
    let asked = 0;
    const source: RoamingLookup = { lookup: async () => (asked++, { status: "roaming", visitedCountry: "TR", observedAt: null, source: "age-test" }) };
    const cached = withIsolateCache(source, "age-test", 3_600_000, clock, 900_000);
    await cached.lookup("77010000002", 0, hints);
    now = 900_000;
    expect(await cached.lookup("77010000002", 0, hints)).toMatchObject({ status: "roaming", source: "age-test+cache" });
    expect(asked).toBe(1);
    now = 900_001;
    expect(await cached.lookup("77010000002", 0, hints)).toMatchObject({ status: "roaming", source: "age-test" });
    expect(asked).toBe(2);
  });
  it("serves a home answer for the TTL however old its observation (check 6 judges the age, the cache only a roaming answer's)", async () => {
    let now = 0;
    const clock = { now: () => now };
    let asked = 0;
    const source: RoamingLookup = { lookup: async () => (asked++, { status: "home", observedAt: 0, source: "home-age-test" }) };
    const cached = withIsolateCache(source, "home-age-test", 3_600_000, clock, 900_000);
    await cached.lookup("77010000005", 0, hints);
    now = 1_000_000;
    expect(await cached.lookup("77010000005", 0, hints)).toMatchObject({ status: "home", source: "home-age-test+cache" });
    expect(asked).toBe(1);
  });
  it("forgets one number's answer after an edit of the table, and keeps the others'", async () => {
    let asked = 0;
    const source: RoamingLookup = { lookup: async () => (asked++, { status: "home", observedAt: null, source: "forget-test" }) };
    const cached = withIsolateCache(source, "forget-test", 300_000, fixedClock(0), null);
    await cached.lookup("77010000003", 0, hints);
    await cached.lookup("77010000004", 0, hints);
    forgetCachedRoamingStatus("77010000003");
    expect(await cached.lookup("77010000003", 0, hints)).toMatchObject({ source: "forget-test" });
    expect(await cached.lookup("77010000004", 0, hints)).toMatchObject({ source: "forget-test+cache" });
    expect(asked).toBe(3);
  });
});

describe("CAMARA answers, in detail", () => {
  const answering = (respond: () => Response, baseUrl = "https://camara.example") => {
    const urls: string[] = [];
    const fetch = (async (input: RequestInfo | URL) => (urls.push(String(input)), respond())) as typeof globalThis.fetch;
    return { lookup: createCamaraRoamingLookup({ baseUrl, token: "secret-token", fetch }), urls };
  };
  it("names every country of a shared MCC, in upper case, and none for a subscriber at home", async () => {
    expect(await answering(() => Response.json({ roaming: true, countryCode: 250, countryName: ["kz", "ru"] })).lookup.lookup("77012345678", 0, hints)).toEqual({
      status: "roaming",
      visitedCountry: "KZ",
      visitedCountries: ["KZ", "RU"],
      visitedMcc: "250",
      observedAt: null,
      source: "camara",
    });
    expect(await answering(() => Response.json({ roaming: false, countryCode: 401, countryName: ["KZ", "RU"] })).lookup.lookup("77012345678", 0, hints)).toEqual({ status: "home", observedAt: null, source: "camara" });
  });
  it("names no visited network when the source gives no countryCode", async () => {
    const answer = await answering(() => Response.json({ roaming: true, countryName: ["TR"] })).lookup.lookup("77012345678", 0, hints);
    expect(answer).toEqual({ status: "roaming", visitedCountry: "TR", observedAt: null, source: "camara" });
    expect(answer).not.toHaveProperty("visitedMcc");
  });
  it("passes on a body that breaks off while read, rather than calling it too large", async () => {
    const broken = new ReadableStream<Uint8Array>({ pull: (controller) => controller.error(new Error("connection reset")) });
    await expect(answering(() => new Response(broken)).lookup.lookup("77012345678", 0, hints)).rejects.toThrow("connection reset");
  });
  it("drops every trailing slash of the base URL", async () => {
    const { lookup, urls } = answering(() => Response.json({ roaming: false }), "https://camara.example/api//");
    await lookup.lookup("77012345678", 0, hints);
    expect(urls).toEqual(["https://camara.example/api/device-roaming-status/v1/retrieve"]);
  });
  it.each([
    ["a JSON null", () => new Response("null", { status: 404 }), "HTTP 404"],
    ["a code that is not a string", () => Response.json({ code: 7 }, { status: 404 }), "HTTP 404"],
    ["no JSON", () => new Response("<html>", { status: 503 }), "HTTP 503"],
    ["a body past the bound", () => new Response("x".repeat(17_000), { status: 500 }), "HTTP 500"],
  ])("names an HTTP error with %s as its status alone", async (_, respond, error) => {
    expect(await answering(respond).lookup.lookup("77012345678", 0, hints)).toEqual({ status: "unknown", observedAt: null, source: "camara", error });
  });
});

describe("observation age (observation-age.ts)", () => {
  const NOW = 1_900_000_000_000;
  it("takes a feed stamping up to a minute ahead for now, and names one further ahead", () => {
    expect(futureObservation(NOW + 60_000, NOW)).toBeNull();
    expect(futureObservation(NOW + 61_400, NOW)).toBe("is 61 s in the future: the feed's clock or data is wrong (at most 60 s ahead is taken for now)");
  });
  it("believes an observation exactly as old as allowed, or up to a minute ahead, and names one older or further ahead", () => {
    expect(observationTrouble(NOW - 900_000, NOW, 900_000)).toBeNull();
    expect(observationTrouble(NOW - 900_600, NOW, 900_000)).toBe("observed 901 s before the call, more than the 900 s allowed");
    expect(observationTrouble(NOW + 60_000, NOW, 900_000)).toBeNull();
    expect(observationTrouble(NOW + 60_001, NOW, 900_000)).toBe("observed 60 s after the call: the source's clock or data is wrong");
    expect(observationTrouble(NOW - 86_400_000, NOW, null)).toBeNull();
  });
  it("gives the age in whole seconds, negative when stamped after the call", () => {
    expect(observationAgeSeconds(NOW - 1_600, NOW)).toBe(2);
    expect(observationAgeSeconds(NOW + 3_000, NOW)).toBe(-3);
  });
});

describe("roaming settings, the rest", () => {
  it.each([
    ["a user name alone in camaraBaseUrl", { source: "camara", camaraBaseUrl: "https://user@camara.example/" }, /must not carry userinfo/],
    ["a password alone in camaraBaseUrl", { source: "camara", camaraBaseUrl: "https://:secret@camara.example/" }, /must not carry userinfo/],
    ["the camara source without camaraBaseUrl", { source: "camara" }, /the camara source needs camaraBaseUrl/],
    ["an MCC of four digits", { homeMccs: ["4011"] }, /3-digit mobile country code/],
    ["an MCC led by a letter", { homeMccs: ["x401"] }, /3-digit mobile country code/],
    ["an MCC of letters", { homeMccs: ["abc"] }, /3-digit mobile country code/],
  ])("refuses %s", (_, document, message) => {
    const result = roamingSettingsSchema.safeParse(document);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.message).join("; ")).toMatch(message);
  });
  it("accepts three-digit MCCs", () => {
    expect(roamingSettingsSchema.parse({ homeMccs: ["401", "250"] }).homeMccs).toEqual(["401", "250"]);
  });
  it("keeps each CAMARA server's answers apart from the table's", () => {
    expect(roamingCacheScope(roamingSettingsSchema.parse({}))).toBe("table");
    expect(roamingCacheScope(roamingSettingsSchema.parse({ source: "camara", camaraBaseUrl: "https://camara.example" }))).toBe("camara https://camara.example");
  });
  it("gives the observation age limit in ms, or null without one", () => {
    expect(maxObservationAgeMsOf(roamingSettingsSchema.parse({ maxObservationAgeSeconds: 900 }))).toBe(900_000);
    expect(maxObservationAgeMsOf(roamingSettingsSchema.parse({ maxObservationAgeSeconds: null }))).toBeNull();
    expect(maxObservationAgeMsOf(roamingSettingsSchema.parse({}))).toBeNull();
  });
  it("takes the operator's home MCCs, else the home country's, else none", () => {
    expect(homeMccsOf(roamingSettingsSchema.parse({ homeMccs: ["250"] }), "KZ")).toEqual(["250"]);
    expect(homeMccsOf(roamingSettingsSchema.parse({}), "KZ")).toEqual(["401"]);
    expect(homeMccsOf(roamingSettingsSchema.parse({}), "UZ")).toEqual([]);
  });
  it("reads CAMARA_ALLOWED_HOSTS as a list, blanks and empty entries left out", () => {
    expect(camaraAllowedHosts({ CAMARA_ALLOWED_HOSTS: " camara.example , ,.operator.example" })).toEqual(["camara.example", ".operator.example"]);
    expect(camaraAllowedHosts({})).toEqual([]);
  });
  it("asks nothing of the table source, and refuses a camara host only when outside the list", () => {
    expect(camaraHostRefusal(roamingSettingsSchema.parse({}), [])).toBeNull();
    // Back on the table, a camaraBaseUrl left in the document is not used: nothing to refuse.
    expect(camaraHostRefusal(roamingSettingsSchema.parse({ source: "table", camaraBaseUrl: "https://camara.example" }), [])).toBeNull();
    const camara = roamingSettingsSchema.parse({ source: "camara", camaraBaseUrl: "https://camara.example/api" });
    expect(camaraHostRefusal(camara, ["camara.example"])).toBeNull();
    expect(camaraHostRefusal(camara, ["other.example", ".example"])).toBeNull();
    expect(camaraHostRefusal(camara, ["other.example"])).toBe("host camara.example is not in CAMARA_ALLOWED_HOSTS (other.example)");
    expect(camaraHostRefusal(camara, [])).toBe("the camara source is refused: CAMARA_ALLOWED_HOSTS is not set in this deployment");
  });
});

describe("roaming table entries", () => {
  it.each([
    ["a visited country for a subscriber at home", { status: "home", visitedCountry: "TR" }],
    ["a visited country in lower case", { status: "roaming", visitedCountry: "tr" }],
    ["a visited country of three letters", { status: "roaming", visitedCountry: "TUR" }],
    ["a visited country led by another character", { status: "roaming", visitedCountry: "xTR" }],
  ])("refuses %s", (_, entry) => {
    expect(roamingEntrySchema.safeParse(entry).success).toBe(false);
  });
  it("accepts a roaming subscriber's country, and no country for one at home", () => {
    expect(roamingEntrySchema.safeParse({ status: "roaming", visitedCountry: "TR" }).success).toBe(true);
    expect(roamingEntrySchema.safeParse({ status: "home", visitedCountry: null }).success).toBe(true);
  });
  it("writes at the version named, and deletes at it; a missing entry is not found", async () => {
    const tn = "77015550077";
    expect(await putRoamingEntry(env.DB, tn, { status: "home" }, 0, TEST_ACTOR, 5_000)).toEqual({ entry: { tn, status: "home", observedAt: 5_000, source: "table", version: 1 } });
    expect(await putRoamingEntry(env.DB, tn, { status: "roaming", visitedCountry: "TR" }, 1, TEST_ACTOR, 6_000)).toMatchObject({ entry: { status: "roaming", visitedCountry: "TR", version: 2 } });
    expect(await deleteRoamingEntry(env.DB, tn, 1, TEST_ACTOR, 7_000)).toMatchObject({ error: "ERR_VERSION_CONFLICT", current: { version: 2 } });
    expect(await deleteRoamingEntry(env.DB, tn, 2, TEST_ACTOR, 7_000)).toMatchObject({ entry: { version: 2 } });
    expect(await deleteRoamingEntry(env.DB, tn, undefined, TEST_ACTOR, 8_000)).toEqual({ error: "ERR_NOT_FOUND" });
  });
  it("without a version, writes and deletes the entry as it is", async () => {
    const tn = "77015550078";
    expect(await putRoamingEntry(env.DB, tn, { status: "home" }, undefined, TEST_ACTOR, 5_000)).toMatchObject({ entry: { version: 1 } });
    expect(await deleteRoamingEntry(env.DB, tn, undefined, TEST_ACTOR, 6_000)).toMatchObject({ entry: { tn, version: 1 } });
  });
  it("leave the origin version alone: a roaming write publishes no draft rule and reloads no snapshot", async () => {
    const originVersion = () => env.DB.prepare("SELECT version FROM origin_version WHERE id = 1").first<number>("version");
    const before = await originVersion();
    const tn = "77015550079";
    await putRoamingEntry(env.DB, tn, { status: "home" }, undefined, TEST_ACTOR, 5_000);
    await deleteRoamingEntry(env.DB, tn, undefined, TEST_ACTOR, 6_000);
    expect(await originVersion()).toBe(before);
  });
});
