import "../lib/reflect-metadata";
import { X509Certificate, X509Crl } from "@peculiar/x509";
import type { LocationCache } from "../lib/background-writes";
import type { Clock } from "../lib/clock";
import { TimeoutError, withTimeout } from "../lib/timeout";
import { CRLS_KEY, parseCrlDocument, parseTrustAnchorDocument, TRUST_ANCHORS_KEY } from "./trust-format";

/** The trust anchors, CRL signers and CRLs in force, with a version that changes whenever any changes. */
export interface TrustMaterial {
  version: string;
  /** Where certificate paths may end: the STI-CA roots. */
  anchors: X509Certificate[];
  /** Keys trusted to sign CRLs only (the STI-PA's CRL signer): never the anchor of a path. */
  crlSigners: X509Certificate[];
  crls: X509Crl[];
  /**
   * False when no trust set could be read at all (the store is down, or its documents unreadable, and
   * nothing was kept): the credential cannot be judged, which is no failed verification.
   */
  available: boolean;
  /** Why the last refresh failed, when the material in use is older than it should be. */
  staleBecause: string | null;
}

export interface TrustSource {
  current(): Promise<TrustMaterial>;
  /** The material when it is loaded and not due for a refresh, without waiting: a warm call needs no deadline race. */
  fresh?(): TrustMaterial | null;
}

/** No trust set: the store did not answer and nothing was kept. */
export const unavailableTrust = (reason: string): TrustMaterial => ({ version: "unavailable", anchors: [], crlSigners: [], crls: [], available: false, staleBecause: reason });

/** The one KV operation the trust source needs (a Workers KV namespace satisfies it). */
export interface TextStore {
  get(key: string): Promise<string | null>;
}

/** The two documents as KV holds them (null: never pushed). */
interface TrustDocuments {
  anchors: string | null;
  crls: string | null;
}

/**
 * The last good trust set, where a fresh isolate finds it while KV is down (the location's Workers cache).
 * The x5u layer keeps chains in the same cache under the x5u's own URL, which a PASSporT's signer
 * writes: this key is a plain-http one, which the x5u policy never accepts (https only; plain http only
 * to loopback, in development), so no x5u reads this copy or stores a chain over it.
 */
export const LAST_GOOD_KEY = "http://trust-set.shaken-edge.internal/v1";
/** Kept for a month: every isolate writes it again on its first load, so a live deployment never lets it expire. */
const LAST_GOOD_MAX_AGE_SECONDS = 30 * 86_400;
/** A KV read that has not answered by then is an outage: the last good set is used instead of waiting on. */
const KV_READ_TIMEOUT_MS = 2_000;
/**
 * The location's cache answers within milliseconds: a lookup of the last good set (and the read of its
 * body) that has not answered by then finds none, so that one that never answers cannot hold the load,
 * and every verdict waiting on it, for the isolate's life.
 */
const LAST_GOOD_READ_TIMEOUT_MS = 500;

/**
 * Reads the trust set the CLI pushes into KV (`shaken-edge trust push`, `crl push`), once per refresh
 * interval per isolate, so the running verifier picks up new anchors and CRLs without a redeploy and
 * reads KV at most once per interval. A KV outage keeps the isolate's last good set in use rather than
 * failing calls; an isolate that has none yet (a cold start during the outage) reads the last good set
 * every isolate keeps in the location's cache (issue 22 item 4), and only without that is the trust set
 * unavailable.
 */
export class KvTrustSource implements TrustSource {
  private material: TrustMaterial | null = null;
  private loadedAt = 0;
  private loading: Promise<TrustMaterial> | null = null;
  /** The version this isolate last wrote to (or read from) the location's cache. */
  private keptVersion: string | null = null;

  constructor(
    private readonly kv: TextStore,
    private readonly clock: Clock,
    private readonly refreshMs: number,
    private readonly lastGood: LocationCache | null,
  ) {}

  fresh(): TrustMaterial | null {
    return this.material && this.clock.now() - this.loadedAt < this.refreshMs ? this.material : null;
  }

  async current(): Promise<TrustMaterial> {
    const fresh = this.fresh();
    if (fresh) return fresh;
    this.loading ??= this.load().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  private async load(): Promise<TrustMaterial> {
    try {
      const [anchors, crls] = await withTimeout(Promise.all([this.kv.get(TRUST_ANCHORS_KEY), this.kv.get(CRLS_KEY)]), KV_READ_TIMEOUT_MS, "the TRUST KV read");
      this.material = await this.adopt({ anchors, crls }, null);
      this.keep({ anchors, crls }, this.material.version);
    } catch (error) {
      const reason = `trust store refresh failed: ${error instanceof Error ? error.message : String(error)}`.slice(0, 300);
      // An isolate that has a set keeps it; one that has none (yet) looks for the kept one on every refresh.
      this.material = this.material?.available ? { ...this.material, staleBecause: reason } : ((await this.readLastGood(reason)) ?? unavailableTrust(reason));
    }
    this.loadedAt = this.clock.now();
    return this.material;
  }

  /** The material for these documents; the loaded objects themselves when the version has not changed, so per-set caches stay warm. */
  private async adopt(documents: TrustDocuments, staleBecause: string | null): Promise<TrustMaterial> {
    const version = await digest(`${documents.anchors ?? ""}\n${documents.crls ?? ""}`);
    if (this.material?.version === version) return { ...this.material, staleBecause };
    const entries = documents.anchors ? parseTrustAnchorDocument(documents.anchors).anchors : [];
    const certificates = (use: "anchor" | "crl-signer") => entries.filter((entry) => (entry.use ?? "anchor") === use).map((entry) => new X509Certificate(entry.pem));
    return {
      version,
      anchors: certificates("anchor"),
      crlSigners: certificates("crl-signer"),
      crls: documents.crls ? parseCrlDocument(documents.crls).crls.map((entry) => new X509Crl(entry.pem)) : [],
      available: true,
      staleBecause,
    };
  }

  /**
   * Starts writing a newly read version to the location's cache, in the background: the set is in use
   * as soon as it is read, whatever the cache does. A cache outage costs only the fallback, and a write
   * that fails (or is abandoned) is tried again on the next load.
   */
  private keep(documents: TrustDocuments, version: string): void {
    if (!this.lastGood || this.keptVersion === version) return;
    const body = JSON.stringify({ version, keptAt: new Date(this.clock.now()).toISOString(), ...documents });
    const response = new Response(body, { headers: { "Content-Type": "application/json", "Cache-Control": `max-age=${LAST_GOOD_MAX_AGE_SECONDS}` } });
    const { cache, writes } = this.lastGood;
    void writes.start(() => cache.put(LAST_GOOD_KEY, response), "cache-write:trust", "the last good trust set's cache write").then(
      () => void (this.keptVersion = version),
      () => undefined,
    );
  }

  private async readLastGood(reason: string): Promise<TrustMaterial | null> {
    if (!this.lastGood) return null;
    const { cache } = this.lastGood;
    try {
      const read = async () => {
        const response = await cache.match(LAST_GOOD_KEY);
        return response ? await response.text() : null;
      };
      const text = await withTimeout(read(), LAST_GOOD_READ_TIMEOUT_MS, "the last good trust set's cache read");
      if (text === null) return null;
      const kept = JSON.parse(text) as TrustDocuments & { version: string; keptAt: string };
      this.keptVersion = kept.version;
      return await this.adopt(kept, `${reason}; using the last good trust set (version ${kept.version}, kept ${kept.keptAt})`);
    } catch (error) {
      if (error instanceof TimeoutError) this.lastGood.onReadTimeout?.("trust");
      return null; // an unreadable copy, or one the cache did not answer with in time, is no copy
    }
  }
}

async function digest(text: string): Promise<string> {
  const bytes = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return Array.from(bytes.subarray(0, 12), (byte) => byte.toString(16).padStart(2, "0")).join("");
}
