import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { LAST_GOOD_KEY } from "../../../src/certificate/trust-store";
import { verdictVia } from "../abuse/support";
import { appAt, atisRequest, craftIdentity, hits, installTrust, pki, postAtis, serveChain, signedIdentity, verdictRequest } from "../support/stir";

/**
 * Both the x5u layer and the trust store keep copies in the location's Workers cache (caches.default in
 * production). The x5u layer's keys are URLs a PASSporT's signer writes; the trust store's last good set
 * has a key of its own. A signer who names that key as its x5u must neither be answered from the trust
 * set's copy nor, were its repository to answer, have its chain stored over the copy that fresh isolates
 * fall back on while KV is down.
 */
/** The key the trust store's copy had before it moved out of the space of x5u URLs. */
const TRUST_COPY = "https://trust-set.shaken-edge.internal/v1";

beforeEach(() => {
  vi.spyOn(console, "log").mockImplementation(() => {});
  return installTrust();
});

async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 100));
}

describe("an x5u that names the trust store's cache key", () => {
  it("is fetched from its repository, not answered with the kept trust set", async () => {
    const cache = await caches.open(`location-${crypto.randomUUID()}`);
    const fetched: string[] = [];
    const app = appAt(0, {
      sharedCache: cache,
      trustCache: cache,
      fetcher: async (request) => {
        fetched.push(request.url);
        return new Response(`${pki.leaf}${pki.intermediate}`);
      },
    });
    const identity = await craftIdentity({ x5u: TRUST_COPY });
    // The first call loads the trust set, which is then kept in the location's cache.
    await postAtis(app, atisRequest(await craftIdentity({})));
    await settle();

    const response = await postAtis(app, atisRequest(identity));
    expect(await response.json()).toEqual({ verificationResponse: { verstat: "TN-Validation-Passed" } });
    expect(fetched).toContain(TRUST_COPY);
  });

  it("the trust store's own key is no x5u: refused by the x5u policy before the cache is looked at", async () => {
    const cache = await caches.open(`location-${crypto.randomUUID()}`);
    const fetched: string[] = [];
    const app = appAt(0, { sharedCache: cache, trustCache: cache, fetcher: async (request) => (fetched.push(request.url), new Response(`${pki.leaf}${pki.intermediate}`)) });
    await postAtis(app, atisRequest(await craftIdentity({})));
    await settle();
    const kept = await cache.match(LAST_GOOD_KEY).then((response) => response?.text());
    expect(JSON.parse(kept!)).toMatchObject({ version: expect.any(String) });

    const response = await postAtis(app, atisRequest(await craftIdentity({ x5u: LAST_GOOD_KEY })));
    expect(((await response.json()) as any).verificationResponse).toMatchObject({ reasoncode: 436, reasondesc: expect.stringMatching(/^x5u scheme 'http:' is not allowed/) });
    await settle();
    expect(await cache.match(LAST_GOOD_KEY).then((response) => response?.text())).toBe(kept);
    expect(fetched.filter((url) => url === LAST_GOOD_KEY)).toEqual([]);
  });
});

describe("an application given no cache of its own keeps its copies in caches.default (src/runtime.ts), as production does", () => {
  it("the last good trust set: a fresh isolate that starts while KV is down verifies with it", async () => {
    const { identity, x5u } = await signedIdentity();
    expect((await verdictVia(appAt(0), verdictRequest([identity]))).verstat).toBe("TN-Validation-Passed");
    const kvDown = { get: () => Promise.reject(new Error("KV unavailable")) };
    const verdict = await verdictVia(appAt(0), verdictRequest([(await signedIdentity({ x5u })).identity]), { ...env, TRUST: kvDown });
    expect(verdict.verstat).toBe("TN-Validation-Passed");
  });

  it("a fetched chain: a fresh isolate finds it there and asks the repository no more", async () => {
    const x5u = await serveChain();
    // appAt gives each application no shared cache; `undefined` asks for the runtime's default.
    const isolate = () => appAt(0, { sharedCache: undefined });
    expect((await verdictVia(isolate(), verdictRequest([(await signedIdentity({ x5u })).identity]))).verstat).toBe("TN-Validation-Passed");
    expect((await verdictVia(isolate(), verdictRequest([(await signedIdentity({ x5u })).identity]))).verstat).toBe("TN-Validation-Passed");
    expect(await hits(x5u)).toBe(1);
  });
});
