import { BEARER_CHALLENGE, respondJson } from "./json-response";

/** The native API's error body: a stable code, a message saying what was wrong, and the field when one was. */
export function nativeError(status: number, code: string, message: string, extra: Record<string, unknown> = {}): Response {
  return respondJson({ error: { code, message, ...extra } }, status, status === 401 ? BEARER_CHALLENGE : {});
}

/**
 * D1 reports a failed query as `D1_ERROR: …` (or `D1_EXEC_ERROR`, `D1_DUMP_ERROR`): the database was
 * unreachable, overloaded or reset, none of which the caller did. `D1_TYPE_ERROR` and
 * `D1_COLUMN_NOTFOUND` are our own mistakes in a query, and stay 500s.
 */
const STORE_OUTAGE = /^D1_(?:ERROR|EXEC_ERROR|DUMP_ERROR)\b/;

export function isStoreOutage(error: unknown): boolean {
  return error instanceof Error && STORE_OUTAGE.test(error.message);
}

/** Seconds a client should wait before retrying a request that met a store outage. */
export const STORE_RETRY_AFTER_SECONDS = 5;

export function storeUnavailable(): Response {
  const response = nativeError(503, "ERR_STORE_UNAVAILABLE", "the database did not answer; retry later (the request id names this failure in the logs)");
  response.headers.set("Retry-After", String(STORE_RETRY_AFTER_SECONDS));
  return response;
}
