import { Hono } from "hono";
import type { AppEnv } from "./app-env";
import { atisError } from "./atis-errors";
import { requireBearer } from "./auth";
import { BodyTooLargeError, readBoundedText } from "./body";
import { verifyCall } from "../verification/verify-call";
import { canonicalizeTn } from "../numbers/telephone-number";

const MAX_BODY_BYTES = 65_536;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

class AtisRequestError extends Error {
  constructor(readonly response: Response) {
    super("ATIS request error");
  }
}
const missing = (name: string) => new AtisRequestError(atisError("SVC4001", [name]));
const invalid = (name: string, value: unknown) => new AtisRequestError(atisError("SVC4005", [name, JSON.stringify(value ?? null).slice(0, 64)]));

/** Accept: absent, or naming application/json (or a wildcard that covers it). */
function acceptsJson(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === "") return true;
  return accept.split(",").some((range) => /^\s*(application\/json|application\/\*|\*\/\*)\s*(;|$)/i.test(range));
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
  const request = body.verificationRequest;
  if (request === undefined) throw missing("verificationRequest");
  if (!isRecord(request)) throw invalid("verificationRequest", request);
  const { from, to, time, identity } = request;
  if (from === undefined) throw missing("from");
  if (!isRecord(from) || typeof from.tn !== "string" || from.tn === "") throw invalid("from", from);
  if (to === undefined) throw missing("to");
  if (!isRecord(to)) throw invalid("to", to);
  const dest = typeof to.tn === "string" ? [to.tn] : to.tn;
  if (!Array.isArray(dest) || dest.length === 0 || dest.length > 16 || dest.some((tn) => typeof tn !== "string")) throw invalid("to", to);
  if (time === undefined) throw missing("time");
  if (typeof time !== "number" || !Number.isSafeInteger(time) || time < 0) throw invalid("time", time);
  if (identity === undefined) throw missing("identity");
  if (typeof identity !== "string" || identity === "") throw invalid("identity", identity);
  return { orig: from.tn, dest: dest as string[], time, identity };
}

/** `POST /stir/v1/verification`: the STI-VS API SBCs already speak (ATIS-1000082). */
export const atisRoutes = new Hono<AppEnv>();

atisRoutes.use(
  "/verification",
  requireBearer("sbc", (_c, failure) => atisError("POL4001", [failure === "missing" ? "no bearer key" : failure === "malformed" ? "malformed Authorization header" : "key not accepted"])),
);

atisRoutes.post("/verification", async (c) => {
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
      body = JSON.parse(text);
    } catch {
      return atisError("SVC4006");
    }
    const request = readVerificationRequest(body);
    const runtime = c.get("runtime");
    const plan = runtime.config.plan;
    const canonicalDest = request.dest.map((tn) => canonicalizeTn(tn, plan)).filter((tn): tn is string => tn !== null);
    const verification = await verifyCall([request.identity], { orig: canonicalizeTn(request.orig, plan), dest: canonicalDest, date: request.time }, runtime.verifier);
    const failure = verification.failure;
    const verificationResponse = failure
      ? { verstat: verification.verstat, reasoncode: failure.reasonCode, reasontext: failure.reasonText, reasondesc: failure.reasondesc }
      : { verstat: verification.verstat };
    return c.json({ verificationResponse });
  } catch (error) {
    if (error instanceof AtisRequestError) return error.response;
    if (error instanceof BodyTooLargeError) return atisError("SVC4005", ["body", `larger than ${MAX_BODY_BYTES} bytes`]);
    throw error;
  }
});

atisRoutes.all("/verification", () => atisError("POL4050"));
atisRoutes.all("*", () => atisError("SVC4003"));
