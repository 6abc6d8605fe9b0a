import "reflect-metadata";
import { type JsonName, X509Certificate } from "@peculiar/x509";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { CachingCertificateSource, type CertificateSourceObserver, parseCredential, staticCertificateSource, trustedPathsFor } from "../../../src/certificate/certificate-source";
import { locationFetchBudget } from "../../../src/certificate/host-fetch-budget";
import type { Fetcher } from "../../../src/certificate/fetch-chain";
import { BackgroundWrites, type LocationCache } from "../../../src/lib/background-writes";
import { generateKeyPair, issueCaCertificate, issueShakenCertificate, type KeyType, type SigningAuthority } from "../../../src/pki";
import { VerificationError } from "../../../src/verification/outcomes";

/**
 * The certificate source of src/certificate/certificate-source.ts: what a repository body becomes (its
 * chain, the leaf's P-256 key or why not, a refused issuer loop), path validation once per trust-set
 * version, and the caching layers: one fetch for concurrent requests, the in-isolate memory, the shared
 * cache and what is stored in it, and the lifetime (max-age floored at the ATIS minimum, capped at the
 * leaf's notAfter). The injected clock and the in-isolate LRU's clock (performance.now) move together.
 */
const NOW = Date.parse("2026-06-01T00:00:00Z");
const X5U = new URL("https://cr.example.net/sp.pem");
const VALIDITY = { notBefore: new Date("2025-01-01T00:00:00Z"), notAfter: new Date("2035-01-01T00:00:00Z") };
const named = (commonName: string): JsonName => [{ C: ["KZ"] }, { O: ["Certificate Cache"] }, { CN: [commonName] }];
/** What the in-isolate cache charges a credential: see heapCostOf in src/certificate/certificate-source.ts. */
const heapCostOf = ({ chain }: { chain: X509Certificate[] }) =>
  3 * pemOf(...chain).length + 3_072 * chain.length + 512 * chain.reduce((sum, certificate) => sum + certificate.extensions.length, 0) + 4_096;
const pemOf = (...certificates: X509Certificate[]) => certificates.map((certificate) => `${certificate.toString("pem")}\n`).join("");

async function ca(commonName: string, issuer?: SigningAuthority, keys?: CryptoKeyPair): Promise<SigningAuthority> {
  return issueCaCertificate({ issuer, subject: named(commonName), keys: keys ?? (await generateKeyPair()), ...VALIDITY });
}

async function leafUnder(issuer: SigningAuthority, { keys, type = "P-256", notAfter = VALIDITY.notAfter }: { keys?: CryptoKeyPair; type?: KeyType; notAfter?: Date } = {}) {
  const subjectPublicKey = (keys ?? (await generateKeyPair(type))).publicKey;
  const options = { organization: "Certificate Cache SP", country: "KZ", crlDistributionPoint: { url: "https://crl.example/cache.crl", crlIssuer: null } };
  return issueShakenCertificate({ issuer, subjectPublicKey, spc: "818H", ...options, notBefore: VALIDITY.notBefore, notAfter });
}

let root: SigningAuthority;
let chainPem: string;
let leafSubject: string;

beforeAll(async () => {
  root = await ca("Root");
  const leaf = await leafUnder(root);
  leafSubject = leaf.subject;
  chainPem = pemOf(leaf, root.certificate);
});

/** What parseCredential refuses `body` with. */
async function refusal(body: string) {
  const error: unknown = await parseCredential(X5U.href, body).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(VerificationError);
  const { failure, message } = error as VerificationError;
  return { failure, message };
}

describe("a repository body read as a credential", () => {
  it("holds every certificate, the leaf's P-256 key imported for verifying, and its heap cost: 3 bytes a character, 3 KiB a certificate, 512 bytes an extension, 4 KiB", async () => {
    const credential = await parseCredential(X5U.href, chainPem);
    expect(credential.x5u).toBe(X5U.href);
    expect(credential.chain.map((certificate) => certificate.subject)).toEqual([leafSubject, root.certificate.subject]);
    expect(credential.leafKey).toBeInstanceOf(CryptoKey);
    expect((credential.leafKey as CryptoKey).algorithm).toMatchObject({ name: "ECDSA", namedCurve: "P-256" });
    expect((credential.leafKey as CryptoKey).usages).toEqual(["verify"]);
    expect(credential.paths.size).toBe(0);
    expect(credential.bytes).toBe(heapCostOf(credential));
  });

  it.each([
    ["P-384", "signing certificate key is ECDSA P-384; SHAKEN requires EC P-256"],
    ["RSA-2048", "signing certificate key is RSASSA-PKCS1-v1_5; SHAKEN requires EC P-256"],
  ] as const)("keeps a %s leaf, its key replaced by why it is unsupported", async (type, message) => {
    const credential = await parseCredential(X5U.href, pemOf(await leafUnder(root, { type })));
    expect(credential.leafKey).toBeInstanceOf(VerificationError);
    expect(credential.leafKey).toMatchObject({ failure: "KEY_UNSUPPORTED", message });
  });

  it("keeps a leaf whose P-256 point is off the curve, its key replaced by why it cannot be imported", async () => {
    const leaf = await leafUnder(root);
    const der = new Uint8Array(leaf.rawData);
    const point = new Uint8Array(leaf.publicKey.rawData).slice(-65);
    const at = der.findIndex((_, start) => point.every((byte, index) => der[start + index] === byte));
    der.set(new Uint8Array(65).fill(4, 0, 1), at); // 04 || x=0 || y=0: uncompressed, and no point of P-256
    const credential = await parseCredential(X5U.href, pemOf(new X509Certificate(der)));
    expect(credential.leafKey).toMatchObject({ failure: "KEY_UNSUPPORTED", message: "signing certificate's P-256 key could not be imported" });
  });

  it("accepts a self-issued certificate alone or served twice, and a chain that stops below its root", async () => {
    expect((await parseCredential(X5U.href, pemOf(root.certificate))).chain).toHaveLength(1);
    expect((await parseCredential(X5U.href, pemOf(root.certificate, root.certificate))).chain).toHaveLength(2);
    const intermediate = await ca("Intermediate", root);
    expect((await parseCredential(X5U.href, pemOf(await leafUnder(intermediate), intermediate.certificate))).chain).toHaveLength(2);
  });

  it("refuses a chain whose issuers loop between two CAs, naming the first one met again", async () => {
    const yKeys = await generateKeyPair();
    const x = await ca("Loop X", await ca("Loop Y", undefined, yKeys));
    const yUnderX = await ca("Loop Y", x, yKeys);
    const message = "repository chain loops: 'C=KZ, O=Certificate Cache, CN=Loop X' is, through the chain, its own issuer";
    expect(await refusal(pemOf(await leafUnder(x), x.certificate, yUnderX.certificate))).toEqual({ failure: "X5U_NOT_CERTIFICATE_CHAIN", message });
  });

  it("names a looping CA whose name the repository made long in at most 64 characters of it", async () => {
    const yKeys = await generateKeyPair();
    const long = `Loop ${"X".repeat(2_000)}`;
    const x = await ca(long, await ca("Loop Y", undefined, yKeys));
    const yUnderX = await ca("Loop Y", x, yKeys);
    const { message } = await refusal(pemOf(await leafUnder(x), x.certificate, yUnderX.certificate));
    expect(message).toBe(`repository chain loops: '${x.certificate.subject.slice(0, 64)}…' is, through the chain, its own issuer`);
  });

  it("refuses a loop whose names differ only in case and spacing, as path building compares them (RFC 5280 §7.1)", async () => {
    const yKeys = await generateKeyPair();
    const x = await ca("Loop X", await ca("Loop Y", undefined, yKeys));
    const yUnderX = await issueCaCertificate({ issuer: x, subject: [{ C: ["kz"] }, { O: ["CERTIFICATE  cache"] }, { CN: ["LOOP y"] }], keys: yKeys, ...VALIDITY });
    expect(yUnderX.certificate.subject).not.toBe(x.certificate.issuer);
    const message = "repository chain loops: 'C=KZ, O=Certificate Cache, CN=Loop X' is, through the chain, its own issuer";
    expect(await refusal(pemOf(await leafUnder(x), x.certificate, yUnderX.certificate))).toEqual({ failure: "X5U_NOT_CERTIFICATE_CHAIN", message });
  });

  it("refuses a chain whose issuers lead back to the leaf, naming the leaf", async () => {
    const aKeys = await generateKeyPair();
    const leafKeys = await generateKeyPair();
    const leaf = await leafUnder(await ca("Loop A", undefined, aKeys), { keys: leafKeys });
    const aUnderLeaf = await ca("Loop A", { certificate: leaf, privateKey: leafKeys.privateKey }, aKeys);
    expect((await refusal(pemOf(leaf, aUnderLeaf.certificate))).message).toBe(`repository chain loops: '${leaf.subject}' is, through the chain, its own issuer`);
  });

  it("refuses what is no PEM chain", async () => {
    expect(await refusal("<html>not found</html>")).toEqual({ failure: "X5U_NOT_CERTIFICATE_CHAIN", message: "repository body holds no PEM certificate" });
  });
});

describe("a static certificate source", () => {
  it("reads the chain given for the x5u, and refuses an x5u with none", async () => {
    const asked: string[] = [];
    const source = staticCertificateSource((url) => (asked.push(url), url === X5U.href ? chainPem : undefined));
    expect((await source.credential(X5U)).chain).toHaveLength(2);
    const other = new URL("https://cr.example.net/other.pem");
    const error = await source.credential(other).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(VerificationError);
    expect(error).toMatchObject({ failure: "X5U_FETCH_FAILED", message: "no chain given for https://cr.example.net/other.pem" });
    expect(asked).toEqual([X5U.href, other.href]);
  });
});

describe("trusted paths", () => {
  it("are validated once per trust-set version; a new version replaces the old", async () => {
    const credential = await parseCredential(X5U.href, chainPem);
    const first = trustedPathsFor(credential, "v1", [root.certificate]);
    expect(trustedPathsFor(credential, "v1", [])).toBe(first);
    expect(await first).toHaveLength(1);
    const second = trustedPathsFor(credential, "v2", []);
    expect(second).not.toBe(first);
    expect([...credential.paths.keys()]).toEqual(["v2"]);
    expect(await second).toBeInstanceOf(VerificationError);
    expect(await second).toMatchObject({ failure: "CHAIN_UNTRUSTED" });
  });

  it("reject with any error that is no verification failure", async () => {
    const credential = await parseCredential(X5U.href, chainPem);
    await expect(trustedPathsFor(credential, "v1", [{} as X509Certificate])).rejects.toBeInstanceOf(TypeError);
  });
});

describe("the caching certificate source", () => {
  let t: number;
  /** Moves both clocks; the wait lets the LRU drop the time it memoised for 1 ms. */
  const advance = (ms: number) => ((t += ms), new Promise((resolve) => setTimeout(resolve, 5)));
  beforeEach(() => {
    t = NOW;
    vi.spyOn(performance, "now").mockImplementation(() => t - NOW + 1_000);
  });
  afterEach(() => vi.restoreAllMocks());

  function repository(answer: () => Response = () => new Response(chainPem, { headers: { "Cache-Control": "max-age=100" } })) {
    const calls = { count: 0 };
    const fetcher: Fetcher = async () => (calls.count++, answer());
    return { fetcher, calls };
  }

  function sharedCache() {
    const stored = new Map<string, Response>();
    const matched: string[] = [];
    const puts: { method: string; url: string; body: string; headers: Headers }[] = [];
    const cache = {
      async match(request: Request) {
        matched.push(`${request.method} ${request.url}`);
        return stored.get(request.url)?.clone();
      },
      async put(request: Request, response: Response) {
        puts.push({ method: request.method, url: request.url, body: new TextDecoder().decode(await response.clone().arrayBuffer()), headers: response.headers });
        stored.set(request.url, response);
      },
    };
    // The source puts in the background: `written()` waits for its writes, as a request's waitUntil does.
    const writes = new BackgroundWrites(1_000);
    return { cache: { cache: cache as unknown as Cache, writes }, stored, matched, puts, written: () => writes.settled() };
  }

  function observed() {
    const lookups: boolean[] = [];
    const timed = { count: 0 };
    const observer: CertificateSourceObserver = {
      cacheLookup: (hit) => void lookups.push(hit),
      timeFetch: (fetchChain) => (timed.count++, fetchChain()),
    };
    return { observer, lookups, timed };
  }

  const sourceOf = (fetcher: Fetcher, options: { sharedCache?: LocationCache | null; observer?: CertificateSourceObserver; minimumTtlSeconds?: number } = {}) =>
    new CachingCertificateSource({ fetcher, limits: { timeoutMs: 1_000, maxBytes: 65_536 }, clock: { now: () => t }, sharedCache: null, minimumTtlSeconds: 50, ...options });

  it("bounds its memory in bytes, 16 MiB in all: a sixth credential of 3 MiB each drops the first", async () => {
    // Text outside the PEM blocks is no part of the chain, but it is what the credential costs to keep (three bytes a character).
    const padded = `${" ".repeat(1024 * 1024)}\n${chainPem}`;
    const { fetcher, calls } = repository(() => new Response(padded, { headers: { "Cache-Control": "max-age=100" } }));
    const source = new CachingCertificateSource({ fetcher, limits: { timeoutMs: 1_000, maxBytes: 2 * 1024 * 1024 }, clock: { now: () => t }, sharedCache: null, minimumTtlSeconds: 50 });
    const urls = Array.from({ length: 6 }, (_, index) => new URL(`https://cr.example.net/sp-${index}.pem`));
    for (const url of urls.slice(0, 5)) await source.credential(url);
    expect(source.size).toBe(5);
    await source.credential(urls[5]!);
    expect([source.size, source.cached(urls[0]!) !== undefined, source.cached(urls[5]!) !== undefined]).toEqual([5, false, true]);
    expect(calls.count).toBe(6);
  });

  it("fetches once for concurrent requests of one x5u", async () => {
    const { fetcher, calls } = repository();
    const { observer, lookups, timed } = observed();
    const source = sourceOf(fetcher, { observer });
    const [first, second] = await Promise.all([source.credential(X5U), source.credential(X5U)]);
    expect(second).toBe(first);
    expect([calls.count, timed.count]).toEqual([1, 1]);
    expect(lookups).toEqual([false, false]);
  });

  it("answers a repeat request from memory, which cached() alone reads", async () => {
    const { fetcher, calls } = repository();
    const { cache, matched } = sharedCache();
    const { observer, lookups, timed } = observed();
    const source = sourceOf(fetcher, { sharedCache: cache, observer });
    expect(source.cached(X5U)).toBeUndefined();
    expect(lookups).toEqual([]);
    const credential = await source.credential(X5U);
    expect(await source.credential(X5U)).toBe(credential);
    expect(source.cached(X5U)).toBe(credential);
    expect([calls.count, timed.count, matched.length, source.size]).toEqual([1, 1, 1, 1]);
    expect(lookups).toEqual([false, true, true]);
  });

  it("stores the fetched chain in the shared cache for the repository's max-age when above the minimum", async () => {
    const { cache, matched, puts, written } = sharedCache();
    const source = sourceOf(repository().fetcher, { sharedCache: cache });
    await source.credential(X5U);
    await written();
    expect(matched).toEqual([`GET ${X5U.href}`]);
    expect(puts.map(({ method, url, body }) => ({ method, url, body }))).toEqual([{ method: "GET", url: X5U.href, body: chainPem }]);
    const { headers } = puts[0]!;
    expect([headers.get("Content-Type"), headers.get("Cache-Control"), headers.get("X-Shaken-Expires")]).toEqual(["application/pem-certificate-chain", "max-age=100", String(NOW + 100_000)]);
    await advance(99_000);
    expect(source.cached(X5U)).toBeDefined();
    await advance(2_000);
    expect(source.cached(X5U)).toBeUndefined();
  });

  it.each([
    ["a shorter max-age", "max-age=10"],
    ["no lifetime at all", "public"],
  ])("keeps a chain the minimum time when the repository gives %s", async (_, cacheControl) => {
    const { cache, puts, written } = sharedCache();
    const source = sourceOf(repository(() => new Response(chainPem, { headers: { "Cache-Control": cacheControl } })).fetcher, { sharedCache: cache });
    await source.credential(X5U);
    await written();
    expect(puts[0]!.headers.get("Cache-Control")).toBe("max-age=50");
    expect(puts[0]!.headers.get("X-Shaken-Expires")).toBe(String(NOW + 50_000));
  });

  it("keeps a chain no longer than its leaf is valid: 9.6 s left is 9 s in the shared cache, 9.6 s in memory", async () => {
    const leaf = await leafUnder(root, { notAfter: new Date(NOW + 10_000) });
    const { fetcher, calls } = repository(() => new Response(pemOf(leaf), { headers: { "Cache-Control": "max-age=86400" } }));
    const { cache, puts, written } = sharedCache();
    t = NOW + 400;
    const source = sourceOf(fetcher, { sharedCache: cache, minimumTtlSeconds: 86_400 });
    await source.credential(X5U);
    await written();
    expect([puts[0]!.headers.get("Cache-Control"), puts[0]!.headers.get("X-Shaken-Expires")]).toEqual(["max-age=9", String(NOW + 10_000)]);
    await advance(9_000);
    expect(source.cached(X5U)).toBeDefined();
    await advance(1_000);
    expect(source.cached(X5U)).toBeUndefined();
    expect(calls.count).toBe(1);
  });

  it("caches nothing of a chain whose leaf has expired: the next request fetches again", async () => {
    const leaf = await leafUnder(root, { notAfter: new Date(NOW - 1_000) });
    const { fetcher, calls } = repository(() => new Response(pemOf(leaf), { headers: { "Cache-Control": "max-age=86400" } }));
    const { cache, puts } = sharedCache();
    const source = sourceOf(fetcher, { sharedCache: cache });
    const first = await source.credential(X5U);
    expect(source.cached(X5U)).toBeUndefined();
    expect(await source.credential(X5U)).not.toBe(first);
    expect([calls.count, puts.length, source.size]).toEqual([2, 0, 0]);
  });

  it("uses a shared-cache hit without fetching, kept in memory only for its remaining time", async () => {
    const { fetcher, calls } = repository();
    const { cache, stored } = sharedCache();
    stored.set(X5U.href, new Response(chainPem, { headers: { "X-Shaken-Expires": String(NOW + 5_000) } }));
    const { observer, lookups, timed } = observed();
    const source = sourceOf(fetcher, { sharedCache: cache, observer });
    const credential = await source.credential(X5U);
    expect(credential.chain.map((certificate) => certificate.subject)).toEqual([leafSubject, root.certificate.subject]);
    expect(credential.bytes).toBe(heapCostOf(credential));
    expect([calls.count, timed.count]).toEqual([0, 0]);
    expect(source.cached(X5U)).toBe(credential);
    expect(lookups).toEqual([false, true]);
    await advance(4_000);
    expect(source.cached(X5U)).toBe(credential);
    await advance(2_000);
    expect(source.cached(X5U)).toBeUndefined();
  });

  it.each([
    ["expiring now", { "X-Shaken-Expires": String(NOW) }],
    ["with no expiry", {}],
  ])("uses a shared-cache hit %s without keeping it in memory", async (_, headers: Record<string, string>) => {
    const { fetcher, calls } = repository();
    const { cache, stored, matched } = sharedCache();
    stored.set(X5U.href, new Response(chainPem, { headers }));
    const source = sourceOf(fetcher, { sharedCache: cache });
    expect((await source.credential(X5U)).chain).toHaveLength(2);
    expect(source.cached(X5U)).toBeUndefined();
    await source.credential(X5U);
    expect([calls.count, matched.length]).toEqual([0, 2]);
  });

  it("fetches when the shared cache fails to answer or to store, and still keeps the chain in memory", async () => {
    const { fetcher, calls } = repository();
    const failing = { match: () => Promise.reject(new Error("cache down")), put: () => Promise.reject(new Error("cache down")) } as unknown as Cache;
    const source = sourceOf(fetcher, { sharedCache: { cache: failing, writes: new BackgroundWrites(1_000) } });
    const credential = await source.credential(X5U);
    expect(await source.credential(X5U)).toBe(credential);
    expect(calls.count).toBe(1);
  });

  it("takes a shared-cache lookup that does not answer within 100 ms for a miss, fetches, and reports the timeout", async () => {
    const { fetcher, calls } = repository();
    const hanging = { match: () => new Promise<never>(() => {}), put: () => Promise.resolve() } as unknown as Cache;
    const readTimeouts: string[] = [];
    const source = sourceOf(fetcher, { sharedCache: { cache: hanging, writes: new BackgroundWrites(1_000), onReadTimeout: (cache) => readTimeouts.push(cache) } });
    const started = Date.now();
    expect((await source.credential(X5U)).chain).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(calls.count).toBe(1);
    expect(readTimeouts).toEqual(["certificates"]);
  });

  it("answers the credential without waiting for a shared-cache write that never settles, and reports the write abandoned at its bound", async () => {
    const { fetcher, calls } = repository();
    const hanging = { match: () => Promise.resolve(undefined), put: () => new Promise<never>(() => {}) } as unknown as Cache;
    const writeTimeouts: string[] = [];
    const writes = new BackgroundWrites(100, (task) => writeTimeouts.push(task));
    const source = sourceOf(fetcher, { sharedCache: { cache: hanging, writes, onReadTimeout: () => writeTimeouts.push("a read") } });
    const stuck = new Promise((resolve) => setTimeout(() => resolve("the credential waited for the write"), 500));
    expect(await Promise.race([source.credential(X5U), stuck])).toMatchObject({ x5u: X5U.href });
    expect(calls.count).toBe(1);
    expect(writeTimeouts).toEqual([]);
    await writes.settled();
    expect(writeTimeouts).toEqual(["cache-write:certificates"]);
  });

  it("keeps nothing of a failed fetch: the next request fetches again", async () => {
    const { fetcher, calls } = repository(() => new Response(null, { status: 503 }));
    const { cache, puts } = sharedCache();
    const { observer, timed } = observed();
    const source = sourceOf(fetcher, { sharedCache: cache, observer });
    for (let attempt = 0; attempt < 2; attempt++) {
      await expect(source.credential(X5U)).rejects.toMatchObject({ failure: "X5U_FETCH_FAILED", message: "repository answered HTTP 503" });
    }
    expect([calls.count, timed.count, puts.length, source.size]).toEqual([2, 2, 0, 0]);
  });

  describe("asks the hosts of one domain at most hostFetchesPerSecond new certificates a second (X5U_HOST_FETCHES_PER_SECOND)", () => {
    // 1 a second: a bucket of 4 (HOST_BURST_SECONDS). The fetcher records each host it is asked.
    function budgeted() {
      const asked: string[] = [];
      const fetcher: Fetcher = async (request) => (asked.push(new URL(request.url).hostname), new Response(chainPem, { headers: { "Cache-Control": "max-age=100" } }));
      const source = new CachingCertificateSource({ fetcher, limits: { timeoutMs: 1_000, maxBytes: 65_536 }, clock: { now: () => t }, sharedCache: null, minimumTtlSeconds: 50, hostFetchesPerSecond: 1 });
      const load = (x5u: string) => source.credential(new URL(x5u)).then(
        () => "fetched",
        (error: VerificationError) => error.message,
      );
      return { source, asked, load };
    }

    it("takes random subdomains from their domain's one bucket: a wildcard DNS record is no way past it", async () => {
      const { asked, load } = budgeted();
      const sprayed = ["r1", "r2", "r3", "r4", "r5"].map((label) => `https://${label}.victim.example/sp.pem`);
      const outcomes = [];
      for (const x5u of sprayed) outcomes.push(await load(x5u));
      expect(outcomes).toEqual([
        ...Array(4).fill("fetched"),
        "not fetched: the isolate asked victim.example (the domain of r5.victim.example) for more than 1 new certificates a second; its cached certificates still verify",
      ]);
      // A deeper random label, a trailing dot or upper case are the same domain; another domain has its own bucket.
      expect(await load("https://a.r6.victim.example/sp.pem")).toMatch(/^not fetched: the isolate asked victim\.example \(the domain of a\.r6\.victim\.example\)/);
      expect(await load("https://R7.VICTIM.EXAMPLE./sp.pem")).toMatch(/^not fetched: the isolate asked victim\.example /);
      expect(await load("https://cr.other.example/sp.pem")).toBe("fetched");
      expect(asked).toEqual(["r1.victim.example", "r2.victim.example", "r3.victim.example", "r4.victim.example", "cr.other.example"]);

      await advance(1_000);
      expect(await load("https://r8.victim.example/sp.pem")).toBe("fetched");
    });

    it("keeps the sites of a public suffix apart, private ones included: alice.github.io's bucket is not bob.github.io's, nor a.co.uk's b.co.uk's", async () => {
      const { asked, load } = budgeted();
      for (const path of ["1", "2", "3", "4"]) expect(await load(`https://alice.github.io/${path}.pem`)).toBe("fetched");
      expect(await load("https://alice.github.io/5.pem")).toBe("not fetched: the isolate asked alice.github.io for more than 1 new certificates a second; its cached certificates still verify");
      expect(await load("https://bob.github.io/1.pem")).toBe("fetched");
      for (const path of ["1", "2", "3", "4"]) expect(await load(`https://cr.a.co.uk/${path}.pem`)).toBe("fetched");
      expect(await load("https://cr.b.co.uk/1.pem")).toBe("fetched");
      expect(asked.filter((host) => host === "alice.github.io")).toHaveLength(4);
    });

    it("gives an address its own bucket, whatever its neighbours: 203.0.113.7 is not 203.0.113.8", async () => {
      const { load } = budgeted();
      for (const path of ["1", "2", "3", "4"]) expect(await load(`https://203.0.113.7/${path}.pem`)).toBe("fetched");
      expect(await load("https://203.0.113.7/5.pem")).toBe("not fetched: the isolate asked 203.0.113.7 for more than 1 new certificates a second; its cached certificates still verify");
      expect(await load("https://203.0.113.8/1.pem")).toBe("fetched");
    });
  });

  describe("asks the hosts of one domain at most what the location's limiter grants, all its isolates together (X5U_FETCH_LIMITER)", () => {
    /** A location's limiter: `allowed` grants per key, then none; or one that fails, or never answers. */
    function limiter(behaviour: { allowed: number } | "fails" | "hangs") {
      const asked: string[] = [];
      const granted = new Map<string, number>();
      const budget = locationFetchBudget(
        {
          limit: async ({ key }) => {
            asked.push(key);
            if (behaviour === "fails") throw new Error("rate limiter unavailable");
            if (behaviour === "hangs") return new Promise<never>(() => {});
            const count = (granted.get(key) ?? 0) + 1;
            granted.set(key, count);
            return { success: count <= behaviour.allowed };
          },
        },
        (problem) => unavailable.push(problem),
      );
      const unavailable: string[] = [];
      return { budget, asked, unavailable };
    }
    function limited(budget: ReturnType<typeof limiter>["budget"], hostFetchesPerSecond = 0) {
      const fetched: string[] = [];
      const fetcher: Fetcher = async (request) => (fetched.push(request.url), new Response(chainPem, { headers: { "Cache-Control": "max-age=100" } }));
      const source = new CachingCertificateSource({ fetcher, limits: { timeoutMs: 1_000, maxBytes: 65_536 }, clock: { now: () => t }, sharedCache: null, minimumTtlSeconds: 50, hostFetchesPerSecond, locationBudget: budget });
      const load = (x5u: string) => source.credential(new URL(x5u)).then(
        () => "fetched",
        (error: VerificationError) => error.message,
      );
      return { fetched, load };
    }

    it("refuses a new fetch the limiter does not grant, naming the domain, across isolates: a second isolate gets no fresh allowance", async () => {
      const { budget, asked } = limiter({ allowed: 2 });
      const first = limited(budget);
      const second = limited(budget);
      expect(await first.load("https://r1.victim.example/a.pem")).toBe("fetched");
      expect(await second.load("https://r2.victim.example/a.pem")).toBe("fetched");
      expect(await second.load("https://r3.victim.example/a.pem")).toBe("not fetched: this location asked victim.example (the domain of r3.victim.example) for more new certificates than X5U_FETCH_LIMITER allows; its cached certificates still verify");
      expect(await first.load("https://victim.example/b.pem")).toBe("not fetched: this location asked victim.example for more new certificates than X5U_FETCH_LIMITER allows; its cached certificates still verify");
      expect(await first.load("https://cr.other.example/a.pem")).toBe("fetched");
      expect(asked).toEqual(["victim.example", "victim.example", "victim.example", "victim.example", "other.example"]);
      expect([...first.fetched, ...second.fetched]).toEqual(["https://r1.victim.example/a.pem", "https://cr.other.example/a.pem", "https://r2.victim.example/a.pem"]);
      // A cached credential asks no one.
      expect(await first.load("https://r1.victim.example/a.pem")).toBe("fetched");
      expect(asked).toHaveLength(5);
    });

    it("is asked only after the isolate's own budget grants: a fetch the isolate refuses takes nothing from the location", async () => {
      const { budget, asked } = limiter({ allowed: 100 });
      const { load } = limited(budget, 1);
      for (const path of ["1", "2", "3", "4", "5", "6"]) await load(`https://cr.victim.example/${path}.pem`);
      expect(asked).toHaveLength(4);
    });

    it("leaves the isolate's budget alone in charge when the limiter fails or does not answer in time, and says so", async () => {
      for (const behaviour of ["fails", "hangs"] as const) {
        const { budget, unavailable } = limiter(behaviour);
        const { load, fetched } = limited(budget, 1);
        const outcomes = [];
        for (const path of ["1", "2", "3", "4", "5"]) outcomes.push(await load(`https://cr.victim.example/${path}.pem`));
        expect(outcomes).toEqual([...Array(4).fill("fetched"), "not fetched: the isolate asked victim.example (the domain of cr.victim.example) for more than 1 new certificates a second; its cached certificates still verify"]);
        expect(fetched).toHaveLength(4);
        expect(unavailable).toEqual(Array(4).fill(behaviour === "fails" ? "error" : "timeout"));
      }
    });
  });
});
