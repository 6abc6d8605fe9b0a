import "reflect-metadata";
import type { JsonName } from "@peculiar/x509";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { KvTrustSource, LAST_GOOD_KEY, unavailableTrust, type TextStore } from "../../../src/certificate/trust-store";
import { CRLS_KEY, TRUST_ANCHORS_KEY } from "../../../src/certificate/trust-format";
import { BackgroundWrites } from "../../../src/lib/background-writes";
import { createCrl, createCrlSigner, encodeCrlPem, generateKeyPair, issueCaCertificate, type SigningAuthority } from "../../../src/pki";

/**
 * src/certificate/trust-store.ts on its own, with a fake KV, clock and cache: when the loaded set is
 * fresh, that KV is read once per refresh interval, how the documents become anchors, CRL signers and
 * CRLs under a version, what a KV failure leaves in use (the loaded set, the location's last good set,
 * or no set), and when the last good set is written to the cache.
 */
const REFRESH_MS = 60_000;
const T0 = Date.parse("2026-12-01T00:00:00Z");
const VALIDITY = { notBefore: new Date("2025-01-01T00:00:00Z"), notAfter: new Date("2035-01-01T00:00:00Z") };
const OUTAGE = "trust store refresh failed: KV GET failed: 503";
const named = (commonName: string): JsonName => [{ C: ["KZ"] }, { O: ["Trust Source"] }, { CN: [commonName] }];

let root: SigningAuthority;
let second: SigningAuthority;
let signer: SigningAuthority;
let anchorsDoc: string;
let crlsDoc: string;
let otherCrlsDoc: string;

const crlPem = async (issuer: SigningAuthority, crlNumber: number) =>
  encodeCrlPem(await createCrl({ issuer, revoked: [], thisUpdate: new Date(T0 - 86_400_000), nextUpdate: new Date(T0 + 86_400_000), crlNumber }));
const anchorsDocument = (entries: { authority: SigningAuthority; use?: "anchor" | "crl-signer" }[]) =>
  JSON.stringify({ version: 1, updated: "2026-11-30T00:00:00.000Z", anchors: entries.map(({ authority, use }) => ({ pem: authority.certificate.toString("pem"), sha256: "00", subject: authority.certificate.subject, source: "dev", ...(use ? { use } : {}) })) });
const crlsDocument = (pems: string[]) => JSON.stringify({ version: 1, updated: "2026-11-30T00:00:00.000Z", crls: pems.map((pem) => ({ pem, issuer: "x", nextUpdate: null })) });

/** The version the source gives these documents: the first 12 bytes of their SHA-256, in hex. */
async function versionOf(anchors: string | null, crls: string | null): Promise<string> {
  const bytes = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${anchors ?? ""}\n${crls ?? ""}`)));
  return Array.from(bytes.subarray(0, 12), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** A KV that answers `values`, fails (`error`), or never answers (`hang`); `reads` counts its gets. */
function fakeKv(values: Record<string, string | null>) {
  const kv = {
    values,
    reads: 0,
    error: undefined as unknown,
    hang: false,
    get(key: string): Promise<string | null> {
      kv.reads += 1;
      if (kv.hang) return new Promise(() => {});
      return kv.error === undefined ? Promise.resolve(kv.values[key] ?? null) : Promise.reject(kv.error);
    },
  };
  return kv;
}

/** The location's cache in memory: `puts` records each write, `failPut` makes writes fail, `stored` holds bodies by key. */
function fakeCache() {
  const cache = {
    stored: new Map<string, string>(),
    puts: [] as { key: string; headers: Headers; body: string }[],
    failPut: false,
    /** A cache that never answers: every match, or every put, stays pending for good. */
    hangMatch: false,
    hangPut: false,
    async match(key: string) {
      if (cache.hangMatch) return new Promise<never>(() => {});
      const body = cache.stored.get(key);
      return body === undefined ? undefined : new Response(body);
    },
    async put(key: string, response: Response) {
      if (cache.hangPut) return new Promise<never>(() => {});
      const body = await response.text();
      cache.puts.push({ key, headers: response.headers, body });
      if (cache.failPut) throw new Error("cache put failed");
      cache.stored.set(key, body);
    },
  };
  return cache;
}

/** The source puts the last good set in the background: `written()` waits for its writes, as a request's waitUntil does. */
function source(kv: TextStore, cache: ReturnType<typeof fakeCache> | null = null, writeTimeoutMs = 1_000) {
  const clock = { t: T0, now: () => clock.t };
  /** What the source reported as timed out: the cache's reads by cache, its writes by task. */
  const timeouts: string[] = [];
  const writes = new BackgroundWrites(writeTimeoutMs, (task) => timeouts.push(task));
  const lastGood = cache ? { cache: cache as unknown as Cache, writes, onReadTimeout: (name: string) => timeouts.push(`read:${name}`) } : null;
  return { clock, timeouts, trust: new KvTrustSource(kv, clock, REFRESH_MS, lastGood), written: () => writes.settled() };
}

beforeAll(async () => {
  root = await issueCaCertificate({ subject: named("Root"), keys: await generateKeyPair(), ...VALIDITY });
  second = await issueCaCertificate({ subject: named("Second Root"), keys: await generateKeyPair(), ...VALIDITY });
  signer = await createCrlSigner({ subject: "C=KZ, O=STI-PA, CN=STI-PA CRL", ...VALIDITY });
  anchorsDoc = anchorsDocument([{ authority: root }, { authority: signer, use: "crl-signer" }, { authority: second, use: "anchor" }]);
  crlsDoc = crlsDocument([await crlPem(root, 7)]);
  otherCrlsDoc = crlsDocument([await crlPem(root, 8)]);
});
afterEach(() => vi.useRealTimers());

const documents = () => ({ [TRUST_ANCHORS_KEY]: anchorsDoc, [CRLS_KEY]: crlsDoc });

describe("fresh(): the loaded set, only strictly before the refresh interval has passed", () => {
  it("is null before the first load, the set until refreshMs has passed, and null at exactly refreshMs", async () => {
    const { clock, trust } = source(fakeKv(documents()));
    expect(trust.fresh()).toBeNull();
    const material = await trust.current();
    expect(trust.fresh()).toBe(material);
    clock.t = T0 + REFRESH_MS - 1;
    expect(trust.fresh()).toBe(material);
    clock.t = T0 + REFRESH_MS;
    expect(trust.fresh()).toBeNull();
  });
});

describe("current(): KV is read once per refresh interval", () => {
  it("reads both documents once, not again within the interval, and again once it has passed", async () => {
    const kv = fakeKv(documents());
    const { clock, trust } = source(kv);
    const first = await trust.current();
    clock.t = T0 + REFRESH_MS - 1;
    expect(await trust.current()).toBe(first);
    expect(kv.reads).toBe(2);
    clock.t = T0 + REFRESH_MS;
    await trust.current();
    expect(kv.reads).toBe(4);
  });

  it("concurrent calls share one load", async () => {
    const kv = fakeKv(documents());
    const { trust } = source(kv);
    const [a, b, c] = await Promise.all([trust.current(), trust.current(), trust.current()]);
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect(kv.reads).toBe(2);
  });
});

describe("the set read from the documents", () => {
  it("splits anchors from CRL signers by use (none given: an anchor), parses the CRLs and versions the pair", async () => {
    const material = await source(fakeKv(documents())).trust.current();
    expect(material.anchors.map((certificate) => certificate.subject)).toEqual([root.certificate.subject, second.certificate.subject]);
    expect(material.crlSigners.map((certificate) => certificate.subject)).toEqual([signer.certificate.subject]);
    expect(material.crls.map((crl) => crl.issuer)).toEqual([root.certificate.subject]);
    expect(material).toMatchObject({ version: await versionOf(anchorsDoc, crlsDoc), available: true, staleBecause: null });
  });

  it("documents never pushed are an empty, available set", async () => {
    expect(await source(fakeKv({})).trust.current()).toEqual({ version: await versionOf(null, null), anchors: [], crlSigners: [], crls: [], available: true, staleBecause: null });
  });

  it("keeps the same certificate objects while the documents are unchanged, and takes a new version when either changes", async () => {
    const kv = fakeKv(documents());
    const { clock, trust } = source(kv);
    const first = await trust.current();
    kv.error = new Error("KV GET failed: 503");
    clock.t += REFRESH_MS;
    expect((await trust.current()).staleBecause).toBe(OUTAGE);
    kv.error = undefined;
    clock.t += REFRESH_MS;
    const again = await trust.current();
    expect(again).toEqual(first);
    expect(again.anchors[0]).toBe(first.anchors[0]);
    expect(again.crls[0]).toBe(first.crls[0]);
    kv.values[CRLS_KEY] = otherCrlsDoc;
    clock.t += REFRESH_MS;
    const newCrls = await trust.current();
    expect(newCrls.version).toBe(await versionOf(anchorsDoc, otherCrlsDoc));
    expect(newCrls.anchors[0]).not.toBe(first.anchors[0]);
    kv.values[TRUST_ANCHORS_KEY] = anchorsDocument([{ authority: root }]);
    clock.t += REFRESH_MS;
    expect((await trust.current()).version).toBe(await versionOf(kv.values[TRUST_ANCHORS_KEY], otherCrlsDoc));
  });
});

describe("a KV failure while a set is loaded keeps that set, saying why", () => {
  it("keeps the set with the failure as staleBecause, until the next interval", async () => {
    const kv = fakeKv(documents());
    const { clock, trust } = source(kv);
    const loaded = await trust.current();
    kv.error = new Error("KV GET failed: 503");
    clock.t = T0 + REFRESH_MS;
    const stale = await trust.current();
    expect(stale).toEqual({ ...loaded, staleBecause: OUTAGE });
    expect(stale.anchors).toBe(loaded.anchors);
    clock.t = T0 + 2 * REFRESH_MS - 1;
    expect(trust.fresh()).toBe(stale);
    expect(kv.reads).toBe(4);
  });

  it("cuts the reason to 300 characters, and gives a rejection that is no Error as text", async () => {
    const kv = fakeKv(documents());
    const { clock, trust } = source(kv);
    await trust.current();
    kv.error = new Error("x".repeat(400));
    clock.t += REFRESH_MS;
    expect((await trust.current()).staleBecause).toBe(`trust store refresh failed: ${"x".repeat(272)}`);
    kv.error = "plain refusal";
    clock.t += REFRESH_MS;
    expect((await trust.current()).staleBecause).toBe("trust store refresh failed: plain refusal");
  });

  it("an unparseable trust document is a failure like an outage", async () => {
    const kv = fakeKv(documents());
    const { clock, trust } = source(kv);
    const loaded = await trust.current();
    kv.values[TRUST_ANCHORS_KEY] = JSON.stringify({ version: 2 });
    clock.t += REFRESH_MS;
    expect(await trust.current()).toEqual({ ...loaded, staleBecause: "trust store refresh failed: trust-anchor document must be {version: 1, anchors: [...]}" });
    kv.values[TRUST_ANCHORS_KEY] = anchorsDoc;
    kv.values[CRLS_KEY] = JSON.stringify({ version: 1, crls: [{}] });
    clock.t += REFRESH_MS;
    expect((await trust.current()).staleBecause).toBe("trust store refresh failed: every CRL entry needs a pem");
  });

  it("a KV read that does not answer within 2 s is an outage", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const kv = fakeKv(documents());
    const { clock, trust } = source(kv);
    const loaded = await trust.current();
    kv.hang = true;
    clock.t += REFRESH_MS;
    let settled: unknown = null;
    void trust.current().then((material) => (settled = material));
    await vi.advanceTimersByTimeAsync(1_999);
    expect(settled).toBeNull();
    await vi.advanceTimersByTimeAsync(1);
    expect(settled).toEqual({ ...loaded, staleBecause: "trust store refresh failed: the TRUST KV read did not settle within 2000 ms" });
  });
});

describe("a KV failure on a cold isolate: the location's last good set, else no set", () => {
  it("with nothing kept, no set is available", async () => {
    const kv = fakeKv({});
    kv.error = new Error("KV GET failed: 503");
    const material = await source(kv, fakeCache()).trust.current();
    expect(material).toEqual(unavailableTrust(OUTAGE));
    expect(material).toEqual({ version: "unavailable", anchors: [], crlSigners: [], crls: [], available: false, staleBecause: OUTAGE });
  });

  it("reads the set another isolate kept, saying so, and looks for it again on every refresh until found", async () => {
    const cache = fakeCache();
    const down = fakeKv({});
    down.error = new Error("KV GET failed: 503");
    const cold = source(down, cache);
    expect((await cold.trust.current()).available).toBe(false);

    const warm = source(fakeKv(documents()), cache);
    warm.clock.t = T0 + 5_000;
    const loaded = await warm.trust.current();
    await warm.written();
    cold.clock.t = T0 + REFRESH_MS;
    const kept = await cold.trust.current();
    expect(kept).toEqual({ ...loaded, staleBecause: `${OUTAGE}; using the last good trust set (version ${loaded.version}, kept 2026-12-01T00:00:05.000Z)` });

    down.error = undefined;
    down.values = documents();
    cold.clock.t = T0 + 2 * REFRESH_MS;
    expect(await cold.trust.current()).toEqual(loaded);
    expect(cache.puts).toHaveLength(1); // the cold isolate read that version from the cache: it does not write it again
  });

  it("a kept copy the cache does not answer with within 500 ms is no copy, and is looked for again on the next refresh", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const kv = fakeKv({});
    kv.error = new Error("KV GET failed: 503");
    const cache = fakeCache();
    cache.stored.set(LAST_GOOD_KEY, JSON.stringify({ version: "kept", keptAt: "2026-11-30T00:00:00.000Z", anchors: anchorsDoc, crls: crlsDoc }));
    cache.hangMatch = true;
    const { clock, trust, timeouts } = source(kv, cache);
    let settled: unknown = null;
    void trust.current().then((material) => (settled = material));
    await vi.advanceTimersByTimeAsync(499);
    expect(settled).toBeNull();
    await vi.advanceTimersByTimeAsync(1);
    expect(settled).toEqual(unavailableTrust(OUTAGE));
    expect(timeouts).toEqual(["read:trust"]);
    cache.hangMatch = false;
    clock.t += REFRESH_MS;
    expect(await trust.current()).toMatchObject({ available: true, staleBecause: expect.stringContaining("using the last good trust set (version kept") });
  });

  it("an unreadable kept copy is no copy", async () => {
    const kv = fakeKv({});
    kv.error = new Error("KV GET failed: 503");
    const notJson = fakeCache();
    notJson.stored.set(LAST_GOOD_KEY, "not json");
    expect(await source(kv, notJson).trust.current()).toEqual(unavailableTrust(OUTAGE));
    const badDocument = fakeCache();
    badDocument.stored.set(LAST_GOOD_KEY, JSON.stringify({ version: "v", keptAt: "k", anchors: "{}", crls: null }));
    expect(await source(kv, badDocument).trust.current()).toEqual(unavailableTrust(OUTAGE));
    expect(await source(kv, null).trust.current()).toEqual(unavailableTrust(OUTAGE));
  });
});

describe("the last good set is written to the location's cache once per version", () => {
  it("writes the documents with their version and the clock's time, kept for 30 days, and not again while unchanged", async () => {
    const cache = fakeCache();
    const kv = fakeKv(documents());
    const { clock, trust, written } = source(kv, cache);
    const { version } = await trust.current();
    await written();
    expect(cache.puts).toHaveLength(1);
    const [put] = cache.puts;
    expect(put!.key).toBe(LAST_GOOD_KEY);
    expect(put!.headers.get("Cache-Control")).toBe("max-age=2592000");
    expect(put!.headers.get("Content-Type")).toBe("application/json");
    expect(JSON.parse(put!.body)).toEqual({ version, keptAt: "2026-12-01T00:00:00.000Z", anchors: anchorsDoc, crls: crlsDoc });
    clock.t += REFRESH_MS;
    await trust.current();
    await written();
    expect(cache.puts).toHaveLength(1);
    kv.values[CRLS_KEY] = otherCrlsDoc;
    clock.t += REFRESH_MS;
    await trust.current();
    await written();
    expect(cache.puts).toHaveLength(2);
    expect(JSON.parse(cache.puts[1]!.body)).toEqual({ version: await versionOf(anchorsDoc, otherCrlsDoc), keptAt: "2026-12-01T00:02:00.000Z", anchors: anchorsDoc, crls: otherCrlsDoc });
  });

  it("a write that never settles holds no load: the set is in use at once, and the write is tried again on the next load", async () => {
    const cache = fakeCache();
    cache.hangPut = true;
    const { clock, trust, timeouts, written } = source(fakeKv(documents()), cache, 100);
    const stuck = new Promise((resolve) => setTimeout(() => resolve("the load waited for the write"), 1_000));
    expect(await Promise.race([trust.current(), stuck])).toMatchObject({ available: true, staleBecause: null });
    expect(trust.fresh()).not.toBeNull();
    await written();
    expect(timeouts).toEqual(["cache-write:trust"]); // abandoned at its bound, and counted
    cache.hangPut = false;
    clock.t += REFRESH_MS;
    await trust.current();
    await vi.waitFor(() => expect(cache.stored.has(LAST_GOOD_KEY)).toBe(true));
  });

  it("a failed write costs nothing but the copy, and is tried again on the next load", async () => {
    const cache = fakeCache();
    cache.failPut = true;
    const { clock, trust, written } = source(fakeKv(documents()), cache);
    expect(await trust.current()).toMatchObject({ available: true, staleBecause: null });
    await written();
    cache.failPut = false;
    clock.t += REFRESH_MS;
    await trust.current();
    await written();
    clock.t += REFRESH_MS;
    await trust.current();
    await written();
    expect(cache.puts).toHaveLength(2);
    expect(cache.stored.has(LAST_GOOD_KEY)).toBe(true);
  });
});
