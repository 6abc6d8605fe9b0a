import { afterEach, describe, expect, it, vi } from "vitest";
import { type Fetcher, fetchBounded, fetchCertificateChain, type FetchLimits, freshnessLifetime } from "../../../src/certificate/fetch-chain";
import { VerificationError } from "../../../src/verification/outcomes";

/**
 * The bounded GET of src/certificate/fetch-chain.ts against a fake repository: the request it sends,
 * redirects and HTTP errors refused with their evidence, the size bound on the declared length and on
 * the streamed body (exactly the limit passes, one byte more does not), the time bound on the answer and
 * on the body, and the RFC 7234 §4.2.1 freshness lifetime read from the response headers.
 */
const CHAIN_URL = new URL("https://cr.example.net/sp.pem");
const LIMITS: FetchLimits = { timeoutMs: 1_000, maxBytes: 8 };
const SLOW: FetchLimits = { timeoutMs: 20, maxBytes: 8 };

/** A fetcher answering `answer(request)`, keeping every request it was given. */
function repository(answer: (request: Request) => Response | Promise<Response>) {
  const requests: Request[] = [];
  const fetcher: Fetcher = async (request) => {
    requests.push(request);
    return answer(request);
  };
  return { fetcher, requests };
}

/** A body streaming `chunks`, then closing (or erroring with `end`), that records being cancelled. */
function body(chunks: number[][], end?: Error) {
  const state = { cancelled: false };
  let next = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (next < chunks.length) controller.enqueue(new Uint8Array(chunks[next++]!));
      else if (end) controller.error(end);
      else controller.close();
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { stream, state };
}

/** What a refused fetch threw: its failure, message and evidence. */
async function refusal(promise: Promise<unknown>) {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(VerificationError);
  const { failure, message, evidence } = error as VerificationError;
  return { failure, message, evidence };
}

const fetchFailed = (message: string, evidence?: Record<string, unknown>) => ({ failure: "X5U_FETCH_FAILED", message, evidence });
const bytesOf = async (answer: Response | (() => Response), limits = LIMITS) => Array.from((await fetchBounded(CHAIN_URL, limits, repository(answer instanceof Response ? () => answer : answer).fetcher, "application/pkix-crl")).bytes);

describe("the request sent to the repository", () => {
  it("is a GET of the URL that follows no redirect, names the accepted type and carries an abort signal", async () => {
    const { fetcher, requests } = repository(() => new Response("crl"));
    const { headers } = await fetchBounded(CHAIN_URL, LIMITS, fetcher, "application/pkix-crl");
    expect(requests).toHaveLength(1);
    const [request] = requests;
    expect([request!.url, request!.method, request!.redirect, request!.headers.get("Accept")]).toEqual([CHAIN_URL.href, "GET", "manual", "application/pkix-crl"]);
    expect(request!.signal).toBeInstanceOf(AbortSignal);
    expect(request!.signal.aborted).toBe(false);
    expect(headers).toBeInstanceOf(Headers);
  });

  it("asks a certificate repository for application/pem-certificate-chain", async () => {
    const { fetcher, requests } = repository(() => new Response("pem"));
    await fetchCertificateChain(CHAIN_URL, LIMITS, fetcher);
    expect(requests[0]!.headers.get("Accept")).toBe("application/pem-certificate-chain");
  });
});

describe("the status answered", () => {
  it("refuses a 3xx, never followed, with its status and Location (cut to 256 characters) as evidence, and cancels its body", async () => {
    const location = `https://10.0.0.1/${"a".repeat(300)}`;
    const { stream, state } = body([[1]]);
    const answer = new Response(stream, { status: 302, headers: { Location: location } });
    expect(await refusal(bytesOf(answer))).toStrictEqual(fetchFailed("repository answered 302 (redirect); redirects are never followed", { status: 302, location: location.slice(0, 256) }));
    expect(state.cancelled).toBe(true);
  });

  it("refuses 300 and 399 alike, with a null location when none is given", async () => {
    for (const status of [300, 399]) {
      expect(await refusal(bytesOf(new Response(null, { status })))).toStrictEqual(fetchFailed(`repository answered ${status} (redirect); redirects are never followed`, { status, location: null }));
    }
  });

  it("refuses a 4xx or 5xx with its status as evidence, and cancels its body", async () => {
    const { stream, state } = body([[1]]);
    expect(await refusal(bytesOf(new Response(stream, { status: 503 })))).toStrictEqual(fetchFailed("repository answered HTTP 503", { status: 503 }));
    expect(state.cancelled).toBe(true);
    expect(await refusal(bytesOf(new Response(null, { status: 400 })))).toStrictEqual(fetchFailed("repository answered HTTP 400", { status: 400 }));
  });

  it("reads a 299 as success", async () => {
    expect(await bytesOf(new Response(new Uint8Array([7]), { status: 299 }))).toEqual([7]);
  });
});

describe("a repository that cannot be reached", () => {
  it("is refused with the error's message, cut to 200 characters", async () => {
    const { fetcher } = repository(() => {
      throw new Error(`connection refused ${"x".repeat(300)}`);
    });
    expect(await refusal(fetchBounded(CHAIN_URL, LIMITS, fetcher, "*/*"))).toStrictEqual(fetchFailed(`repository unreachable: ${`connection refused ${"x".repeat(300)}`.slice(0, 200)}`));
  });

  it("is refused with what it threw when that is no Error, cut to 200 characters", async () => {
    const { fetcher } = repository(() => {
      throw `dns ${"y".repeat(300)}`;
    });
    expect(await refusal(fetchBounded(CHAIN_URL, LIMITS, fetcher, "*/*"))).toStrictEqual(fetchFailed(`repository unreachable: ${`dns ${"y".repeat(300)}`.slice(0, 200)}`));
  });

  it("is refused as not answering in time when it waits past the timeout", async () => {
    const { fetcher } = repository(
      (request) => new Promise<Response>((_, reject) => request.signal.addEventListener("abort", () => reject(new Error("aborted")))),
    );
    expect(await refusal(fetchBounded(CHAIN_URL, SLOW, fetcher, "*/*"))).toStrictEqual(fetchFailed("repository did not answer within 20 ms"));
  });
});

describe("the size of the body", () => {
  it("reads a body whose declared Content-Length is exactly the limit", async () => {
    expect(await bytesOf(new Response(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), { headers: { "Content-Length": "8" } }))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("refuses a declared Content-Length one byte over the limit before reading, and cancels the body", async () => {
    const { stream, state } = body([[1]]);
    const answer = new Response(stream, { headers: { "Content-Length": "9" } });
    expect(await refusal(bytesOf(answer))).toStrictEqual(fetchFailed("repository body is 9 bytes; at most 8 are read"));
    expect(state.cancelled).toBe(true);
  });

  it("refuses a declared Content-Length over the limit on an answer without a body", async () => {
    const answer = new Response(null, { headers: { "Content-Length": "9" } });
    expect(answer.body).toBeNull();
    expect(await refusal(bytesOf(answer))).toStrictEqual(fetchFailed("repository body is 9 bytes; at most 8 are read"));
  });

  it("reads a streamed body of exactly the limit, its chunks joined in order", async () => {
    const { stream } = body([[1, 2, 3], [4], [], [5, 6, 7, 8]]);
    expect(await bytesOf(new Response(stream))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("refuses a streamed body one byte over the limit, and cancels it", async () => {
    const { stream, state } = body([[1, 2, 3, 4], [5, 6, 7, 8], [9], [10]]);
    expect(await refusal(bytesOf(new Response(stream)))).toStrictEqual(fetchFailed("repository body exceeds 8 bytes"));
    expect(state.cancelled).toBe(true);
  });

  it("reads no body as no bytes", async () => {
    expect(await bytesOf(new Response(null, { status: 200 }))).toEqual([]);
  });
});

describe("a body that breaks off", () => {
  it("is refused with the stream's error, cut to 200 characters", async () => {
    const { stream } = body([[1, 2]], new Error(`reset ${"z".repeat(300)}`));
    expect(await refusal(bytesOf(new Response(stream)))).toStrictEqual(fetchFailed(`reading repository body failed: ${`reset ${"z".repeat(300)}`.slice(0, 200)}`));
  });

  it("is refused as incomplete in time when it stalls past the timeout", async () => {
    const stalling = (request: Request) =>
      new Response(
        new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(new Uint8Array([1]));
          },
          pull(controller) {
            return new Promise<void>((resolve) => {
              request.signal.addEventListener("abort", () => {
                controller.error(new Error("aborted"));
                resolve();
              });
            });
          },
        }),
      );
    const { fetcher } = repository(stalling);
    expect(await refusal(fetchBounded(CHAIN_URL, SLOW, fetcher, "*/*"))).toStrictEqual(fetchFailed("repository body not complete within 20 ms"));
  });
});

describe("a certificate chain", () => {
  it("is the body as text, with the freshness lifetime the repository gave", async () => {
    const { fetcher } = repository(() => new Response("PEM", { headers: { "Cache-Control": "max-age=60" } }));
    expect(await fetchCertificateChain(CHAIN_URL, LIMITS, fetcher)).toEqual({ body: "PEM", maxAgeSeconds: 60 });
  });

  it("is refused when the body is not UTF-8", async () => {
    const { fetcher } = repository(() => new Response(new Uint8Array([0x2d, 0xff, 0xfe])));
    expect(await refusal(fetchCertificateChain(CHAIN_URL, LIMITS, fetcher))).toStrictEqual({ failure: "X5U_NOT_CERTIFICATE_CHAIN", message: "repository body is not text (expected a PEM chain)", evidence: undefined });
  });

  it("is refused with the fetch's own failure when the fetch fails", async () => {
    const { fetcher } = repository(() => new Response(null, { status: 404 }));
    expect(await refusal(fetchCertificateChain(CHAIN_URL, LIMITS, fetcher))).toStrictEqual(fetchFailed("repository answered HTTP 404", { status: 404 }));
  });
});

describe("the freshness lifetime (RFC 7234 §4.2.1)", () => {
  const lifetime = (headers: Record<string, string>) => freshnessLifetime(new Headers(headers));
  afterEach(() => vi.restoreAllMocks());

  it("is s-maxage before max-age, wherever each stands", () => {
    expect(lifetime({ "Cache-Control": "max-age=300" })).toBe(300);
    expect(lifetime({ "Cache-Control": "s-maxage=60, max-age=300" })).toBe(60);
    expect(lifetime({ "Cache-Control": "max-age=300, s-maxage=60" })).toBe(60);
    expect(lifetime({ "Cache-Control": "max-age=0" })).toBe(0);
  });

  it("reads quoted values, any case and spaces around the equals sign", () => {
    expect(lifetime({ "Cache-Control": 'max-age="120"' })).toBe(120);
    expect(lifetime({ "Cache-Control": "public, MAX-AGE = 7" })).toBe(7);
    expect(lifetime({ "Cache-Control": "S-MaxAge=9,max-age=1" })).toBe(9);
  });

  it("takes a directive only at the start or after a comma", () => {
    expect(lifetime({ "Cache-Control": "xmax-age=5" })).toBeNull();
    expect(lifetime({ "Cache-Control": "public; max-age=5" })).toBeNull();
    expect(lifetime({ "Cache-Control": "xs-maxage=5, max-age=8" })).toBe(8);
    expect(lifetime({ "Cache-Control": "public" })).toBeNull();
  });

  it("is 0 for no-store or no-cache, unless an age is given", () => {
    expect(lifetime({ "Cache-Control": "no-store" })).toBe(0);
    expect(lifetime({ "Cache-Control": "public, NO-CACHE" })).toBe(0);
    expect(lifetime({ "Cache-Control": "no-cache, max-age=60" })).toBe(60);
    expect(lifetime({ "Cache-Control": "xno-store" })).toBeNull();
    expect(lifetime({ "Cache-Control": "no-stored" })).toBeNull();
  });

  it("is Expires − Date in whole seconds, rounded down, and never below 0", () => {
    expect(lifetime({ Date: "2026-06-01T00:00:00.000Z", Expires: "2026-06-01T00:01:30.900Z" })).toBe(90);
    expect(lifetime({ Date: "Mon, 01 Jun 2026 00:00:00 GMT", Expires: "Mon, 01 Jun 2026 01:00:00 GMT" })).toBe(3_600);
    expect(lifetime({ Date: "2026-06-01T00:00:00.000Z", Expires: "2026-05-31T23:59:00.000Z" })).toBe(0);
  });

  it("counts Expires from now when Date is missing or unreadable", () => {
    vi.spyOn(Date, "now").mockReturnValue(Date.parse("2026-06-01T00:00:00.000Z"));
    expect(lifetime({ Expires: "2026-06-01T00:00:10.500Z" })).toBe(10);
    expect(lifetime({ Date: "yesterday", Expires: "2026-06-01T00:00:10.500Z" })).toBe(10);
  });

  it("is null when Expires is unreadable or nothing is said", () => {
    expect(lifetime({ Date: "2026-06-01T00:00:00.000Z", Expires: "never" })).toBeNull();
    expect(lifetime({})).toBeNull();
  });
});
