import type { MiddlewareHandler } from "hono";

/** ATIS-1000082: echo the client's X-RequestID, or generate one. A hostile value is replaced, not echoed. */
export const requestId: MiddlewareHandler<{ Variables: { requestId: string } }> = async (c, next) => {
  const presented = c.req.header("X-RequestID");
  const id = presented !== undefined && /^[\x21-\x7e]{1,128}$/.test(presented) ? presented : crypto.randomUUID();
  c.set("requestId", id);
  await next();
  // The response is ours and its headers are mutable: set the header in place. Hono's `c.header()` on a
  // finished response copies it (a second Response, Headers and a body stream per request, all of which
  // wait for a major GC to be freed: the pauses behind the latency tail in BENCHMARKS.md). It remains
  // the fallback for a response whose headers are immutable.
  try {
    c.res.headers.set("X-RequestID", id);
  } catch {
    c.header("X-RequestID", id);
  }
};
