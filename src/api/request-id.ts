import type { MiddlewareHandler } from "hono";

/** ATIS-1000082: echo the client's X-RequestID, or generate one. A hostile value is replaced, not echoed. */
export const requestId: MiddlewareHandler<{ Variables: { requestId: string } }> = async (c, next) => {
  const presented = c.req.header("X-RequestID");
  const id = presented !== undefined && /^[\x21-\x7e]{1,128}$/.test(presented) ? presented : crypto.randomUUID();
  c.set("requestId", id);
  await next();
  c.header("X-RequestID", id);
};
