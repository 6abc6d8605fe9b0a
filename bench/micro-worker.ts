/**
 * Benchmark-only Worker, never deployed: the verifier's steps timed inside workerd, where the product
 * runs (`npm run bench:micro:workerd`). Node's WebCrypto verifies on a thread pool and Node's V8 is not
 * workerd's, so `bench:micro`'s Node figures do not say what a step costs the Worker.
 *   POST /setup → the bench's credential, trust documents, key and signed calls (JSON), kept per isolate
 *   GET /run?step=S&n=N → runs step S N times; the runner reads workerd's CPU time around the request
 * The runner, not the Worker, does the timing: a Worker's clock does not advance while it computes.
 */
import "../src/lib/reflect-metadata";
import { base64url, compactVerify, importJWK, type JWK } from "jose";
import { callFromInvite } from "../src/call/normalize";
import { parseIdentityHeader } from "../src/identity/identity-header";
import { diallingPlanFor } from "../src/numbers/telephone-number";
import { decodePassport } from "../src/passport/passport";
import { parseInvite } from "../src/sip/invite";
import { verifyCall } from "../src/verification/verify-call";
import { verifyIdentity, type CallNumbers, type VerifierOptions } from "../src/verification/verify-identity";
import { warmVerifier } from "./lib/warm-verifier";

/** What the runner sends to /setup (bench/micro-workerd.ts). */
export interface MicroSetup {
  x5u: string;
  chainPem: string;
  /** KV key → document, as the trust store reads them. */
  trust: Record<string, string>;
  /** The leaf's public key, as a JWK JSON string. */
  jwk: string;
  /** Identity header values and their JWS, signed for `call`. */
  calls: { identity: string; jws: string }[];
  call: CallNumbers;
  /** S2's raw INVITE for each call, in the same order. */
  invites: string[];
}

interface Prepared {
  calls: MicroSetup["calls"];
  call: CallNumbers;
  invites: string[];
  options: VerifierOptions;
  key: CryptoKey;
}

const PLAN = diallingPlanFor("KZ");
const INGRESS = { trunk: "domestic-1", carrier: "DomesticCo", international: false };

/** A verdict's log line as S4 writes it. */
const VERDICT_LOG_LINE = JSON.stringify({
  level: "info",
  event: "verdict",
  requestId: "defabc95-0df9-4bb3-ad01-2f07fe9a5a45",
  cli: "77015000001",
  destination: "77012345678",
  action: "withhold",
  verstat: "No-TN-Validation",
  attest: null,
  decidedBy: "origin.roaming",
  failedChecks: ["identity.present", "origin.roaming"],
  ingressCarrier: "TransitCo",
  ingressTrunk: "intl-1",
  elapsedMs: 3,
});

const ECDSA_P256_SHA256 = { name: "ECDSA", hash: "SHA-256" };
const encoder = new TextEncoder();

/** Each step, given the call at hand; `verifyCall` and `verifyIdentity` are the product's own with a warm credential. */
const STEPS: Record<string, (prepared: Prepared, signed: MicroSetup["calls"][number], index: number) => unknown> = {
  parseIdentityHeader: (_, signed) => parseIdentityHeader(signed.identity),
  decodePassport: (_, signed) => {
    const identity = parseIdentityHeader(signed.identity);
    return decodePassport(identity.jws, identity);
  },
  // The floor of any ES256 check here: WebCrypto on the JWS's segments, with no JOSE library around it.
  webCryptoVerify: async ({ key }, signed) => {
    const [header, payload, signature] = signed.jws.split(".") as [string, string, string];
    if (!(await crypto.subtle.verify(ECDSA_P256_SHA256, key, base64url.decode(signature) as Uint8Array<ArrayBuffer>, encoder.encode(`${header}.${payload}`)))) throw new Error("signature did not verify");
  },
  compactVerify: ({ key }, signed) => compactVerify(signed.jws, key, { algorithms: ["ES256"] }),
  verifyIdentity: ({ call, options }, signed) => verifyIdentity(signed.identity, call, options),
  verifyCall: ({ call, options }, signed) => verifyCall([signed.identity], call, options),
  // S2's own work before the verdict pipeline: the raw INVITE read (sip.js's grammar), then normalised.
  // The verdict's log line (src/logging/verdict-log.ts): what one console.log of it costs the runtime, and one of a single character.
  verdictLogLine: (_, __, index) => console.log(`${VERDICT_LOG_LINE.slice(0, -1)},"n":${index}}`),
  shortLogLine: () => console.log("v"),
  parseInvite: ({ invites }, _, index) => parseInvite(invites[index % invites.length]!),
  callFromInvite: ({ invites }, _, index) => callFromInvite(parseInvite(invites[index % invites.length]!), INGRESS, PLAN),
};

let prepared: Prepared | null = null;

async function prepare(setup: MicroSetup): Promise<Prepared> {
  const options = await warmVerifier(setup.x5u, setup.chainPem, setup.trust);
  const key = (await importJWK(JSON.parse(setup.jwk) as JWK, "ES256")) as CryptoKey;
  return { calls: setup.calls, call: setup.call, invites: setup.invites, options, key };
}

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/setup") {
      prepared = await prepare(await request.json());
      return new Response("ready");
    }
    const step = STEPS[url.searchParams.get("step") ?? ""];
    const times = Number(url.searchParams.get("n"));
    if (!prepared || !step || !Number.isSafeInteger(times) || times <= 0) return new Response("POST /setup first, then GET /run?step=<step>&n=<count>", { status: 400 });
    // Every step's result is checked, so a step that fails cannot be timed as a fast one.
    for (let index = 0; index < times; index++) {
      const result = await step(prepared, prepared.calls[index % prepared.calls.length]!, index);
      if (result && typeof result === "object" && "verstat" in result && result.verstat !== "TN-Validation-Passed") {
        return new Response(`${url.searchParams.get("step")} did not verify: ${JSON.stringify(result).slice(0, 300)}`, { status: 500 });
      }
    }
    return new Response("done");
  },
};
