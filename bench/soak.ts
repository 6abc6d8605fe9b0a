/**
 * `npm run bench:soak`: memory flatness over many verdicts (issue 6: caches bounded). Drives the
 * product on workerd with a mix built to fill every cache past its bound — signed calls naming more
 * distinct x5u URLs than the in-isolate certificate LRU holds, unsigned calls from a large caller
 * space — and samples workerd's RSS, the live JS heap and the local stores' SQLite files after every
 * 10 s window until BENCH_SOAK_VERDICTS verdicts (default 1 000 000) have been answered. Writes the
 * soak section of BENCHMARKS.md.
 *
 * Environment: BENCH_SOAK_VERDICTS (1000000), BENCH_SOAK_RULES (1000), BENCH_CONNECTIONS (50),
 * BENCH_SOAK_X5U (3000 distinct x5u URLs), BENCH_WRITE (1), BENCH_SOAK_SNAPSHOT (1: a heap snapshot of the
 * isolate after the last window, bench/results/soak.heapsnapshot, and its live heap by kind).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildWorkers } from "./lib/build";
import { describeMachine } from "./lib/environment";
import { buildBenchPki, signCalls, signedVerdictBody, type BenchPki } from "./lib/fixtures";
import { runLoad, type RequestSpec } from "./lib/load";
import { unsignedDomesticBody, unsignedInternationalBody } from "./lib/origin-fixtures";
import { formatHeapByKind, heapByKind, takeHeapSnapshot } from "./lib/heap-snapshot";
import { connectInspector } from "./lib/inspector";
import { localStoreBytes, memoryKiB } from "./lib/proc";
import { updateBenchmarks } from "./lib/report";
import { startBenchRepository } from "./lib/repository";
import { verdictRequest } from "./lib/scenarios";
import { seedOrigin } from "./lib/seed";
import { startProduct } from "./lib/workers";

const env = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);
const TARGET = env("BENCH_SOAK_VERDICTS", 1_000_000);
const RULES = env("BENCH_SOAK_RULES", 1_000);
const CONNECTIONS = env("BENCH_CONNECTIONS", 50);
const X5U_URLS = env("BENCH_SOAK_X5U", 3_000);
const WINDOW_SECONDS = 10;
const SIGNED_POOL = 2_000;

/** Signed PASSporTs over X5U_URLS distinct URLs, re-signed between windows so that every iat stays fresh. */
async function signedRequests(pki: BenchPki, repositoryUrl: string, round: number): Promise<RequestSpec[]> {
  const offset = (round * SIGNED_POOL) % X5U_URLS;
  const calls = await signCalls(pki, (index) => `${repositoryUrl}/soak-${(offset + index) % X5U_URLS}.pem`, SIGNED_POOL);
  return calls.map((call) => verdictRequest(signedVerdictBody(call)));
}

const storesMiB = ({ databases, bytes, walBytes }: { databases: number; bytes: number; walBytes: number }) => ({
  databases,
  storesMiB: bytes / 1024 / 1024,
  walMiB: walBytes / 1024 / 1024,
});

async function main(): Promise<void> {
  const machine = describeMachine();
  const built = buildWorkers();
  const pki = await buildBenchPki();
  const repository = await startBenchRepository(pki.chainPem);
  const inspectorPort = 19_230;
  const product = await startProduct(built.product, pki, inspectorPort);
  // The isolate's live JavaScript heap after a full collection, per window: the caches and buffers the
  // product bounds live there, while RSS also holds the local D1/Durable Object SQLite pages.
  const inspector = await connectInspector(inspectorPort);
  const liveHeapMiB = async () => {
    await inspector.send("HeapProfiler.collectGarbage");
    const usage = (await inspector.send("Runtime.getHeapUsage")) as { usedSize?: number };
    return (usage.usedSize ?? NaN) / 1024 / 1024;
  };
  const samples: Sample[] = [];
  let verdicts = 0;
  let statuses: Record<string, number> = {};
  const started = performance.now();
  try {
    console.log(`seeding ${RULES} rules …`);
    await seedOrigin(product.url, RULES);
    let signed = await signedRequests(pki, repository.url, 0);
    let sequence = 0;
    // Its own counter: indexing the pool by `sequence` would only ever reach the slots whose residue
    // mod 20 is a signed slot (6 in 20), so a quarter of the x5u URLs would never be named.
    let signedSequence = 0;
    // 70 % unsigned (a caller space of 1 000 000 numbers), 25 % signed, 5 % signed but forged caller.
    const next = (): RequestSpec => {
      const slot = sequence++ % 20;
      const caller = (sequence * 7_919) % 1_000_000;
      if (slot < 7) return verdictRequest(unsignedInternationalBody(`77015${String(caller).padStart(6, "0")}`));
      if (slot < 14) return verdictRequest(unsignedDomesticBody(`77272${String(caller).padStart(6, "0")}`));
      const call = signed[signedSequence++ % signed.length]!;
      return slot < 19 ? call : { ...call, body: call.body!.replace('"from":"<sip:+77272501234', '"from":"<sip:+77272509999') };
    };
    for (let round = 1; verdicts < TARGET; round++) {
      const result = await runLoad({ url: product.url, pid: product.pid, connections: CONNECTIONS, durationSeconds: WINDOW_SECONDS, warmupSeconds: 0 }, next);
      verdicts += result.requests;
      for (const [code, count] of Object.entries(result.statusCounts)) statuses[code] = (statuses[code] ?? 0) + count;
      const sample = {
        verdicts,
        seconds: (performance.now() - started) / 1000,
        rssMiB: memoryKiB(product.pid).rss / 1024,
        heapMiB: await liveHeapMiB(),
        ...storesMiB(localStoreBytes(product.pid)),
        requestsPerSecond: result.requestsPerSecond,
      };
      samples.push(sample);
      console.log(
        `${String(verdicts).padStart(9)} verdicts  ${sample.rssMiB.toFixed(1)} MiB RSS  ${sample.heapMiB.toFixed(1)} MiB live heap  ${sample.storesMiB.toFixed(1)} MiB stores (${sample.walMiB.toFixed(1)} WAL, ${sample.databases} databases)  ` +
          `${result.requestsPerSecond.toFixed(0)} req/s  ${JSON.stringify(result.statusCounts)}`,
      );
      signed = await signedRequests(pki, repository.url, round);
    }
    if (process.env.BENCH_SOAK_SNAPSHOT === "1") {
      const file = join(import.meta.dirname, "results", "soak.heapsnapshot");
      const taken = await takeHeapSnapshot(inspector, file, () => runLoad({ url: product.url, pid: product.pid, connections: 1, durationSeconds: 1, warmupSeconds: 0 }, next));
      console.log(`heap snapshot: ${file}\n${formatHeapByKind(heapByKind(taken))}`);
    }
    const fetched = await repository.stats();
    const markdown = renderSoak(samples, { machine: `${machine.nproc} × ${machine.cpuModel}, workerd ${machine.workerd}`, rules: RULES, fetched: fetched.hits, statuses, hwmMiB: memoryKiB(product.pid).hwm / 1024 });
    console.log(`\n${markdown}`);
    const resultsDir = join(import.meta.dirname, "results");
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(join(resultsDir, "soak.json"), JSON.stringify({ samples, statuses, fetched }, null, 2));
    if (process.env.BENCH_WRITE !== "0") updateBenchmarks("soak", markdown);
  } finally {
    inspector.close();
    await product.dispose();
    repository.close();
  }
}

interface Sample {
  verdicts: number;
  seconds: number;
  rssMiB: number;
  heapMiB: number;
  /** The local D1 and Durable Object SQLite files on disk (bench/lib/proc.ts localStoreBytes): data that RSS may also hold pages of. */
  storesMiB: number;
  /** Of which the write-ahead logs. */
  walMiB: number;
  databases: number;
  requestsPerSecond: number;
}

function renderSoak(
  samples: Sample[],
  context: { machine: string; rules: number; fetched: number; statuses: Record<string, number>; hwmMiB: number },
): string {
  const last = samples[samples.length - 1]!;
  const quarter = samples.find((sample) => sample.verdicts >= last.verdicts / 4) ?? samples[0]!;
  const half = samples.find((sample) => sample.verdicts >= last.verdicts / 2) ?? samples[0]!;
  const growth = (to: number, from: number) => `${(((to - from) / from) * 100).toFixed(1)} %`;
  const step = Math.max(1, Math.ceil(samples.length / 12));
  const shown = samples.filter((_, index) => index % step === 0 || index === samples.length - 1);
  return [
    `Soak of ${new Date().toISOString()} · ${context.machine} · ${last.verdicts} verdicts in ${last.seconds.toFixed(0)} s · ${context.rules} rules · ` +
      `${X5U_URLS} distinct x5u URLs (certificate LRU holds 2 000) → ${context.fetched} repository fetches · responses ${JSON.stringify(context.statuses)}`,
    "",
    "| verdicts | elapsed s | workerd RSS MiB | live JS heap MiB (after a full GC) | local stores' SQLite files MiB (of which WAL) · databases | req/s in window |",
    "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ...shown.map(
      (sample) =>
        `| ${sample.verdicts} | ${sample.seconds.toFixed(0)} | ${sample.rssMiB.toFixed(1)} | ${sample.heapMiB.toFixed(1)} | ${sample.storesMiB.toFixed(1)} (${sample.walMiB.toFixed(1)}) · ${sample.databases} | ${sample.requestsPerSecond.toFixed(0)} |`,
    ),
    "",
    `RSS after ¼ of the run ${quarter.rssMiB.toFixed(1)} MiB, after ½ ${half.rssMiB.toFixed(1)} MiB, at the end ${last.rssMiB.toFixed(1)} MiB ` +
      `(growth over the second half ${growth(last.rssMiB, half.rssMiB)}, over the last three quarters ${growth(last.rssMiB, quarter.rssMiB)}); high-water mark ${context.hwmMiB.toFixed(1)} MiB. ` +
      `Live JS heap after ¼ ${quarter.heapMiB.toFixed(1)} MiB, after ½ ${half.heapMiB.toFixed(1)} MiB, at the end ${last.heapMiB.toFixed(1)} MiB (growth over the second half ${growth(last.heapMiB, half.heapMiB)}; ` +
      `largest ${Math.max(...samples.map((sample) => sample.heapMiB)).toFixed(1)} MiB). ` +
      `The local stores' SQLite files (D1 and the Durable Objects, on disk in the same process's directory) after ½ ${half.storesMiB.toFixed(1)} MiB, at the end ${last.storesMiB.toFixed(1)} MiB ` +
      `(+${(last.storesMiB - half.storesMiB).toFixed(1)} MiB over the second half, against RSS +${(last.rssMiB - half.rssMiB).toFixed(1)} MiB).`,
  ].join("\n");
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error("the soak could not run:", error);
    process.exit(1);
  },
);
