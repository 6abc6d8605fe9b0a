/**
 * Benchmark-only Worker, never deployed: the floors the product's scenarios are measured against
 * (issue 6). It is built and run exactly like the product (same bundler, same workerd, same socket).
 *   GET /b0 → a fixed 200 (the cost of the runtime and HTTP alone)
 *   POST /b0 → the same, after reading the request's body: B0 with S4's request (its headers and its
 *     JSON body), the floor for what S4 receives; informational, the targets use GET /b0
 *   GET /b1 → one jose `compactVerify` of a fixed PASSporT with a key imported once (the crypto floor)
 *   POST /b1 → the same, after reading the request's body: B1 with S1's request (its headers and its
 *     JSON body), the floor for what S1 receives; informational, the targets use GET /b1
 *   POST /m1 → M1, the least any STI-VS does with S1's request: parse the body, take the Identity
 *     header's JWS and x5u, look the x5u's key up in a cache, verify with jose, answer the verstat.
 *     No check of claims, numbers, freshness, chain, revocation or TNAuthList; no authentication.
 *   POST /m2 → M2, the least any verdict on a raw INVITE does with S2's request: read the INVITE's
 *     header lines for Identity, From and To; verify the PASSporT as M1 does; check that it signs From's
 *     and To's numbers; present it to a replay guard (one Durable Object call, on the SHA-256 of its
 *     signing input: a re-encoded signature of the same claims must not pass as new) and answer. No
 *     freshness, chain, rule, origin check, velocity, statistics or record; no authentication.
 *   POST /m4 → M4, the least any origin check does with S4's request: parse the body, take the calling
 *     number from the From URI, classify it with libphonenumber. No rule, no store, no authentication.
 * M1, M2 and M4 are informational: S1/M1 and S4/M4 are what the product adds over them, M2/M1 the least
 * that S2's verdict costs over S1's verification on this runtime (BENCHMARKS.md).
 */
import { DurableObject } from "cloudflare:workers";
import { compactVerify, importJWK, type JWK } from "jose";
import { parsePhoneNumberFromString } from "libphonenumber-js/max";

interface BaselineEnv {
  /** The PASSporT (compact JWS) B1 verifies on every request. */
  BENCH_JWS: string;
  /** The signer's public key, as a JWK JSON string; the key of every x5u M1 is asked about. */
  BENCH_JWK: string;
  /** M2's replay guard: a PASSporT's presentations, in memory. */
  LEAST_REPLAY: DurableObjectNamespace<LeastReplayGuard>;
}

let verificationKey: Promise<CryptoKey | Uint8Array> | null = null;
const keyOf = (env: BaselineEnv) => (verificationKey ??= importJWK(JSON.parse(env.BENCH_JWK) as JWK, "ES256"));

/** M1's credential cache: x5u → key. The bench signs every S1 PASSporT with the one bench leaf. */
const keysByX5u = new Map<string, Promise<CryptoKey | Uint8Array>>();
const X5U_PARAMETER = /;\s*info=<([^>]*)>/;

const json = (value: unknown, status = 200) => new Response(JSON.stringify(value), { status, headers: { "Content-Type": "application/json" } });
const verstat = (value: string) => json({ verificationResponse: { verstat: value } });

async function leastVerification(request: Request, env: BaselineEnv): Promise<Response> {
  const body = JSON.parse(await request.text()) as { verificationRequest?: { identity?: unknown } };
  const identity = body.verificationRequest?.identity;
  if (typeof identity !== "string") return json({ error: "no identity" }, 400);
  const x5u = X5U_PARAMETER.exec(identity)?.[1];
  if (x5u === undefined) return verstat("No-TN-Validation");
  let key = keysByX5u.get(x5u);
  if (key === undefined) keysByX5u.set(x5u, (key = keyOf(env)));
  try {
    await compactVerify(identity.slice(0, identity.indexOf(";")), await key, { algorithms: ["ES256"] });
    return verstat("TN-Validation-Passed");
  } catch {
    return verstat("TN-Validation-Failed");
  }
}

/**
 * M2's replay guard: the Call-ID that first presented each PASSporT (by its signing input's digest).
 * The same PASSporT on another call is a replay. Memory only, never pruned: the least a guard does.
 */
export class LeastReplayGuard extends DurableObject {
  private readonly firstCall = new Map<string, string>();

  present(digest: string, callId: string): boolean {
    const first = this.firstCall.get(digest);
    if (first === undefined) this.firstCall.set(digest, callId);
    return first === undefined || first === callId;
  }
}

const HEADER = /^([A-Za-z-]+)[ \t]*:[ \t]*(.*)$/;
const SIP_NUMBER = /<(?:sips?|tel):\+?([0-9]+)[@;>]/;
const hex = (bytes: ArrayBuffer) => Array.from(new Uint8Array(bytes), (byte) => byte.toString(16).padStart(2, "0")).join("");

/** The header lines of a SIP message that M2 reads (the full names and Identity's compact `y`), up to the blank line. */
function inviteHeaders(text: string): Map<string, string> {
  const headers = new Map<string, string>();
  const end = text.indexOf("\r\n\r\n");
  for (const line of text.slice(text.indexOf("\r\n") + 2, end === -1 ? text.length : end).split("\r\n")) {
    const header = HEADER.exec(line);
    if (header === null) continue;
    const name = header[1]!.toLowerCase();
    headers.set(name === "y" ? "identity" : name === "f" ? "from" : name === "t" ? "to" : name === "i" ? "call-id" : name, header[2]!);
  }
  return headers;
}

async function leastInviteVerdict(text: string, env: BaselineEnv): Promise<Response> {
  const headers = inviteHeaders(text);
  const identity = headers.get("identity");
  const from = SIP_NUMBER.exec(headers.get("from") ?? "")?.[1];
  const to = SIP_NUMBER.exec(headers.get("to") ?? "")?.[1];
  if (identity === undefined || from === undefined || to === undefined) return json({ action: "tag", verstat: "No-TN-Validation" });
  const x5u = X5U_PARAMETER.exec(identity)?.[1];
  if (x5u === undefined) return json({ action: "tag", verstat: "No-TN-Validation" });
  let key = keysByX5u.get(x5u);
  if (key === undefined) keysByX5u.set(x5u, (key = keyOf(env)));
  const jws = identity.slice(0, identity.indexOf(";"));
  let claims: { orig?: { tn?: unknown }; dest?: { tn?: unknown } };
  try {
    claims = JSON.parse(new TextDecoder().decode((await compactVerify(jws, await key, { algorithms: ["ES256"] })).payload)) as typeof claims;
  } catch {
    return json({ action: "tag", verstat: "TN-Validation-Failed" });
  }
  const signed = claims.orig?.tn === from && Array.isArray(claims.dest?.tn) && claims.dest.tn.includes(to);
  if (!signed) return json({ action: "tag", verstat: "TN-Validation-Failed" });
  const digest = hex(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(jws.slice(0, jws.lastIndexOf(".")))));
  const first = await env.LEAST_REPLAY.getByName(`shard-${digest.slice(0, 1)}`).present(digest, headers.get("call-id") ?? "");
  return json(first ? { action: "allow", verstat: "TN-Validation-Passed" } : { action: "block", verstat: "TN-Validation-Failed" });
}

const CALLING_NUMBER = /^[^<]*<sips?:\+?([0-9]+)@/;

function leastOriginCheck(text: string): Response {
  const { from } = JSON.parse(text) as { from?: unknown };
  const digits = typeof from === "string" ? CALLING_NUMBER.exec(from)?.[1] : undefined;
  if (digits === undefined) return json({ error: "no calling number" }, 400);
  const parsed = parsePhoneNumberFromString(`+${digits}`);
  return json({ tn: digits, country: parsed?.country ?? null, possible: parsed?.isPossible() ?? false, type: parsed?.getType() ?? null });
}

export default {
  async fetch(request: Request, env: BaselineEnv): Promise<Response> {
    const { pathname } = new URL(request.url);
    switch (pathname) {
      case "/b0":
        if (request.method === "POST") await request.text();
        return new Response("ok");
      case "/b1":
        if (request.method === "POST") await request.text();
        await compactVerify(env.BENCH_JWS, await keyOf(env), { algorithms: ["ES256"] });
        return new Response("ok");
      case "/m1":
        return leastVerification(request, env);
      case "/m2":
        return leastInviteVerdict(await request.text(), env);
      case "/m4":
        return leastOriginCheck(await request.text());
      default:
        return new Response("not found", { status: 404 });
    }
  },
};
