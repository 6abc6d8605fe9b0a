/**
 * Benchmark-only Worker, never deployed: the floors the product's scenarios are measured against
 * (issue 6). It is built and run exactly like the product (same bundler, same workerd, same socket).
 *   GET /b0 → a fixed 200 (the cost of the runtime and HTTP alone)
 *   POST /b0 → the same, after reading the request's body: B0 with S4's request (its headers and its
 *     JSON body), the floor for what S4 receives; informational, the targets use GET /b0
 *   GET /b1 → one jose `compactVerify` of a fixed PASSporT with a key imported once (the crypto floor)
 *   POST /b1 → the same, after reading the request's body: B1 with S1's request (its headers and its
 *     JSON body), the floor for what S1 receives; informational, the targets use GET /b1
 */
import { compactVerify, importJWK, type JWK } from "jose";

interface BaselineEnv {
  /** The PASSporT (compact JWS) B1 verifies on every request. */
  BENCH_JWS: string;
  /** The signer's public key, as a JWK JSON string. */
  BENCH_JWK: string;
}

let verificationKey: Promise<CryptoKey | Uint8Array> | null = null;

export default {
  async fetch(request: Request, env: BaselineEnv): Promise<Response> {
    const { pathname } = new URL(request.url);
    if (pathname === "/b0") {
      if (request.method === "POST") await request.text();
      return new Response("ok");
    }
    if (pathname === "/b1") {
      if (request.method === "POST") await request.text();
      verificationKey ??= importJWK(JSON.parse(env.BENCH_JWK) as JWK, "ES256");
      await compactVerify(env.BENCH_JWS, await verificationKey, { algorithms: ["ES256"] });
      return new Response("ok");
    }
    return new Response("not found", { status: 404 });
  },
};
