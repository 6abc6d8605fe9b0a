import { X509Certificate, X509Crl } from "@peculiar/x509";
import type { Clock } from "../lib/clock";
import { CRLS_KEY, parseCrlDocument, parseTrustAnchorDocument, TRUST_ANCHORS_KEY } from "./trust-format";

/** The trust anchors and CRLs in force, with a version that changes whenever either changes. */
export interface TrustMaterial {
  version: string;
  anchors: X509Certificate[];
  crls: X509Crl[];
  /** Earliest nextUpdate of the loaded CRLs (ms), or null when none is loaded. */
  crlNextUpdate: number | null;
  /** Why the last refresh failed, when the material in use is older than it should be. */
  staleBecause: string | null;
}

export interface TrustSource {
  current(): Promise<TrustMaterial>;
  /** The material when it is loaded and not due for a refresh, without waiting: a warm call needs no deadline race. */
  fresh?(): TrustMaterial | null;
}

const EMPTY: TrustMaterial = { version: "empty", anchors: [], crls: [], crlNextUpdate: null, staleBecause: null };

/**
 * Reads the trust set the CLI pushes into KV (`shaken-edge trust push`), once per refresh interval
 * per isolate, so the running verifier picks up new anchors without a redeploy and reads KV at most
 * once per interval. A KV outage keeps the last good set in use rather than failing calls.
 */
/** The one KV operation the trust source needs (a Workers KV namespace satisfies it). */
export interface TextStore {
  get(key: string): Promise<string | null>;
}

export class KvTrustSource implements TrustSource {
  private material: TrustMaterial | null = null;
  private loadedAt = 0;
  private loading: Promise<TrustMaterial> | null = null;

  constructor(
    private readonly kv: TextStore,
    private readonly clock: Clock,
    private readonly refreshMs: number,
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
      const [anchorsText, crlsText] = await Promise.all([this.kv.get(TRUST_ANCHORS_KEY), this.kv.get(CRLS_KEY)]);
      const anchors = anchorsText ? parseTrustAnchorDocument(anchorsText).anchors.map((entry) => new X509Certificate(entry.pem)) : [];
      const crls = crlsText ? parseCrlDocument(crlsText).crls.map((entry) => new X509Crl(entry.pem)) : [];
      const nextUpdates = crls.map((crl) => crl.nextUpdate?.getTime()).filter((time): time is number => time !== undefined);
      this.material = {
        version: await digest(`${anchorsText ?? ""}\n${crlsText ?? ""}`),
        anchors,
        crls,
        crlNextUpdate: nextUpdates.length > 0 ? Math.min(...nextUpdates) : null,
        staleBecause: null,
      };
    } catch (error) {
      const reason = `trust store refresh failed: ${error instanceof Error ? error.message : String(error)}`.slice(0, 300);
      this.material = { ...(this.material ?? EMPTY), staleBecause: reason };
    }
    this.loadedAt = this.clock.now();
    return this.material;
  }
}

async function digest(text: string): Promise<string> {
  const bytes = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return Array.from(bytes.subarray(0, 12), (byte) => byte.toString(16).padStart(2, "0")).join("");
}
