/**
 * `npm run bench:micro:workerd`: the verifier's steps and S2's INVITE reading timed inside workerd
 * (bench/micro-worker.ts), by workerd's own CPU time (/proc) around one request that runs a step many times. Rounds interleave the
 * steps, so a drift in the machine's speed reaches every step alike; the median round is printed.
 * For finding where S1's time goes, not a target: the HTTP scenarios carry what a loop leaves out (the
 * request, the response, and the garbage collection of both).
 */
import { buildMicroWorker } from "./lib/build";
import { buildBenchPki, CALLEE, inviteText, signCalls, SIGNED_CALLER, TRUST_KEYS } from "./lib/fixtures";
import { cpuMs } from "./lib/proc";
import { median } from "./lib/report";
import { startWorker } from "./lib/workerd";
import type { MicroSetup } from "./micro-worker";

const ROUNDS = 5;
const ALL_STEPS: [step: string, times: number][] = [
  ["parseIdentityHeader", 50_000],
  ["decodePassport", 20_000],
  ["webCryptoVerify", 10_000],
  ["compactVerify", 10_000],
  ["verifyIdentity", 10_000],
  ["verifyCall", 10_000],
  ["parseInvite", 20_000],
  ["callFromInvite", 20_000],
  ["verdictLogLine", 20_000],
  ["shortLogLine", 20_000],
];
/** BENCH_MICRO_STEPS: a comma-separated subset of the steps. */
const chosen = process.env.BENCH_MICRO_STEPS?.split(",").map((step) => step.trim());
const STEPS = chosen ? ALL_STEPS.filter(([step]) => chosen.includes(step)) : ALL_STEPS;

console.log("building bench/micro-worker.ts (wrangler deploy --dry-run) …");
const worker = await startWorker(buildMicroWorker(), {}, 0);
try {
  const pki = await buildBenchPki();
  const x5u = "https://cr.example/sp.pem";
  const calls = await signCalls(pki, x5u, 1_000);
  const setup: MicroSetup = {
    x5u,
    chainPem: pki.chainPem,
    trust: { [TRUST_KEYS.anchors]: pki.trustAnchors, [TRUST_KEYS.crls]: pki.crls },
    jwk: pki.leafPublicJwk,
    calls: calls.map(({ identity, jws }) => ({ identity, jws })),
    call: { orig: SIGNED_CALLER, dest: [CALLEE], date: calls[0]!.iat },
    invites: calls.map((call, index) => inviteText(call, index)),
  };
  const ready = await fetch(`${worker.url}/setup`, { method: "POST", body: JSON.stringify(setup) });
  if (!ready.ok) throw new Error(`setup: ${ready.status} ${await ready.text()}`);

  const run = async (step: string, times: number): Promise<number> => {
    const before = cpuMs(worker.pid);
    const answer = await fetch(`${worker.url}/run?step=${step}&n=${times}`);
    const text = await answer.text();
    if (!answer.ok) throw new Error(`${step}: ${answer.status} ${text}`);
    return ((cpuMs(worker.pid) - before) * 1000) / times;
  };
  // Warm-up: every step compiled and optimized before any is timed.
  for (const [step, times] of STEPS) await run(step, Math.ceil(times / 5));
  const perRound = new Map<string, number[]>(STEPS.map(([step]) => [step, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [step, times] of STEPS) perRound.get(step)!.push(await run(step, times));
  }
  console.log(`workerd CPU per call, median of ${ROUNDS} interleaved rounds (each round's figure in brackets):`);
  for (const [step, figures] of perRound) {
    console.log(`${step.padEnd(28)} ${median(figures).toFixed(1).padStart(7)} µs   [${figures.map((figure) => figure.toFixed(1)).join(", ")}]`);
  }
} finally {
  await worker.miniflare.dispose();
}
