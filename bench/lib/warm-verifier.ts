import { parseCredential } from "../../src/certificate/certificate-source";
import { KvTrustSource } from "../../src/certificate/trust-store";
import { systemClock } from "../../src/lib/clock";
import type { VerifierOptions } from "../../src/verification/verify-identity";

/**
 * The verifier the micro-benchmarks time (bench/micro.ts in Node, bench/micro-worker.ts in workerd):
 * one credential, always at hand as a warm cache holds it; the trust documents from a map, as KV holds
 * them; and an hour's freshness, so that PASSporTs signed when a run starts stay fresh to its end.
 * Free of Node's modules, so that the Worker can bundle it.
 */
export async function warmVerifier(x5u: string, chainPem: string, trust: Record<string, string>): Promise<VerifierOptions> {
  const credential = await parseCredential(x5u, chainPem);
  return {
    clock: systemClock,
    certificates: { credential: async () => credential, cached: () => credential },
    trust: new KvTrustSource({ get: async (key) => trust[key] ?? null }, systemClock, 30_000, null),
    x5u: { allowInsecureLoopback: false, allowedHosts: [] },
    freshnessSeconds: 3_600,
    futureSkewSeconds: 3_600,
    crlMode: "soft",
    strictProfile: false,
  };
}
