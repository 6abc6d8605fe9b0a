/**
 * `npm run bench:s2-split`: where S2's CPU over S1 goes, on one product worker, in interleaved
 * rounds (5 s windows): S1 (ATIS), the same signed call as JSON through /v1/verdict (S2j), S2 itself
 * (the raw INVITE), and S2 on a second product worker with LOG_VERDICTS=false (S2q). S2j − S1 is the
 * verdict pipeline (replay guard, origin checks, velocity, statistics, recent verdicts, log line and the
 * verdict's response); S2 − S2j is reading the INVITE; S2 − S2q is the verdict's log line.
 * BENCH_RULES operator rules (10 000) are seeded in each. Prints only.
 */
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { join } from "node:path";
import { buildWorkers } from "./lib/build";
import { buildBenchPki, signedVerdictBody } from "./lib/fixtures";
import { runLoad, type RequestSource } from "./lib/load";
import { startBenchRepository } from "./lib/repository";
import { atisRequest, cycle, inviteRequest, signedPool, verdictRequest } from "./lib/scenarios";
import { applyMigrations, installTrust, seedOrigin } from "./lib/seed";
import { BENCH_BINDINGS, startProduct } from "./lib/workers";
import { startWorker, type RunningWorker } from "./lib/workerd";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_ROUND_DURATION ?? 5);
const built = buildWorkers();
const pki = await buildBenchPki();
const repository = await startBenchRepository(pki.chainPem);
const product = await startProduct(built.product, pki);
const { modulesRules: _rules, rootPath: _root, ...workerOptions } = unstable_getMiniflareWorkerOptions(join(import.meta.dirname, "..", "wrangler.toml")).workerOptions;
const quiet = await startWorker(built.product, { ...workerOptions, bindings: { ...(workerOptions.bindings as Record<string, unknown>), ...BENCH_BINDINGS, LOG_VERDICTS: "false" } }, 0);
await applyMigrations(quiet.miniflare);
await installTrust(quiet.miniflare, pki);
// The origin configuration and operator rules every verdict reads, as in the bench's rounds.
const rules = Number(process.env.BENCH_RULES ?? 10_000);
for (const worker of [product, quiet]) await seedOrigin(worker.url, rules);
const x5u = `${repository.url}/warm.pem`;
const windows: [string, RunningWorker, () => Promise<RequestSource>][] = [
  ["S1", product, async () => cycle(await signedPool(pki, x5u, 4_000, atisRequest))],
  ["S2j", product, async () => cycle(await signedPool(pki, x5u, 4_000, (call) => verdictRequest(signedVerdictBody(call))))],
  ["S2", product, async () => cycle(await signedPool(pki, x5u, 4_000, inviteRequest))],
  ["S2q", quiet, async () => cycle(await signedPool(pki, x5u, 4_000, inviteRequest))],
];
const figures = new Map<string, number[]>(windows.map(([name]) => [name, []]));
try {
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [name, worker, source] of windows) {
      const result = await runLoad({ url: worker.url, pid: worker.pid, connections: Number(process.env.BENCH_CONNECTIONS ?? 50), durationSeconds: SECONDS, warmupSeconds: 1 }, await source());
      figures.get(name)!.push(result.cpuMsPerRequest * 1000);
      console.log(`round ${round} ${name.padEnd(4)} ${(result.cpuMsPerRequest * 1000).toFixed(0).padStart(5)} µs/verdict  ${result.requestsPerSecond.toFixed(0)} req/s  ${JSON.stringify(result.statusCounts)}`);
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  for (const [name, values] of figures) console.log(`${name.padEnd(4)} median ${median(values).toFixed(0)} µs, ${(median(values) / median(figures.get("S1")!)).toFixed(2)} × S1`);
} finally {
  await product.dispose();
  await quiet.dispose();
  repository.close();
}
process.exit(0);
