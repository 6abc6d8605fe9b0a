/**
 * ATIS-1000082 request errors: `requestError.serviceException` / `policyException` with a messageId,
 * a text template and its variables, each with its HTTP status. One table, as for verification outcomes.
 */
import { BEARER_CHALLENGE, respondJson } from "./json-response";

export const ATIS_EXCEPTIONS = {
  SVC4000: { status: 400, kind: "serviceException", text: "Missing request body." },
  SVC4001: { status: 400, kind: "serviceException", text: "Missing mandatory parameter '%1'" },
  SVC4002: { status: 406, kind: "serviceException", text: "Requested response body type '%1' is not supported" },
  SVC4003: { status: 404, kind: "serviceException", text: "Requested resource was not found." },
  SVC4004: { status: 415, kind: "serviceException", text: "Unsupported request body type, expected '%1'" },
  SVC4005: { status: 400, kind: "serviceException", text: "Parameter '%1' requested by the client contains an invalid value '%2'" },
  SVC4006: { status: 400, kind: "serviceException", text: "Failed to parse message body" },
  SVC4007: { status: 411, kind: "serviceException", text: "Missing Content-Length header" },
  POL4001: { status: 401, kind: "policyException", text: "Authentication required: %1" },
  POL4050: { status: 405, kind: "policyException", text: "Method not allowed" },
  POL5000: { status: 500, kind: "policyException", text: "Internal Server Error. Please try again later" },
} as const;

export type AtisMessageId = keyof typeof ATIS_EXCEPTIONS;

export function atisError(messageId: AtisMessageId, variables: string[] = []): Response {
  const exception = ATIS_EXCEPTIONS[messageId];
  const body = { requestError: { [exception.kind]: { messageId, text: exception.text, variables } } };
  const headers: Record<string, string> = exception.status === 401 ? BEARER_CHALLENGE : exception.status === 405 ? { Allow: "POST" } : {};
  return respondJson(body, exception.status, headers);
}
