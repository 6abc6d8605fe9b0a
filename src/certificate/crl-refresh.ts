import "../lib/reflect-metadata";
import { X509Certificate, X509Crl } from "@peculiar/x509";
import type { Clock } from "../lib/clock";
import { decodeUtf8Strict } from "../lib/utf8";
import { fetchBounded, type Fetcher, type FetchLimits } from "./fetch-chain";
import { findCrlSigner, readCrl } from "./revocation";
import { CRLS_KEY, mergeCrls, parseCrlDocument, parseTrustAnchorDocument, TRUST_ANCHORS_KEY, type CrlDocument, type CrlSetChange } from "./trust-format";
import { checkX5uUrl, type X5uPolicy } from "./x5u-policy";

/** The KV operations the refresh needs (a Workers KV namespace satisfies it). */
export interface TrustKv {
  get(key: string): Promise<string | null>;
  put(key: string, value: string): Promise<void>;
}

export interface CrlRefreshOptions {
  /** The CRL distribution points to fetch (CRL_URLS). */
  urls: string[];
  /** The x5u SSRF policy: the same rules decide which URL may be fetched. */
  policy: X5uPolicy;
  limits: FetchLimits;
  fetcher: Fetcher;
  kv: TrustKv;
  clock: Clock;
}

/** Why a URL's CRL was not stored: a bounded set, so that it can label a metric. */
export type CrlRefreshFailure = "url" | "fetch" | "crl" | "signature" | "store";

export type CrlRefreshResult =
  | { url: string; issuer: string; change: CrlSetChange["change"]; crlNumber: string | null }
  | { url: string; failure: CrlRefreshFailure; detail: string };

const failed = (url: string, failure: CrlRefreshFailure, error: unknown): CrlRefreshResult => ({
  url,
  failure,
  detail: (error instanceof Error ? error.message : String(error)).slice(0, 300),
});

/**
 * The scheduled CRL refresh: fetches each configured CRL through the x5u SSRF policy and bounded fetch,
 * believes it only when it verifies with a certificate of the trust set named as its issuer (a CRL
 * signer such as the STI-PA's, or an anchor), and stores it in the CRL set keyed by issuer — never over
 * a newer CRL of the same issuer. One result per URL, in order.
 */
export async function refreshCrls(options: CrlRefreshOptions): Promise<CrlRefreshResult[]> {
  let signers: X509Certificate[];
  let held: CrlDocument | null;
  try {
    const [anchors, crls] = await Promise.all([options.kv.get(TRUST_ANCHORS_KEY), options.kv.get(CRLS_KEY)]);
    signers = anchors ? parseTrustAnchorDocument(anchors).anchors.map((entry) => new X509Certificate(entry.pem)) : [];
    held = crls ? parseCrlDocument(crls) : null;
  } catch (error) {
    return options.urls.map((url) => failed(url, "store", error));
  }
  const fetched = await Promise.all(options.urls.map((url) => fetchVerifiedCrl(url, signers, options)));
  const verified = fetched.filter((result): result is { url: string; crl: X509Crl } => "crl" in result);
  const { document, changes } = mergeCrls(held, verified.map(({ url, crl }) => ({ crl, source: url })), new Date(options.clock.now()));
  if (changes.some((change) => change.change === "added" || change.change === "replaced")) {
    try {
      await options.kv.put(CRLS_KEY, JSON.stringify(document));
    } catch (error) {
      return fetched.map((result) => ("crl" in result ? failed(result.url, "store", error) : result));
    }
  }
  return fetched.map((result) => {
    if (!("crl" in result)) return result;
    const change = changes[verified.indexOf(result)]!;
    return { url: result.url, issuer: change.issuer, change: change.change, crlNumber: change.crlNumber };
  });
}

async function fetchVerifiedCrl(url: string, signers: X509Certificate[], options: CrlRefreshOptions): Promise<{ url: string; crl: X509Crl } | CrlRefreshResult> {
  let target: URL;
  try {
    target = checkX5uUrl(url, options.policy);
  } catch (error) {
    return failed(url, "url", error);
  }
  let bytes: Uint8Array;
  try {
    bytes = (await fetchBounded(target, options.limits, options.fetcher, "application/pkix-crl")).bytes;
  } catch (error) {
    return failed(url, "fetch", error);
  }
  let crl: X509Crl;
  try {
    // RFC 5280 §4.2.1.13: a distribution point serves the DER CRL; PEM is read too.
    crl = bytes[0] === 0x30 ? new X509Crl(bytes) : new X509Crl(decodeUtf8Strict(bytes));
  } catch {
    return failed(url, "crl", "the body is not a CRL (DER or PEM)");
  }
  const { unusable } = readCrl(crl);
  if (unusable) return failed(url, "crl", `the CRL of '${crl.issuer}' cannot be used: ${unusable}`);
  if (!(await findCrlSigner(crl, signers))) {
    return failed(url, "signature", `the CRL of '${crl.issuer}' does not verify with a certificate of the trust set named so (trust add --crl-signer)`);
  }
  return { url, crl };
}
