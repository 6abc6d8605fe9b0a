import { Hono } from "hono";
import { describeRoute } from "hono-openapi";
import * as z from "zod";
import { scheduleMetricsFlush } from "../metrics/isolate-counters";
import { recordDependencyTrouble, recordVerificationMetrics } from "../metrics/record";
import { jsonBody, jsonResponse, SBC_SECURITY } from "../openapi/shared";
import { backgroundTasks, type AppEnv } from "./app-env";
import { atisError } from "./atis-errors";
import { BodyTooLargeError, readBoundedText } from "./body";
import { failReplays, verifyCall, type CallVerification } from "../verification/verify-call";
import { checkReplay, replayDepsOf } from "../abuse/replay";
import type { Runtime } from "../runtime";
import { boundVerifier, Deadline } from "../verdict/deadline";
import { canonicalizeTnPreferringE164 } from "../numbers/telephone-number";
import { parseStrictJson, showJsonValue, StrictJsonError } from "../lib/strict-json";
import { respondJson } from "./json-response";

const MAX_BODY_BYTES = 65_536;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

class AtisRequestError extends Error {
  constructor(readonly response: Response) {
    super("ATIS request error");
  }
}
const missing = (name: string) => new AtisRequestError(atisError("SVC4001", [name]));
const invalid = (name: string, value: unknown) => new AtisRequestError(atisError("SVC4005", [name, showJsonValue(value).slice(0, 64)]));

/** Accept: absent, or naming application/json (or a wildcard that covers it) with a weight above 0 (RFC 9110 §12.4.2: `q=0` is "not acceptable"). */
function acceptsJson(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === "") return true;
  return accept.split(",").some((range) => /^\s*(application\/json|application\/\*|\*\/\*)\s*(;|$)/i.test(range) && !/;\s*q\s*=\s*0(\.0{0,3})?\s*(;|$)/i.test(range));
}

/** Refuses the first member of `value` that `schema` does not define, naming it by its path in the body. */
function refuseUnknownMembers(value: Record<string, unknown>, schema: z.ZodObject, path: string): void {
  const unknown = Object.keys(value).find((name) => !Object.hasOwn(schema.shape, name));
  if (unknown !== undefined) throw invalid(`${path}${unknown}`, value[unknown]);
}

interface VerificationRequest {
  orig: string;
  dest: string[];
  time: number;
  identity: string;
}

/** Reads `verificationRequest{from:{tn}, to:{tn:[…]}, time, identity}` (ATIS-1000082 §6.2). */
function readVerificationRequest(body: unknown): VerificationRequest {
  if (!isRecord(body)) throw new AtisRequestError(atisError("SVC4006"));
  refuseUnknownMembers(body, verificationRequestSchema, "");
  const request = body.verificationRequest;
  if (request === undefined) throw missing("verificationRequest");
  if (!isRecord(request)) throw invalid("verificationRequest", request);
  const members = verificationRequestSchema.shape.verificationRequest;
  refuseUnknownMembers(request, members, "verificationRequest.");
  const { from, to, time, identity } = request;
  if (from === undefined) throw missing("from");
  if (!isRecord(from)) throw invalid("from", from);
  refuseUnknownMembers(from, members.shape.from, "verificationRequest.from.");
  if (typeof from.tn !== "string" || from.tn === "") throw invalid("from", from);
  if (to === undefined) throw missing("to");
  if (!isRecord(to)) throw invalid("to", to);
  refuseUnknownMembers(to, members.shape.to, "verificationRequest.to.");
  const dest = typeof to.tn === "string" ? [to.tn] : to.tn;
  if (!Array.isArray(dest) || dest.length === 0 || dest.length > 16 || dest.some((tn) => typeof tn !== "string")) throw invalid("to", to);
  if (time === undefined) throw missing("time");
  if (typeof time !== "number" || !Number.isSafeInteger(time) || time < 0) throw invalid("time", time);
  if (identity === undefined) throw missing("identity");
  if (typeof identity !== "string" || identity === "") throw invalid("identity", identity);
  return { orig: from.tn, dest: dest as string[], time, identity };
}

/**
 * With ATIS_REPLAY_CHECK, a verified PASSporT is presented to the replay guard as on /v1/verdict, its leg
 * the request's callees and no Call-ID: so a repeat toward the same callees within the freshness window
 * fails as a replay (438), and one toward other callees within the fork window is a fork and stays
 * verified. The callees are a set (canonical, each once, in order): listed again in another order, or
 * one twice (an SBC that sends To and the Request-URI when both name it), they are the same leg, else a
 * replay toward the same callee would pass for a fork. A guard that is slow or down leaves the
 * verification as it is (fail-open), counted in `shaken_verdict_budget_overruns_total` or
 * `shaken_dependency_errors_total{dependency="replay"}`.
 */
async function judgeReplays(verification: CallVerification, dest: string[], runtime: Runtime, deadline: Deadline): Promise<CallVerification> {
  if (!runtime.config.replay.atis) return verification;
  const arrival = { leg: `tel:${[...new Set(dest)].sort().map((tn) => `+${tn}`).join(",")}`, callId: null };
  const { replays } = await checkReplay(verification.identities, arrival, replayDepsOf(runtime, deadline));
  return failReplays(verification, replays);
}

/** `POST /stir/v1/verification`: the STI-VS API SBCs already speak (ATIS-1000082). */
export const atisRoutes = new Hono<AppEnv>();

/**
 * ATIS-1000082 §6.2's request and response, for the API description. readVerificationRequest checks
 * each field with its own SVC error, and refuses (SVC4005, naming it) any member the request's objects
 * do not define here: a misspelt member is no absent one.
 */
const verificationRequestSchema = z.strictObject({
  verificationRequest: z.strictObject({
    from: z.strictObject({ tn: z.string().min(1) }),
    to: z.strictObject({ tn: z.union([z.string(), z.array(z.string()).min(1).max(16)]) }),
    time: z.number().int().nonnegative().describe("Epoch seconds of the call"),
    identity: z.string().min(1).describe("The Identity header's value"),
  }),
});
const verificationResponseSchema = z.object({
  verificationResponse: z.object({ verstat: z.enum(["TN-Validation-Passed", "TN-Validation-Failed", "No-TN-Validation"]), reasoncode: z.number().optional(), reasontext: z.string().optional(), reasondesc: z.string().optional() }),
});

const describeVerification = describeRoute({
  tags: ["SBC"],
  security: SBC_SECURITY,
  summary: "Verify a call's Identity header (ATIS-1000082 STI-VS)",
  description: "Errors are ATIS-1000082 requestError bodies (serviceException/policyException with a messageId).",
  requestBody: jsonBody(verificationRequestSchema),
  responses: { 200: jsonResponse("The verstat, and why verification failed when it did", verificationResponseSchema), 400: { description: "requestError SVC4000–SVC4006" }, 401: { description: "requestError POL4001" } },
});

atisRoutes.post("/verification", describeVerification, async (c) => {
  try {
    if (!acceptsJson(c.req.header("Accept"))) return atisError("SVC4002", [c.req.header("Accept")!.slice(0, 64)]);
    const contentType = c.req.header("Content-Type");
    if (contentType !== undefined && !/^application\/json\s*(;|$)/i.test(contentType)) return atisError("SVC4004", ["application/json"]);
    if (c.req.header("Content-Length") === undefined && c.req.header("Transfer-Encoding") === undefined) return atisError("SVC4007");
    const text = await readBoundedText(c.req.raw, MAX_BODY_BYTES);
    if (text.trim() === "") return atisError("SVC4000");
    if (contentType === undefined) return atisError("SVC4004", ["application/json"]);
    let body: unknown;
    try {
      // A member given twice is refused: another reader of the same body (the SBC's) may take the other one.
      body = parseStrictJson(text);
    } catch (error) {
      if (error instanceof StrictJsonError && error.duplicateMember !== null) return atisError("SVC4005", [error.duplicateMember.slice(0, 64), "given twice"]);
      return atisError("SVC4006");
    }
    const request = readVerificationRequest(body);
    const runtime = c.get("runtime");
    const plan = runtime.config.plan;
    // A from.tn or to.tn that is no telephone number is the request's fault (SVC4005), not the PASSporT's.
    // ATIS-1000082 carries canonical TNs; a national-format one is still read when it is no international number.
    const canonicalOrig = canonicalizeTnPreferringE164(request.orig, plan);
    if (canonicalOrig === null) throw invalid("from", { tn: request.orig });
    const canonicalDest = request.dest.map((tn) => {
      const canonical = canonicalizeTnPreferringE164(tn, plan);
      if (canonical === null) throw invalid("to", { tn });
      return canonical;
    });
    // The same verdict budget as /v1/verdict (issue 5): a slow repository becomes a 436 in time.
    const deadline = new Deadline(runtime.config.verdictBudgetMs, backgroundTasks(c));
    const verification = await judgeReplays(await verifyCall([request.identity], { orig: canonicalOrig, dest: canonicalDest, date: request.time }, boundVerifier(runtime.verifier, deadline)), canonicalDest, runtime, deadline);
    recordVerificationMetrics("atis", verification);
    for (const { dependency, problem } of deadline.troubles) recordDependencyTrouble(dependency, problem);
    scheduleMetricsFlush(c.env.DB, { waitUntil: backgroundTasks(c), timeoutMs: runtime.config.backgroundTimeoutMs });
    const failure = verification.failure;
    const verificationResponse = failure
      ? { verstat: verification.verstat, reasoncode: failure.reasonCode, reasontext: failure.reasonText, reasondesc: failure.reasondesc }
      : { verstat: verification.verstat };
    return respondJson({ verificationResponse });
  } catch (error) {
    if (error instanceof AtisRequestError) return error.response;
    if (error instanceof BodyTooLargeError) return atisError("SVC4005", ["body", `larger than ${MAX_BODY_BYTES} bytes`]);
    throw error;
  }
});

atisRoutes.all("/verification", () => atisError("POL4050"));
atisRoutes.all("*", () => atisError("SVC4003"));
