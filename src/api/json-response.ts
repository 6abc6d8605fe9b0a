/**
 * A JSON response built directly, not through Hono's `c.json()`: on the verdict routes `c.json()` made
 * a `Headers` object of its own and copied it into the response's, one more C++ object per call for
 * workerd's collector to sweep in the full collections that set the latency tail (BENCHMARKS.md "The
 * half-rate tail"). The Content-Type is the one `c.json()` sets.
 */
export function respondJson(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });
}

/** The challenge a 401 carries, in both APIs' errors. */
export const BEARER_CHALLENGE = { "WWW-Authenticate": 'Bearer realm="shaken-edge"' } as const;
