import type { X509Certificate } from "@peculiar/x509";
import { LRUCache } from "lru-cache";
import type { LocationCache } from "../lib/background-writes";
import type { Clock } from "../lib/clock";
import { TimeoutError, withTimeout } from "../lib/timeout";
import { shortened } from "../lib/strict-json";
import { decodeUtf8Strict } from "../lib/utf8";
import { VerificationError, type VerificationFailure } from "../verification/outcomes";
import { buildTrustedPaths, type TrustedPath } from "./chain";
import { comparableNamesOf } from "./distinguished-name";
import { fetchCertificateChain, type Fetcher, type FetchLimits } from "./fetch-chain";
import { fetchBudgetDomain, HostFetchBudget, type LocationFetchBudget } from "./host-fetch-budget";
import { extensionCountOf, parsePemChain } from "./pem-chain";

/** The credential behind one x5u: every certificate the repository served, parsed once. */
export interface Credential {
  x5u: string;
  chain: X509Certificate[];
  /** The leaf's public key imported for ES256, or why it cannot be (not P-256). */
  leafKey: CryptoKey | VerificationError;
  /** Path validation per trust-set version (every trusted path, or why there is none); a new trust set validates again. */
  paths: Map<string, Promise<TrustedPath[] | VerificationError>>;
  bytes: number;
}

export interface CertificateSource {
  /** `call`: the repositories the call asking may still have fetched for it (none: no bound). */
  credential(x5u: URL, call?: CallRepositories): Promise<Credential>;
  /** The credential when it is at hand without any I/O (the in-isolate cache), so a caller can skip its wait. */
  cached?(x5u: URL): Credential | undefined;
}

/** Why a load of an x5u was refused without asking its repository (the `reason` label of shaken_x5u_fetches_refused_total). */
export type FetchRefusal = "remembered-failure" | "per-call" | "host-budget" | "location-budget";

/**
 * A load refused before the repository was asked: the x5u.fetch outcome (or, for a remembered failure,
 * the failure's own row), never remembered as the repository's failure.
 */
class FetchRefused extends VerificationError {
  constructor(
    readonly reason: FetchRefusal,
    description: string,
    evidence: Record<string, unknown> = {},
    failure: VerificationFailure = "X5U_FETCH_FAILED",
  ) {
    super(failure, description, { refused: reason, ...evidence });
  }
}

/**
 * The repositories one call may have fetched for it. Each Identity header names an x5u of the peer's
 * choosing, and a call may carry up to MAX_IDENTITY_HEADERS: unbounded, one call would be that many
 * fetches from hosts a stranger picked. An x5u the isolate holds, or is fetching already, is not counted.
 */
export class CallRepositories {
  private readonly asked = new Set<string>();

  constructor(readonly limit: number) {}

  /** Counts `href` against the call's bound, or says why it is not fetched. */
  admit(href: string): FetchRefused | null {
    if (this.asked.has(href) || this.asked.size < this.limit) {
      this.asked.add(href);
      return null;
    }
    return new FetchRefused("per-call", `not fetched: this call already asked ${this.asked.size} repositories, the most one call may ask`, { limit: this.limit });
  }
}

/** A source that never fetches (the CLI's `--chain <file>`, tests). */
export function staticCertificateSource(pemByUrl: (url: string) => string | undefined): CertificateSource {
  return {
    async credential(x5u) {
      const body = pemByUrl(x5u.href);
      if (body === undefined) throw new VerificationError("X5U_FETCH_FAILED", `no chain given for ${x5u.href}`);
      return parseCredential(x5u.href, body);
    },
  };
}

export interface CachingSourceOptions {
  fetcher: Fetcher;
  limits: FetchLimits;
  clock: Clock;
  /** Shared cache across isolates of a location (Workers Cache API); null to skip. */
  sharedCache: LocationCache | null;
  /** ATIS-1000074: cache at least this long when the repository says less or nothing. */
  minimumTtlSeconds: number;
  /** Where cache hits and repository fetches are counted (the Worker's metrics); none in the CLI. */
  observer?: CertificateSourceObserver;
  /** How long a repository's failure is answered from memory before the x5u is fetched again (X5U_FAILURE_CACHE_SECONDS); 0 or none: never. */
  failureTtlSeconds?: number;
  /** New fetches a second the hosts of one domain may be asked for by this isolate (X5U_HOST_FETCHES_PER_SECOND, fetchBudgetDomain); 0 or none: no bound. */
  hostFetchesPerSecond?: number;
  /** New fetches from one domain that the location's isolates may make together (X5U_FETCH_LIMITER); none: no bound beyond the isolate's. */
  locationBudget?: LocationFetchBudget | null;
}

export interface CertificateSourceObserver {
  cacheLookup(hit: boolean): void;
  timeFetch<T>(fetchChain: () => Promise<T>): Promise<T>;
  /** A load refused without asking the repository. */
  refused?(reason: FetchRefusal): void;
}

/** A repository's failure, answered from memory until `retryAtMs`. */
interface RememberedFailure {
  error: VerificationError;
  retryAtMs: number;
}

const DAY_SECONDS = 86_400;
/**
 * The location's cache answers within milliseconds: a lookup (with the read of its body) that has not
 * answered by then is a miss, and the chain is fetched from the repository with most of a 250 ms verdict
 * budget left. A lookup that never answers must not hold the URL's shared load, which every later
 * request for that x5u in the isolate joins.
 */
const SHARED_CACHE_READ_TIMEOUT_MS = 100;

/** A domain's bucket holds this many seconds of its fetch rate: a burst of new certificates (an isolate's cold start) is fetched at once. */
const HOST_BURST_SECONDS = 4;

/**
 * x5u → Credential with three layers: an in-isolate LRU bounded in entries and bytes, the location's
 * shared cache honouring RFC 7234 (with the 24 h floor and the leaf's notAfter as ceiling), and the
 * repository itself — where concurrent requests for one URL share a single fetch.
 *
 * The x5u is a stranger's URL, so what the repository is asked is bounded: a failed load is remembered
 * for a short while (a dead or slow repository is not asked again on every call that names it), a call
 * asks at most a few repositories (CallRepositories), and each domain at most so many new fetches a
 * second (HostFetchBudget). Each refusal fails the identity at once, saying why.
 */
export class CachingCertificateSource implements CertificateSource {
  private readonly memory = new LRUCache<string, Credential>({
    max: 2_000,
    maxSize: 16 * 1024 * 1024,
    sizeCalculation: (credential) => Math.max(1, credential.bytes),
  });
  private readonly inflight = new Map<string, Promise<Credential>>();
  private readonly failures = new LRUCache<string, RememberedFailure>({ max: 2_000 });
  private readonly hostBudget: HostFetchBudget | null;

  constructor(private readonly options: CachingSourceOptions) {
    const perSecond = options.hostFetchesPerSecond ?? 0;
    this.hostBudget = perSecond > 0 ? new HostFetchBudget(perSecond, perSecond * HOST_BURST_SECONDS, options.clock) : null;
  }

  cached(x5u: URL): Credential | undefined {
    const cached = this.memory.get(x5u.href);
    if (cached) this.options.observer?.cacheLookup(true); // a miss is counted by the credential() that follows
    return cached;
  }

  credential(x5u: URL, call?: CallRepositories): Promise<Credential> {
    const key = x5u.href;
    const cached = this.memory.get(key);
    this.options.observer?.cacheLookup(cached !== undefined);
    if (cached) return Promise.resolve(cached);
    let pending = this.inflight.get(key);
    if (pending) return pending;
    const refusal = this.rememberedFailure(key) ?? call?.admit(key) ?? null;
    if (refusal) {
      this.options.observer?.refused?.(refusal.reason);
      return Promise.reject(refusal);
    }
    pending = this.load(x5u)
      .catch((error: unknown) => {
        this.remember(key, error);
        throw error;
      })
      .finally(() => this.inflight.delete(key));
    this.inflight.set(key, pending);
    return pending;
  }

  /** The failure still remembered for this x5u, as a refusal that quotes it and says when the repository is asked again. */
  private rememberedFailure(key: string): FetchRefused | null {
    const failure = this.failures.get(key);
    if (!failure) return null;
    const now = this.options.clock.now();
    if (now >= failure.retryAtMs) {
      this.failures.delete(key);
      return null;
    }
    const retryAt = new Date(failure.retryAtMs).toISOString();
    const seconds = Math.ceil((failure.retryAtMs - now) / 1000);
    // The failure's own outcome row: a body that is no chain stays X5U_NOT_CERTIFICATE_CHAIN.
    return new FetchRefused("remembered-failure", `remembered failure, not fetched again before ${retryAt} (in ${seconds} s): ${failure.error.message}`, { ...failure.error.evidence, retryAt }, failure.error.failure);
  }

  /** A load the repository failed (unreachable, timed out, HTTP error, too big, not a chain) is remembered; a refusal is not the repository's doing. */
  private remember(key: string, error: unknown): void {
    const ttlSeconds = this.options.failureTtlSeconds ?? 0;
    if (ttlSeconds > 0 && error instanceof VerificationError && !(error instanceof FetchRefused)) {
      this.failures.set(key, { error, retryAtMs: this.options.clock.now() + ttlSeconds * 1000 });
    }
  }

  /** How many credentials the in-isolate cache holds (for metrics and tests). */
  get size(): number {
    return this.memory.size;
  }

  private async load(x5u: URL): Promise<Credential> {
    const { sharedCache, clock } = this.options;
    const cacheKey = new Request(x5u.href, { method: "GET" });
    const shared = sharedCache
      ? await withTimeout(readShared(sharedCache.cache, cacheKey), SHARED_CACHE_READ_TIMEOUT_MS, "the shared certificate cache lookup").catch((error: unknown) => {
          if (error instanceof TimeoutError) sharedCache.onReadTimeout?.("certificates");
          return null;
        })
      : null;
    if (shared) {
      const credential = await parseCredential(x5u.href, shared.body);
      const remaining = shared.expiresAtMs - clock.now();
      if (remaining > 0) this.memory.set(x5u.href, credential, { ttl: remaining });
      return credential;
    }

    const locationBudget = this.options.locationBudget ?? null;
    const domain = this.hostBudget || locationBudget ? await fetchBudgetDomain(x5u.hostname) : x5u.hostname;
    const asked = domain === x5u.hostname ? shortened(domain) : `${shortened(domain)} (the domain of ${shortened(x5u.hostname)})`;
    const evidence = { host: shortened(x5u.host), domain: shortened(domain) };
    // The isolate's budget first: a fetch it refuses takes nothing from the location's.
    if (this.hostBudget && !this.hostBudget.take(domain)) {
      this.options.observer?.refused?.("host-budget");
      throw new FetchRefused("host-budget", `not fetched: the isolate asked ${asked} for more than ${this.hostBudget.perSecond} new certificates a second; its cached certificates still verify`, evidence);
    }
    if (locationBudget && !(await locationBudget.take(domain))) {
      this.options.observer?.refused?.("location-budget");
      throw new FetchRefused("location-budget", `not fetched: this location asked ${asked} for more new certificates than X5U_FETCH_LIMITER allows; its cached certificates still verify`, evidence);
    }
    const fetchChain = () => fetchCertificateChain(x5u, this.options.limits, this.options.fetcher);
    const fetched = await (this.options.observer ? this.options.observer.timeFetch(fetchChain) : fetchChain());
    const credential = await parseCredential(x5u.href, fetched.body);
    const ttlMs = this.ttlMs(fetched.maxAgeSeconds, credential.chain[0]!);
    if (ttlMs > 0) {
      this.memory.set(x5u.href, credential, { ttl: ttlMs });
      if (sharedCache) {
        const expires = clock.now() + ttlMs;
        const stored = new Response(fetched.body, {
          headers: {
            "Content-Type": "application/pem-certificate-chain",
            "Cache-Control": `max-age=${Math.floor(ttlMs / 1000)}`,
            "X-Shaken-Expires": String(expires),
          },
        });
        // After the response, bounded: the credential is in use already, and a cache outage only costs a refetch.
        void sharedCache.writes.start(() => sharedCache.cache.put(cacheKey, stored), "cache-write:certificates", "the shared certificate cache write").catch(() => undefined);
      }
    }
    return credential;
  }

  /** RFC 7234 lifetime, floored at the ATIS minimum, never beyond the leaf's notAfter (as Asterisk does). */
  private ttlMs(maxAgeSeconds: number | null, leaf: X509Certificate): number {
    const lifetime = Math.max(maxAgeSeconds ?? 0, this.options.minimumTtlSeconds) * 1000;
    return Math.max(0, Math.min(lifetime, leaf.notAfter.getTime() - this.options.clock.now()));
  }
}

export const DEFAULT_MINIMUM_TTL_SECONDS = DAY_SECONDS;

/** A chain the location's cache holds, and until when (null: none). */
async function readShared(cache: Cache, key: Request): Promise<{ body: string; expiresAtMs: number } | null> {
  const response = await cache.match(key);
  if (!response) return null;
  // Stored as the strictly decoded PEM the fetch read. Read as bytes: `text()` on a
  // application/pem-certificate-chain body makes workerd log a "not text" warning per read.
  return { body: decodeUtf8Strict(new Uint8Array(await response.arrayBuffer())), expiresAtMs: Number(response.headers.get("X-Shaken-Expires") ?? 0) };
}

export async function parseCredential(x5u: string, body: string): Promise<Credential> {
  const chain = parsePemChain(body);
  refuseIssuerLoop(chain);
  return { x5u, chain, leafKey: await importLeafKey(chain[0]!), paths: new Map(), bytes: heapCostOf(body, chain) };
}

/**
 * What a credential costs the isolate's heap, for the in-isolate cache's byte bound: its body kept
 * (two bytes a character) and decoded, and the objects the parser builds for each certificate and
 * each of its extensions. Measured in Node (heap and external memory, after a collection): a SHAKEN
 * leaf with its intermediate costs ~14 KB, and this charges ~20 KB; the costliest bodies the chain's
 * bounds allow (src/certificate/pem-chain.ts: 8 certificates of 32 extensions, or 30 KB of extension
 * values) cost 0.5 and 0.75 of what this charges them.
 */
function heapCostOf(body: string, chain: X509Certificate[]): number {
  const extensions = chain.reduce((sum, certificate) => sum + extensionCountOf(certificate), 0);
  return 3 * body.length + 3_072 * chain.length + 512 * extensions + 4_096;
}

/**
 * A PEM chain lists each certificate's issuer after it (RFC 8555 §9.1). A body whose issuer names lead
 * back to a certificate already on the way (A issued by B issued by A) is no chain at all: refused as
 * bad content (436) before path building, instead of being explored and reported as an untrusted path.
 */
function refuseIssuerLoop(chain: X509Certificate[]): void {
  let current = chain[0]!;
  const visited = new Set([current]);
  for (;;) {
    const names = comparableNamesOf(current);
    if (names.issuer === names.subject) return; // self-issued: the chain ends at a root
    // Names compared as path building compares them (RFC 5280 §7.1), so a loop re-spelt is still a loop.
    const issuer = chain.find((candidate) => candidate !== current && comparableNamesOf(candidate).subject === names.issuer);
    if (!issuer) return;
    if (visited.has(issuer)) {
      throw new VerificationError("X5U_NOT_CERTIFICATE_CHAIN", `repository chain loops: '${shortened(issuer.subject)}' is, through the chain, its own issuer`);
    }
    visited.add(issuer);
    current = issuer;
  }
}

/** SHAKEN signs with ES256 only, so the leaf key must be an EC P-256 key (ATIS-1000080 §6.3.1). */
async function importLeafKey(leaf: X509Certificate): Promise<CryptoKey | VerificationError> {
  const algorithm = leaf.publicKey.algorithm as { name: string; namedCurve?: string };
  if (algorithm.name !== "ECDSA" || algorithm.namedCurve !== "P-256") {
    const described = algorithm.namedCurve ? `${algorithm.name} ${algorithm.namedCurve}` : algorithm.name;
    return new VerificationError("KEY_UNSUPPORTED", `signing certificate key is ${described}; SHAKEN requires EC P-256`);
  }
  try {
    return await leaf.publicKey.export({ name: "ECDSA", namedCurve: "P-256" }, ["verify"]);
  } catch {
    return new VerificationError("KEY_UNSUPPORTED", "signing certificate's P-256 key could not be imported");
  }
}

/** Validates the credential's paths against a trust set once per trust-set version. */
export function trustedPathsFor(credential: Credential, trustVersion: string, anchors: X509Certificate[]): Promise<TrustedPath[] | VerificationError> {
  let paths = credential.paths.get(trustVersion);
  if (!paths) {
    paths = buildTrustedPaths(credential.chain, anchors).catch((error: unknown) => {
      if (error instanceof VerificationError) return error;
      throw error;
    });
    credential.paths.clear(); // only the current trust set matters
    credential.paths.set(trustVersion, paths);
  }
  return paths;
}
