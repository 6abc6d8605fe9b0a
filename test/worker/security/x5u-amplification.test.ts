import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { MAX_REPOSITORIES_PER_CALL } from "../../../src/verification/verify-call";
import { verdictVia } from "../abuse/support";
import { growthDuring } from "../metrics/support";
import { hits, IAT, installTrust, movableApp, pki, register, serveChain, signedIdentity, uniquePath, verdictRequest } from "../support/stir";

/**
 * The x5u is a stranger's URL: a hostile peer must not turn the verifier into a fetch amplifier — a
 * dead repository asked on every call that names it, eight repositories asked for one call, a host
 * sprayed with random query strings that miss every cache. Fetches are counted by the test
 * repository, never timed.
 */
beforeEach(() => installTrust());

const goodChain = () => `${pki.leaf}${pki.intermediate}`;
const callNaming = async (...x5us: string[]) => verdictRequest(await Promise.all(x5us.map(async (x5u) => (await signedIdentity({ x5u })).identity)));
const refused = (reason: string) => `shaken_x5u_fetches_refused_total{reason="${reason}"}`;

describe("a repository's failure is remembered for X5U_FAILURE_CACHE_SECONDS (default 30)", () => {
  it("is fetched once for two calls within it, again after it, and a success then is cached as usual", async () => {
    const path = uniquePath("dead");
    const x5u = await register({ path, status: 500 });
    const { app, advance } = movableApp();
    const increase = await growthDuring(async () => {
      const first = await verdictVia(app, await callNaming(x5u));
      expect(first.stir).toMatchObject({ reasoncode: 436, failedCheck: "x5u.fetch", reasondesc: expect.stringMatching(/^repository answered HTTP 500/) });

      const second = await verdictVia(app, await callNaming(x5u));
      expect(second.stir).toMatchObject({
        reasoncode: 436,
        failedCheck: "x5u.fetch",
        reasondesc: `remembered failure, not fetched again before ${new Date((IAT + 30) * 1000).toISOString()} (in 30 s): repository answered HTTP 500`,
      });
      expect(await hits(x5u)).toBe(1);
    });
    expect(increase(refused("remembered-failure"))).toBe(1);

    await register({ path, body: goodChain() }); // resets the hit count
    advance(29);
    expect((await verdictVia(app, await callNaming(x5u))).stir.reasondesc).toMatch(/^remembered failure, .* \(in 1 s\): repository answered HTTP 500$/);
    expect(await hits(x5u)).toBe(0);

    advance(1);
    expect((await verdictVia(app, await callNaming(x5u))).stir.reasoncode).toBeNull();
    expect((await verdictVia(app, await callNaming(x5u))).stir.reasoncode).toBeNull();
    expect(await hits(x5u)).toBe(1); // fetched once after the failure's time, then served from the cache
  });

  it("keeps the failure's own outcome row: a body that is no chain is still X5U_NOT_CERTIFICATE_CHAIN", async () => {
    const x5u = await register({ path: uniquePath("nginx"), body: "<html>Welcome to nginx!</html>" });
    const { app } = movableApp();
    const first = await verdictVia(app, await callNaming(x5u));
    const second = await verdictVia(app, await callNaming(x5u));
    expect(second.stir.reasondesc).toBe(`remembered failure, not fetched again before ${new Date((IAT + 30) * 1000).toISOString()} (in 30 s): ${first.stir.reasondesc}`);
    expect([second.stir.reasoncode, second.stir.failedCheck]).toEqual([first.stir.reasoncode, first.stir.failedCheck]);
    expect(await hits(x5u)).toBe(1);
  });

  it("is off with X5U_FAILURE_CACHE_SECONDS=0: each call asks the repository", async () => {
    const x5u = await register({ path: uniquePath("dead"), status: 503 });
    const { app } = movableApp();
    const bindings = { ...env, X5U_FAILURE_CACHE_SECONDS: "0" };
    for (let call = 0; call < 2; call++) expect((await verdictVia(app, await callNaming(x5u), bindings)).stir.reasondesc).toBe("repository answered HTTP 503");
    expect(await hits(x5u)).toBe(2);
  });
});

describe(`one call asks at most ${MAX_REPOSITORIES_PER_CALL} repositories`, () => {
  it("fetches 3 of 8 distinct uncached x5u, refusing the others with x5u.fetch, and counts no cached credential", async () => {
    const x5us = await Promise.all(Array.from({ length: 8 }, () => serveChain()));
    const { app } = movableApp();
    const increase = await growthDuring(async () => {
      const verdict = await verdictVia(app, await callNaming(...x5us));
      expect(verdict.stir.reasoncode).toBeNull(); // the first shaken PASSporT verified
      const refusals = verdict.identities.filter((identity) => identity.failedCheck === "x5u.fetch");
      expect(refusals.map((identity) => identity.reasondesc)).toEqual(Array(5).fill("not fetched: this call already asked 3 repositories, the most one call may ask"));
    });
    expect(increase(refused("per-call"))).toBe(5);
    expect((await Promise.all(x5us.map(hits))).reduce((sum, count) => sum + count, 0)).toBe(3);

    // The three credentials now cached do not count: a call naming them and three new repositories fetches the three.
    const cached: number[] = [];
    for (const [index, x5u] of x5us.entries()) if ((await hits(x5u)) === 1) cached.push(index);
    const fresh = await Promise.all(Array.from({ length: 3 }, () => serveChain()));
    const verdict = await verdictVia(app, await callNaming(...cached.map((index) => x5us[index]!), ...fresh));
    expect(verdict.identities.every((identity) => identity.outcome === "verified")).toBe(true);
    expect(await Promise.all(fresh.map(hits))).toEqual([1, 1, 1]);
  });
});

describe("the hosts of each domain are asked at most X5U_HOST_FETCHES_PER_SECOND new certificates a second by an isolate", () => {
  // 1 a second: a bucket of 4 (HOST_BURST_SECONDS).
  const bindings = { ...env, X5U_HOST_FETCHES_PER_SECOND: "1" };

  it("bounds spraying one host with distinct URLs; its cached credential still verifies; the bucket refills", async () => {
    const { app, advance } = movableApp();
    const legitimate = await serveChain();
    expect((await verdictVia(app, await callNaming(legitimate), bindings)).stir.reasoncode).toBeNull();

    // The x5u policy refuses a query string, so a spray is of distinct paths.
    const sprayed = await Promise.all(Array.from({ length: 6 }, () => serveChain()));
    const host = new URL(legitimate).hostname;
    const increase = await growthDuring(async () => {
      const reasons: (string | null)[] = [];
      for (const x5u of sprayed) reasons.push((await verdictVia(app, await callNaming(x5u), bindings)).stir.reasondesc);
      expect(reasons.slice(0, 3)).toEqual([null, null, null]);
      expect(reasons.slice(3)).toEqual(Array(3).fill(`not fetched: the isolate asked ${host} for more than 1 new certificates a second; its cached certificates still verify`));
    });
    expect(increase(refused("host-budget"))).toBe(3);
    expect(await Promise.all(sprayed.map(hits))).toEqual([1, 1, 1, 0, 0, 0]);

    expect((await verdictVia(app, await callNaming(legitimate), bindings)).stir.reasoncode).toBeNull();
    expect(await hits(legitimate)).toBe(1);

    advance(1);
    expect((await verdictVia(app, await callNaming(sprayed[5]!), bindings)).stir.reasoncode).toBeNull();
    expect(await Promise.all(sprayed.map(hits))).toEqual([1, 1, 1, 0, 0, 1]);
  });
});

describe("the hosts of each domain are asked at most what the location's X5U_FETCH_LIMITER grants, all its isolates together", () => {
  it("refuses a second isolate's new fetch from a domain the location has spent; its cached certificate still verifies", async () => {
    // The binding counts in fixed windows of 60 s by the wall clock: start well inside one.
    const intoWindow = Date.now() % 60_000;
    if (intoWindow > 55_000) await new Promise((resolve) => setTimeout(resolve, 60_500 - intoWindow));
    // Its counts outlive a test (a rerun in the same process): each run counts under keys of its own.
    const run = crypto.randomUUID();
    const limiter: Pick<RateLimit, "limit"> = { limit: ({ key }) => env.X5U_FETCH_LIMITER_OF_TWO.limit({ key: `${run}:${key}` }) };
    const bindings = { ...env, X5U_FETCH_LIMITER: limiter };
    // Two isolates of one location: each its own runtime and isolate budget, one limiter.
    const first = movableApp();
    const second = movableApp();
    const [one, two, three] = await Promise.all(Array.from({ length: 3 }, () => serveChain()));
    const host = new URL(one!).hostname;
    const increase = await growthDuring(async () => {
      expect((await verdictVia(first.app, await callNaming(one!), bindings)).stir.reasoncode).toBeNull();
      expect((await verdictVia(second.app, await callNaming(two!), bindings)).stir.reasoncode).toBeNull();
      expect((await verdictVia(second.app, await callNaming(three!), bindings)).stir).toMatchObject({
        reasoncode: 436,
        reasondesc: `not fetched: this location asked ${host} for more new certificates than X5U_FETCH_LIMITER allows; its cached certificates still verify`,
      });
    });
    expect(increase(refused("location-budget"))).toBe(1);
    expect(await Promise.all([one!, two!, three!].map(hits))).toEqual([1, 1, 0]);
    expect((await verdictVia(first.app, await callNaming(one!), bindings)).stir.reasoncode).toBeNull();
  }, 30_000);
});

describe("an X5U_FETCH_LIMITER that fails", () => {
  it("lets the fetch go ahead on the isolate's budget, counted as the limiter's error", async () => {
    const limiter: Pick<RateLimit, "limit"> = { limit: () => Promise.reject(new Error("rate limiter unavailable")) };
    const x5u = await serveChain();
    const increase = await growthDuring(async () => {
      expect((await verdictVia(movableApp().app, await callNaming(x5u), { ...env, X5U_FETCH_LIMITER: limiter })).stir.reasoncode).toBeNull();
    });
    expect(increase('shaken_dependency_errors_total{dependency="x5u-limiter"}')).toBe(1);
    expect(await hits(x5u)).toBe(1);
  });
});
