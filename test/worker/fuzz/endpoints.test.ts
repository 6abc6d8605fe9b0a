import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { fuzzRuns, fuzzTimeoutMs, hostileText, inviteSeed, mutationOf } from "../../node/fuzz/mutations";
import { sbcAuth } from "../support/auth";
import { appAt, atisRequest, installTrust, signedIdentity, verdictRequest } from "../support/stir";

/**
 * Both JSON endpoints under generated and mutated requests: whatever arrives, the answer is never a
 * 5xx, always JSON, and every 4xx is the endpoint's own structured error (ATIS-1000082 requestError
 * for /stir/v1, `{error:{code,message}}` for the native API).
 */
const RUNS = fuzzRuns(2_000);
const TIMEOUT_MS = fuzzTimeoutMs(RUNS);

const app = appAt();
let identity: string;

beforeAll(async () => {
  await installTrust();
  identity = (await signedIdentity()).identity;
});

const contentType = fc.constantFrom("application/json", "application/json; charset=utf-8", "APPLICATION/JSON", "message/sip", "text/plain", "", undefined);

function send(path: string, body: string, type: string | undefined, extra: Record<string, string> = {}) {
  const headers: Record<string, string> = { ...sbcAuth, "Content-Length": String(new TextEncoder().encode(body).length), ...extra };
  if (type !== undefined) headers["Content-Type"] = type;
  return app.request(path, { method: "POST", headers, body }, env);
}

async function expectAtisAnswer(response: Response): Promise<void> {
  expect(response.status).toBeLessThan(500);
  const body = (await response.json()) as Record<string, any>;
  if (response.status >= 400) {
    const exception = body.requestError?.serviceException ?? body.requestError?.policyException;
    expect(exception).toMatchObject({ messageId: expect.stringMatching(/^(SVC|POL)\d{4}$/), text: expect.any(String), variables: expect.any(Array) });
  } else {
    expect(body.verificationResponse?.verstat).toMatch(/^(TN-Validation-Passed|TN-Validation-Failed|No-TN-Validation)$/);
  }
}

async function expectNativeAnswer(response: Response): Promise<void> {
  expect(response.status).toBeLessThan(500);
  const body = (await response.json()) as Record<string, any>;
  if (response.status >= 400) expect(body.error).toMatchObject({ code: expect.stringMatching(/^ERR_[A-Z_]+$/), message: expect.any(String) });
  else expect(body.verdict?.action).toMatch(/^(allow|tag|withhold|block)$/);
}

/** JSON values shaped like the request, with any field replaced by any JSON value. */
const jsonLike = (seed: Record<string, unknown>) =>
  fc.tuple(fc.subarray(Object.keys(seed)), fc.dictionary(fc.constantFrom(...Object.keys(seed), "extra"), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 })).map(([kept, replaced]) => ({
    ...Object.fromEntries(kept.map((key) => [key, seed[key]])),
    ...replaced,
  }));

describe("POST /stir/v1/verification (fuzzed)", () => {
  it("answers mutations of a valid request with a verification or a structured request error", async () => {
    const seed = JSON.stringify(atisRequest(identity));
    await fc.assert(fc.asyncProperty(mutationOf(seed), contentType, async (body, type) => expectAtisAnswer(await send("/stir/v1/verification", body, type))), { numRuns: RUNS });
  }, TIMEOUT_MS);

  it("answers generated JSON with a verification or a structured request error", async () => {
    const valid = atisRequest(identity).verificationRequest as Record<string, unknown>;
    const request = fc.oneof(fc.jsonValue({ maxDepth: 4 }), jsonLike(valid).map((verificationRequest) => ({ verificationRequest })));
    await fc.assert(fc.asyncProperty(request, async (body) => expectAtisAnswer(await send("/stir/v1/verification", JSON.stringify(body) ?? "null", "application/json"))), { numRuns: RUNS });
  }, TIMEOUT_MS);
});

describe("POST /v1/verdict (fuzzed)", () => {
  it("answers mutations of a valid JSON call with a verdict or a structured error", async () => {
    const seed = JSON.stringify(verdictRequest([identity]));
    await fc.assert(fc.asyncProperty(mutationOf(seed), contentType, async (body, type) => expectNativeAnswer(await send("/v1/verdict", body, type))), { numRuns: RUNS });
  }, TIMEOUT_MS);

  it("answers generated JSON calls with a verdict or a structured error", async () => {
    const request = fc.oneof(fc.jsonValue({ maxDepth: 4 }), jsonLike(verdictRequest([identity])));
    await fc.assert(fc.asyncProperty(request, async (body) => expectNativeAnswer(await send("/v1/verdict", JSON.stringify(body) ?? "null", "application/json"))), { numRuns: RUNS });
  }, TIMEOUT_MS);

  it("answers mutated and arbitrary SIP INVITEs (message/sip) with a verdict or a structured error", async () => {
    const invite = inviteSeed(identity);
    const query = fc.constantFrom("", "?trunk=domestic-1&carrier=DomesticCo&international=false", "?international=maybe", "?trunk=%00", "?trunk=" + "x".repeat(600));
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutationOf(invite), hostileText), query, async (text, search) => expectNativeAnswer(await send(`/v1/verdict${search}`, text, "message/sip"))),
      { numRuns: RUNS },
    );
  }, TIMEOUT_MS);
});
