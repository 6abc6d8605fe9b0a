/**
 * `npm run bench:micro`: Node micro-benchmarks of the verdict's hot functions (workerd has no
 * --cpu-prof; these isolate the costs the HTTP scenarios add around the signature check).
 * Prints µs per call; the numbers are for finding hot spots, not targets.
 */
import "reflect-metadata";
import { compactVerify, importJWK, type JWK } from "jose";
import { X509Certificate, X509Crl } from "@peculiar/x509";
import { velocityShardOf } from "../src/abuse/shard";
import { type Observation, SlidingCounts } from "../src/abuse/velocity-window";
import { trustedPathsFor } from "../src/certificate/certificate-source";
import type { TrustedPath } from "../src/certificate/chain";
import { judgeRevocation, revocationStatus } from "../src/certificate/revocation";
import { parseCrlDocument, parseTrustAnchorDocument } from "../src/certificate/trust-format";
import { parseIdentityHeader } from "../src/identity/identity-header";
import { classifyNumber } from "../src/numbering/classify";
import { compileHomeNumberingPlan, defaultNumberingOverrides } from "../src/numbering/home-plan";
import { canonicalizeTn, diallingPlanFor } from "../src/numbers/telephone-number";
import { decodePassport } from "../src/passport/passport";
import { callFromInvite } from "../src/call/normalize";
import { parseInvite } from "../src/sip/invite";
import { compileRuleMatcher } from "../src/rules/matcher";
import type { Rule } from "../src/rules/rule";
import { verifyCall } from "../src/verification/verify-call";
import { buildBenchPki, CALLEE, inviteText, signCalls, SIGNED_CALLER, TRUST_KEYS } from "./lib/fixtures";
import { operatorRules, S4_CALLERS } from "./lib/origin-fixtures";
import { warmVerifier } from "./lib/warm-verifier";

async function time(name: string, iterations: number, body: (index: number) => unknown, warmup = Math.min(1_000, iterations)): Promise<number> {
  for (let index = 0; index < warmup; index++) await body(index);
  const started = performance.now();
  for (let index = 0; index < iterations; index++) await body(index);
  const perCall = ((performance.now() - started) * 1000) / iterations;
  console.log(`${name.padEnd(48)} ${perCall.toFixed(2).padStart(9)} µs`);
  return perCall;
}

const pki = await buildBenchPki();
const x5u = "https://cr.example/sp.pem";
const calls = await signCalls(pki, x5u, 2_000);
const options = await warmVerifier(x5u, pki.chainPem, { [TRUST_KEYS.anchors]: pki.trustAnchors, [TRUST_KEYS.crls]: pki.crls });
const credential = await options.certificates.credential(new URL(x5u));
const plan = diallingPlanFor("KZ");
const key = await importJWK(JSON.parse(pki.leafPublicJwk) as JWK, "ES256");
const call = { orig: SIGNED_CALLER, dest: [CALLEE], date: calls[0]!.iat };

await time("jose compactVerify (B1's work)", 3_000, (i) => compactVerify(calls[i % calls.length]!.jws, key, { algorithms: ["ES256"] }));
await time("verifyCall, warm credential (S1's verifier)", 3_000, (i) => verifyCall([calls[i % calls.length]!.identity], call, options));
const anchors = parseTrustAnchorDocument(pki.trustAnchors).anchors.map((anchor) => new X509Certificate(anchor.pem));
const crls = parseCrlDocument(pki.crls).crls.map((entry) => new X509Crl(entry.pem));
const [path] = (await trustedPathsFor(credential, "bench", anchors)) as [TrustedPath];
const revocationTrust = { anchors, crlSigners: [], crls };
await time("revocation, warm (one CRL, path of 3)", 20_000, async () => judgeRevocation(await revocationStatus(path, revocationTrust), path.certificates[0]!, Date.now()));
await time("parseIdentityHeader", 20_000, (i) => parseIdentityHeader(calls[i % calls.length]!.identity));
const header = parseIdentityHeader(calls[0]!.identity);
await time("decodePassport", 20_000, () => decodePassport(header.jws, header));
await time("parseInvite (S2's 14-header INVITE with SDP)", 5_000, (i) => parseInvite(inviteText(calls[i % calls.length]!, i)));
await time("canonicalizeTn", 100_000, () => canonicalizeTn("+77272501234", plan));
const ingress = { trunk: "intl-1", carrier: "TransitCo", international: true };
await time("parseInvite → callFromInvite (the same INVITEs)", 5_000, (i) => callFromInvite(parseInvite(inviteText(calls[i % calls.length]!, i)), ingress, plan));

const home = compileHomeNumberingPlan("KZ", defaultNumberingOverrides("KZ"));
await time("classifyNumber (libphonenumber max)", 20_000, (i) => classifyNumber(S4_CALLERS[i % S4_CALLERS.length]!, home));
const rules = operatorRules(10_000).map((input, index) => ({ id: `r${index}`, label: null, author: "bench", expiresAt: null, reportId: null, version: 1, createdAt: 0, updatedAt: 0, ...input }) as Rule);
const started = performance.now();
const matcher = compileRuleMatcher(rules);
console.log(`${"compileRuleMatcher, 10 000 rules".padEnd(48)} ${(performance.now() - started).toFixed(1).padStart(9)} ms`);
const now = Date.now();
await time("RuleMatcher.matching (10 000 rules)", 50_000, (i) =>
  matcher.matching({ cli: S4_CALLERS[i % S4_CALLERS.length]!, destination: CALLEE, trunk: "intl-1", carriers: ["TransitCo"], name: null, atMs: now }),
);

// The velocity counters (src/abuse/velocity-window.ts), in memory as a Durable Object holds them: one
// trunk key with 100 000 distinct CLIs in its 300 s window, as a large interconnect carries, counted up
// to the default limit's 1 001; then flushes as S4 sends them (250 calls, CLIs from 1 000, four trunks,
// three observations each, grouped by shard), and the snapshot an object saves of what they leave.
const VALUES_IN_WINDOW = 100_000;
const WINDOW_MS = 300_000;
const T0 = 1_800_000_000_000;
const trunk = new SlidingCounts();
const sightingAt = (index: number) => T0 + Math.floor((index * WINDOW_MS) / VALUES_IN_WINDOW);
// No warm-up: each sighting must be the first of its value.
await time("sighting, new value, counted up to 1 001", VALUES_IN_WINDOW, (i) => trunk.observe([{ key: "clis-per-trunk:big", value: `cli-${i}`, atMs: sightingAt(i), windowMs: WINDOW_MS, countUpTo: 1_001 }]), 0);

const FLUSHES = 400;
const CALLS_PER_FLUSH = 250;
const flushes = Array.from({ length: FLUSHES }, (_, flush) => {
  const byShard = new Map<string, Observation[]>();
  for (let call = 0; call < CALLS_PER_FLUSH; call++) {
    const index = flush * CALLS_PER_FLUSH + call;
    const atMs = T0 + index;
    const cli = `7701${String((index * 7_919) % 1_000).padStart(7, "0")}`;
    for (const observation of [
      { key: `calls-per-cli:${cli}`, value: null, atMs, windowMs: 60_000 },
      { key: `destinations-per-cli:${cli}`, value: "77012345678", atMs, windowMs: 300_000, countUpTo: 11 },
      { key: `clis-per-trunk:intl-${call % 4}`, value: cli, atMs, windowMs: 300_000, countUpTo: 1_001 },
    ]) {
      const shard = velocityShardOf(observation.key);
      byShard.set(shard, [...(byShard.get(shard) ?? []), observation]);
    }
  }
  return [...byShard.values()];
});
const counts = new SlidingCounts();
await time(`velocity flush (S4's, ${CALLS_PER_FLUSH} calls)`, FLUSHES, (i) => flushes[i]!.forEach((batch) => counts.observe(batch)), 0);
await time(`velocity snapshot of ${counts.size} keys (save + restore)`, 20, () => SlidingCounts.restore(counts.save()));
