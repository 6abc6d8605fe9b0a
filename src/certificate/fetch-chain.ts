import { decodeUtf8Strict } from "../lib/utf8";
import { VerificationError } from "../verification/outcomes";

export interface FetchLimits {
  /** Whole exchange, headers and body (Asterisk uses 2 s). */
  timeoutMs: number;
  /** Largest body read; a three-certificate P-256 chain is ~2.5 KiB (Asterisk caps at a few KiB, AST-2022-001). */
  maxBytes: number;
}

export interface FetchedChain {
  body: string;
  /** Freshness lifetime the repository gave (Cache-Control max-age / s-maxage, or Expires), in seconds. */
  maxAgeSeconds: number | null;
}

export type Fetcher = (request: Request) => Promise<Response>;

const fetchFailed = (description: string, evidence?: Record<string, unknown>) =>
  new VerificationError("X5U_FETCH_FAILED", description, evidence);

/**
 * GETs a certificate chain from a repository URL that already passed the x5u policy.
 * Redirects are never followed (ATIS-1000074 §5.3.1): a 3xx is a failure, so a permitted host cannot
 * bounce the verifier to a private one. Time and size are bounded while streaming.
 */
export async function fetchCertificateChain(url: URL, limits: FetchLimits, fetcher: Fetcher): Promise<FetchedChain> {
  const { bytes, headers } = await fetchBounded(url, limits, fetcher, "application/pem-certificate-chain");
  try {
    return { body: decodeUtf8Strict(bytes), maxAgeSeconds: freshnessLifetime(headers) };
  } catch {
    throw new VerificationError("X5U_NOT_CERTIFICATE_CHAIN", "repository body is not text (expected a PEM chain)");
  }
}

/**
 * The bounded GET behind every fetch from a URL someone else chose (a PASSporT's x5u, a CRL's
 * distribution point): no redirects, time and size bounded while streaming; failures are
 * X5U_FETCH_FAILED errors saying what went wrong.
 */
export async function fetchBounded(url: URL, limits: FetchLimits, fetcher: Fetcher, accept: string): Promise<{ bytes: Uint8Array; headers: Headers }> {
  const signal = AbortSignal.timeout(limits.timeoutMs);
  let response: Response;
  try {
    response = await fetcher(new Request(url, { method: "GET", redirect: "manual", signal, headers: { Accept: accept } }));
  } catch (error) {
    throw fetchFailed(signal.aborted ? `repository did not answer within ${limits.timeoutMs} ms` : `repository unreachable: ${describe(error)}`);
  }
  if (response.status >= 300 && response.status < 400) {
    await response.body?.cancel();
    throw fetchFailed(`repository answered ${response.status} (redirect); redirects are never followed`, {
      status: response.status,
      location: response.headers.get("Location")?.slice(0, 256) ?? null,
    });
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw fetchFailed(`repository answered HTTP ${response.status}`, { status: response.status });
  }
  const declared = Number(response.headers.get("Content-Length") ?? "NaN");
  if (declared > limits.maxBytes) {
    await response.body?.cancel();
    throw fetchFailed(`repository body is ${declared} bytes; at most ${limits.maxBytes} are read`);
  }
  return { bytes: await readBounded(response, limits, signal), headers: response.headers };
}

async function readBounded(response: Response, limits: FetchLimits, signal: AbortSignal): Promise<Uint8Array> {
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limits.maxBytes) {
        await reader.cancel();
        throw fetchFailed(`repository body exceeds ${limits.maxBytes} bytes`);
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof VerificationError) throw error;
    throw fetchFailed(signal.aborted ? `repository body not complete within ${limits.timeoutMs} ms` : `reading repository body failed: ${describe(error)}`);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** RFC 7234 §4.2.1 freshness lifetime: s-maxage, then max-age, then Expires − Date. */
export function freshnessLifetime(headers: Headers): number | null {
  const cacheControl = headers.get("Cache-Control") ?? "";
  for (const directive of ["s-maxage", "max-age"]) {
    const match = new RegExp(`(?:^|,)\\s*${directive}\\s*=\\s*"?(\\d+)"?`, "i").exec(cacheControl);
    if (match) return Number(match[1]);
  }
  if (/(?:^|,)\s*(no-store|no-cache)\b/i.test(cacheControl)) return 0;
  const expires = Date.parse(headers.get("Expires") ?? "");
  if (Number.isNaN(expires)) return null;
  const date = Date.parse(headers.get("Date") ?? "");
  return Math.max(0, Math.floor((expires - (Number.isNaN(date) ? Date.now() : date)) / 1000));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message.slice(0, 200) : String(error).slice(0, 200);
}
