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
 *   POST /m4 → M4, the least any origin check does with S4's request: parse the body, take the calling
 *     number from the From URI, classify it with libphonenumber. No rule, no store, no authentication.
 * M1 and M4 are informational: S1/M1 and S4/M4 are what the product adds over them (BENCHMARKS.md).
 */
import { compactVerify, importJWK, type JWK } from "jose";
import { parsePhoneNumberFromString } from "libphonenumber-js/max";

interface BaselineEnv {
  /** The PASSporT (compact JWS) B1 verifies on every request. */
  BENCH_JWS: string;
  /** The signer's public key, as a JWK JSON string; the key of every x5u M1 is asked about. */
  BENCH_JWK: string;
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
      case "/m4":
        return leastOriginCheck(await request.text());
      default:
        return new Response("not found", { status: 404 });
    }
  },
};
