/**
 * `npm run bench:profile -- S1|S2|S4|S5`: a CPU profile of the product Worker inside workerd while it
 * serves one scenario, taken through workerd's V8 inspector (workerd has no --cpu-prof). Prints the
 * functions with the most self and inclusive time and writes bench/results/<scenario>.cpuprofile,
 * which Chrome DevTools opens. Only JavaScript is sampled: the local D1/Durable Object SQLite work
 * and BoringSSL show up as time inside the calls that started them, or not at all.
 *
 * `npm run bench:profile -- S1 heap` samples allocations instead (V8's sampling heap profiler, every
 * 256 bytes), keeping only those that outlived a scavenge: what a request promotes into the old
 * generation, per request and by allocating stack. That is what fills the old generation between the
 * full collections whose pauses are the latency tail (BENCHMARKS.md).
 *
 * `npm run bench:profile -- S4 native` records workerd's whole process with Linux `perf` (Debian's
 * linux-perf package) instead: the runtime's C++ (the collector's pauses, SQLite, BoringSSL) and the
 * kernel, which the inspector cannot see. With BENCH_V8_FLAGS=--perf-basic-prof V8 names the
 * JavaScript frames for perf too; BENCH_PERF_ARGS replaces `-F 2000` (an event such as a uprobe on a
 * workerd function counts its calls). It writes bench/results/<scenario>.perf.data for `perf report`.
 *
 * `npm run bench:profile -- S4 snapshot` takes a heap snapshot of the isolate after the load instead,
 * writes bench/results/<scenario>.heapsnapshot and prints its live heap by kind (constructor, strings,
 * code, arrays, each script source on its own line): the live heap sets how often the full
 * collections come, and so how long each one pauses.
 *
 * Environment: BENCH_DURATION (s, 8), BENCH_CONNECTIONS (50), BENCH_RULES (10000), BENCH_RATE
 * (requests/s: steady arrivals at that rate, as the half-rate latency runs send them, in place of
 * full load).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { dirname, join } from "node:path";
import { buildWorkers } from "./lib/build";
import { buildBenchPki } from "./lib/fixtures";
import { formatHeapByKind, heapByKind, takeHeapSnapshot } from "./lib/heap-snapshot";
import { connectInspector } from "./lib/inspector";
import { runLoad, type RequestSpec } from "./lib/load";
import { runPaced } from "./lib/paced";
import { cpuMs } from "./lib/proc";
import { startBenchRepository } from "./lib/repository";
import { atisRequest, cycle, inviteRequest, mixedRequests, signedPool, unsignedInternationalRequests } from "./lib/scenarios";
import { seedOrigin } from "./lib/seed";
import { startProduct } from "./lib/workers";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function summarize(profile: Profile, top = 35): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const label = (node: ProfileNode) => `${node.callFrame.functionName || "(anonymous)"} ${node.callFrame.url.split("/").pop()}:${node.callFrame.lineNumber + 1}`;
  const selfTime = new Map<number, number>();
  profile.samples.forEach((id, index) => selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)));
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let busy = 0;
  for (const [id, time] of selfTime) {
    const node = byId.get(id)!;
    if (node.callFrame.functionName === "(idle)") continue;
    busy += time;
    self.set(label(node), (self.get(label(node)) ?? 0) + time);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = label(byId.get(at)!);
      if (!seen.has(name)) inclusive.set(name, (inclusive.get(name) ?? 0) + time);
      seen.add(name);
    }
  }
  const table = (title: string, map: Map<string, number>) =>
    [title, ...[...map].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, time]) => `${((time / busy) * 100).toFixed(1).padStart(5)} %  ${name}`)].join("\n");
  return [`busy (non-idle) JavaScript time sampled: ${(busy / 1000).toFixed(0)} ms`, table("\nself time:", self), table("\ninclusive time:", inclusive)].join("\n");
}

interface SamplingNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SamplingNode[];
}

/**
 * What the sampled allocations that outlived a scavenge were, by allocating stack: these fill the old
 * generation, and the full collections that empty it are the latency tail (BENCHMARKS.md).
 */
function summarizeHeap(head: SamplingNode, requests: number, top = 30): string {
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  const walk = (node: SamplingNode, stack: string[]) => {
    const name = `${node.callFrame.functionName || "(anonymous)"} ${node.callFrame.url.split("/").pop()}:${node.callFrame.lineNumber + 1}`;
    const path = [...stack, name];
    if (node.selfSize > 0) {
      total += node.selfSize;
      self.set(name, (self.get(name) ?? 0) + node.selfSize);
      for (const frame of new Set(path)) inclusive.set(frame, (inclusive.get(frame) ?? 0) + node.selfSize);
    }
    for (const child of node.children) walk(child, path);
  };
  walk(head, []);
  const table = (title: string, map: Map<string, number>) =>
    [title, ...[...map].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, bytes]) => `${(bytes / requests).toFixed(0).padStart(6)} B/req  ${name}`)].join("\n");
  return [`sampled bytes that survived a scavenge: ${(total / requests).toFixed(0)} B per request`, table("\nself:", self), table("\ninclusive:", inclusive)].join("\n");
}

async function main(): Promise<void> {
  const scenario = (process.argv[2] ?? "S1").toUpperCase();
  const heap = process.argv[3] === "heap";
  const native = process.argv[3] === "native";
  const snapshot = process.argv[3] === "snapshot";
  const seconds = Number(process.env.BENCH_DURATION ?? 8);
  const built = buildWorkers();
  const pki = await buildBenchPki();
  const repository = await startBenchRepository(pki.chainPem);
  const inspectorPort = 19_229;
  const product = await startProduct(built.product, pki, inspectorPort);
  try {
    if (scenario === "S4" || scenario === "S5") await seedOrigin(product.url, Number(process.env.BENCH_RULES ?? 10_000));
    const x5u = `${repository.url}/warm.pem`;
    const specs: RequestSpec[] =
      scenario === "S2" ? await signedPool(pki, x5u, 4_000, inviteRequest)
      : scenario === "S4" ? unsignedInternationalRequests()
      : scenario === "S5" ? await mixedRequests(pki, x5u)
      : await signedPool(pki, x5u, 4_000, atisRequest);
    const source = cycle(specs);
    const load = { url: product.url, pid: product.pid, connections: Number(process.env.BENCH_CONNECTIONS ?? 50), durationSeconds: seconds, warmupSeconds: 0 };
    await runLoad({ ...load, durationSeconds: 3 }, source);
    // BENCH_RATE: steady arrivals at that rate (the half-rate latency run's shape) in place of full load.
    const rate = Number(process.env.BENCH_RATE ?? 0);
    const drive = async (): Promise<{ requestsPerSecond: number; cpuMsPerRequest: number; requests: number }> => {
      if (rate <= 0) return runLoad(load, source);
      const cpuBefore = cpuMs(product.pid);
      const paced = await runPaced(product.url, source, rate, seconds);
      return { requestsPerSecond: rate, cpuMsPerRequest: (cpuMs(product.pid) - cpuBefore) / paced.requests, requests: paced.requests };
    };
    if (native) {
      // `perf record` on workerd's process: its C++ (the runtime, SQLite, BoringSSL, the kernel's share)
      // as well as the JavaScript, which V8 names for perf when BENCH_V8_FLAGS=--perf-basic-prof.
      const data = join(import.meta.dirname, "results", `${scenario}.perf.data`);
      mkdirSync(dirname(data), { recursive: true });
      const perf = spawn("perf", ["record", ...(process.env.BENCH_PERF_ARGS ?? "-F 2000").split(" "), "-g", "-o", data, "-p", String(product.pid)], { stdio: "inherit" });
      // 'spawn' or 'error' (no perf on this machine) before any load is sent.
      await once(perf, "spawn").catch((error: unknown) => {
        throw new Error(`perf could not run (Debian: apt install linux-perf): ${String(error)}`);
      });
      const result = await drive();
      perf.kill("SIGINT");
      await once(perf, "exit");
      console.log(`${scenario}: ${result.requestsPerSecond.toFixed(0)} req/s under perf, ${(result.cpuMsPerRequest * 1000).toFixed(0)} µs workerd CPU per request; perf report -i ${data}`);
      return;
    }
    const inspector = await connectInspector(inspectorPort);
    if (snapshot) {
      const result = await drive();
      const file = join(import.meta.dirname, "results", `${scenario}.heapsnapshot`);
      const taken = await takeHeapSnapshot(inspector, file, () => runLoad({ ...load, connections: 1, durationSeconds: 1 }, source));
      inspector.close();
      console.log(`${scenario}: ${result.requestsPerSecond.toFixed(0)} req/s, then a heap snapshot: ${file}`);
      console.log(formatHeapByKind(heapByKind(taken)));
      return;
    }
    if (heap) {
      // Objects a scavenge frees are left out; what survives one is promoted and waits for a full collection.
      await inspector.send("HeapProfiler.startSampling", { samplingInterval: 256, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: false });
      const result = await drive();
      // A full collection before stopping, so garbage not yet collected is not counted as promoted.
      // workerd runs it as a task of the isolate, which needs a request to get a turn.
      const collected = inspector.send("HeapProfiler.collectGarbage");
      await runLoad({ ...load, connections: 1, durationSeconds: 1 }, source);
      await collected;
      const { profile } = (await inspector.send("HeapProfiler.stopSampling")) as unknown as { profile: { head: SamplingNode } };
      inspector.close();
      console.log(`${scenario}: ${result.requestsPerSecond.toFixed(0)} req/s under the heap sampler, ${result.requests} requests`);
      console.log(summarizeHeap(profile.head, result.requests));
      return;
    }
    await inspector.send("Profiler.enable");
    await inspector.send("Profiler.setSamplingInterval", { interval: 100 });
    await inspector.send("Profiler.start");
    const result = await drive();
    const { profile } = (await inspector.send("Profiler.stop")) as unknown as { profile: Profile };
    inspector.close();
    console.log(`${scenario}: ${result.requestsPerSecond.toFixed(0)} req/s under the profiler, ${(result.cpuMsPerRequest * 1000).toFixed(0)} µs workerd CPU per request`);
    console.log(summarize(profile));
    const resultsDir = join(import.meta.dirname, "results");
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(join(resultsDir, `${scenario}.cpuprofile`), JSON.stringify(profile));
  } finally {
    await product.dispose();
    repository.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error("the profile could not be taken:", error);
    process.exit(1);
  },
);
