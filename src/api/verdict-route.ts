import { Hono } from "hono";
import { describeRoute, resolver } from "hono-openapi";
import type { NormalizedCall } from "../call/call";
import { callDescriptionSchema, callFromInvite, callFromJson, ingressFromQuery, RequestFieldError } from "../call/normalize";
import { MAX_SIP_MESSAGE_BYTES, parseInvite, SipMessageError } from "../sip/invite";
import { originDepsFromEnv } from "../origin/deps";
import { observeVerdict } from "../logging/observe-verdict";
import { errorResponse, jsonResponse, SBC_SECURITY } from "../openapi/shared";
import { recordVerdictStats } from "../stats/record";
import { Deadline } from "../verdict/deadline";
import { evaluateCall } from "../verdict/evaluate";
import { backgroundTasks, type AppEnv } from "./app-env";
import { BodyTooLargeError, readBoundedText } from "./body";
import { nativeError } from "./native-errors";
import { parseStrictJson, StrictJsonError } from "../lib/strict-json";
import { respondJson } from "./json-response";

const MAX_BODY_BYTES = 131_072;

/** `POST /v1/verdict`: the native endpoint — one call in (JSON parts or a raw INVITE), one verdict out. */
export const verdictRoutes = new Hono<AppEnv>();

const describeVerdict = describeRoute({
  tags: ["SBC"],
  security: SBC_SECURITY,
  summary: "Decide what to do with a call",
  description:
    "One call in — JSON parts (`from`, `to`, `pai`, `ruri`, `callId`, `identity[]`, `date`, `privacy`, `ingress{trunk,carrier,international}`; any other member is refused) or a raw INVITE as message/sip with the ingress as the query parameters `trunk`, `carrier`, `international` — one verdict out: action, verstat, SIP response or headers to apply, and every check with its evidence. What the calling peer wrote (an unreadable Date, From, To or P-Asserted-Identity, a From given twice) is judged by the checks, never refused.",
  requestBody: { required: true, content: { "application/json": { schema: resolver(callDescriptionSchema) }, "message/sip": {} } },
  responses: {
    200: jsonResponse("`{verdict: {requestId, action, verstat, attest, sip, headers, decidedBy, monitored: [{by, action, reason}] (only when a monitored rule or policy entry would have acted), label, checks, cli, callerName: {presented, presentation: shown|removed, reason, vouchedBy} | null, ingress, deadline, stir, identities}}`"),
    400: errorResponse("The SBC's request is invalid, naming the field: an unknown member, a wrong type, no ingress, a body that is no INVITE request"),
    413: errorResponse("The body is too large"),
    415: errorResponse("Content-Type is neither application/json nor message/sip"),
  },
});

verdictRoutes.post("/", describeVerdict, async (c) => {
  const runtime = c.get("runtime");
  const plan = runtime.config.plan;
  const contentType = (c.req.header("Content-Type") ?? "").split(";")[0]!.trim().toLowerCase();
  let call: NormalizedCall;
  try {
    // A raw INVITE has its own, lower bound: over it, the body is too large (413) like any other.
    const text = await readBoundedText(c.req.raw, contentType === "message/sip" ? MAX_SIP_MESSAGE_BYTES : MAX_BODY_BYTES);
    if (text.trim() === "") return nativeError(400, "ERR_EMPTY_BODY", "request body is empty: send a JSON call description or a SIP INVITE");
    if (contentType === "application/json") {
      let body: unknown;
      try {
        // A member given twice is refused: another reader of the same body (the SBC's) may take the other one.
        body = parseStrictJson(text);
      } catch (error) {
        if (error instanceof StrictJsonError && error.duplicateMember !== null) {
          const field = error.duplicateMember.slice(0, 64);
          return nativeError(400, "ERR_VALIDATION", `${field}: given twice`, { field });
        }
        return nativeError(400, "ERR_JSON", error instanceof StrictJsonError ? `request body is not accepted: ${error.message}` : "request body is not valid JSON");
      }
      call = callFromJson(body, plan);
    } else if (contentType === "message/sip") {
      call = callFromInvite(parseInvite(text), ingressFromQuery(c.req.query()), plan);
    } else {
      return nativeError(415, "ERR_CONTENT_TYPE", "Content-Type must be application/json or message/sip");
    }
  } catch (error) {
    if (error instanceof RequestFieldError) return nativeError(400, error.code, error.message, { field: error.field });
    if (error instanceof SipMessageError) return nativeError(400, error.code, error.message);
    if (error instanceof BodyTooLargeError) return nativeError(413, error.code, error.message);
    throw error;
  }

  const waitUntil = backgroundTasks(c);
  const deadline = new Deadline(runtime.config.verdictBudgetMs, waitUntil);
  const origin = originDepsFromEnv(c.env, runtime.snapshots, waitUntil, runtime.clock, deadline);
  const { verdict, verification, origin: assessment, callerName } = await evaluateCall(call, runtime, { origin, deadline, background: waitUntil }, c.get("requestId"));
  const background = { waitUntil, timeoutMs: runtime.config.backgroundTimeoutMs };
  recordVerdictStats(
    { action: verdict.action, monitored: verdict.monitored, policyMonitored: runtime.config.policyMode === "monitor", decidedBy: verdict.decidedBy, checks: verdict.checks, ingress: assessment.ingress, cli: call.cli?.tn ?? null, atMs: runtime.clock.now() },
    { db: c.env.DB, ...background },
  );
  observeVerdict({ call, verdict, callerName, verification, ingress: assessment.ingress, atMs: runtime.clock.now(), elapsedMs: deadline.elapsedMs() }, { env: c.env, ...background });
  return respondJson({
    verdict: {
      ...verdict,
      cli: call.cli ? { value: call.cli.raw, tn: call.cli.tn, source: call.cliSource } : null,
      callerName,
      ingress: assessment.ingress,
      // The budget the verdict was held to and the wall time it took (issue 5); which dependency was slow is in checks.
      deadline: { budgetMs: deadline.budgetMs, elapsedMs: deadline.elapsedMs() },
      stir: {
        verstat: verification.verstat,
        reasoncode: verification.failure?.reasonCode ?? null,
        reasontext: verification.failure?.reasonText ?? null,
        reasondesc: verification.failure?.reasondesc ?? null,
        failedCheck: verification.failure?.checkId ?? null,
      },
      identities: verification.identities.map((identity) => ({
        ppt: identity.ppt,
        outcome: identity.outcome,
        verstat: identity.verstat,
        reasoncode: identity.failure?.reasonCode ?? null,
        reasontext: identity.failure?.reasonText ?? null,
        reasondesc: identity.failure?.reasondesc ?? null,
        failedCheck: identity.failure?.checkId ?? null,
        attest: identity.attest,
        origid: identity.origid,
        orig: identity.orig,
        dest: identity.dest,
        iat: identity.iat,
        div: identity.divertedFrom,
        x5u: identity.x5u,
        signer: identity.signer,
      })),
    },
  });
});

verdictRoutes.all("/", () => nativeError(405, "ERR_METHOD", "use POST"));
