import { atisBody, inviteText, sbcHeaders, signCalls, signedVerdictBody, SIGNED_CALLER, type BenchPki, type SignedCall } from "./fixtures";
import type { RequestSource, RequestSpec } from "./load";
import { S4_CALLERS, unsignedDomesticBody, unsignedInternationalBody } from "./origin-fixtures";

const json = { ...sbcHeaders, "Content-Type": "application/json" };

/** Cycles through prepared requests, one per call. */
export function cycle(specs: RequestSpec[]): () => RequestSpec {
  let next = 0;
  return () => specs[next++ % specs.length]!;
}

export const atisRequest = (call: SignedCall): RequestSpec => ({ method: "POST", path: "/stir/v1/verification", headers: json, body: atisBody(call) });

export const inviteRequest = (call: SignedCall, sequence: number): RequestSpec => ({
  method: "POST",
  path: "/v1/verdict?trunk=domestic-1&carrier=DomesticCo&international=false",
  headers: { ...sbcHeaders, "Content-Type": "message/sip" },
  body: inviteText(call, sequence),
});

export const verdictRequest = (body: string): RequestSpec => ({ method: "POST", path: "/v1/verdict", headers: json, body });

/** S4: unsigned international calls from the 1 000 roaming national mobile callers. */
export const unsignedInternationalRequests = () => S4_CALLERS.map((caller) => verdictRequest(unsignedInternationalBody(caller)));

/**
 * PASSporTs are signed at bench time with the current clock, so they are fresh (FRESHNESS_SECONDS,
 * 60 s by default, is left as deployed); a pool is re-signed before each scenario and, in long runs,
 * every `refreshSeconds` in the background.
 */
export async function signedPool(pki: BenchPki, x5u: string, size: number, build: (call: SignedCall, index: number) => RequestSpec): Promise<RequestSpec[]> {
  return (await signCalls(pki, x5u, size)).map(build);
}

/** S3: every `callsPerX5u` consecutive requests name a fresh x5u that no earlier request named. */
export async function coldX5uSource(pki: BenchPki, repositoryUrl: string, tag: string, groups: number, callsPerX5u: number): Promise<{ source: () => RequestSpec; used: () => number }> {
  const calls = await signCalls(pki, (index) => `${repositoryUrl}/s3-${tag}-${index}.pem`, groups);
  let sequence = 0;
  return {
    source: () => atisRequest(calls[Math.floor(sequence++ / callsPerX5u) % calls.length]!),
    used: () => Math.ceil(sequence / callsPerX5u),
  };
}

/**
 * S5: a realistic mix through `/v1/verdict`: 70 % unsigned (half international roaming mobiles, half
 * domestic landlines), 25 % signed and valid, 5 % failing (bad signature, stale iat, orig mismatch).
 */
export async function mixedRequests(pki: BenchPki, x5u: string, size = 4_000): Promise<RequestSpec[]> {
  const signed = await signCalls(pki, x5u, Math.ceil(size * 0.25));
  const forged = await signCalls(pki, x5u, Math.ceil(size * 0.02), { key: pki.strangerKey });
  const stale = await signCalls(pki, x5u, Math.ceil(size * 0.015), { iat: Math.floor(Date.now() / 1000) - 3_600 });
  const mismatched = await signCalls(pki, x5u, Math.ceil(size * 0.015), { orig: "77272509999" });
  const specs: RequestSpec[] = [];
  for (let index = 0; index < Math.ceil(size * 0.7); index++) {
    const caller = S4_CALLERS[index % S4_CALLERS.length]!;
    specs.push(verdictRequest(index % 2 === 0 ? unsignedInternationalBody(caller) : unsignedDomesticBody(`7727250${String(index % 10_000).padStart(4, "0")}`)));
  }
  specs.push(...signed.map((call) => verdictRequest(signedVerdictBody(call))));
  specs.push(...[...forged, ...stale, ...mismatched].map((call) => verdictRequest(signedVerdictBody(call, SIGNED_CALLER))));
  // A fixed shuffle, so the mix is spread evenly over time.
  let state = 1;
  for (let index = specs.length - 1; index > 0; index--) {
    state = (state * 48_271) % 2_147_483_647;
    const other = state % (index + 1);
    [specs[index], specs[other]] = [specs[other]!, specs[index]!];
  }
  return specs;
}

export type { RequestSource };
