/**
 * `npm run bench:profile -- S1|S2|S4|S5`: a CPU profile of the product Worker inside workerd while it
 * serves one scenario, taken through workerd's V8 inspector (workerd has no --cpu-prof). Prints the
 * functions with the most self and inclusive time and writes bench/results/<scenario>.cpuprofile,
 * which Chrome DevTools opens. Only JavaScript is sampled: the local D1/Durable Object SQLite work
 * and BoringSSL show up as time inside the calls that started them, or not at all.
 *
 * Environment: BENCH_DURATION (s, 8), BENCH_CONNECTIONS (50), BENCH_RULES (10000).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildWorkers } from "./lib/build";
import { buildBenchPki } from "./lib/fixtures";
import { connectInspector } from "./lib/inspector";
import { runLoad, type RequestSpec } from "./lib/load";
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

async function main(): Promise<void> {
  const scenario = (process.argv[2] ?? "S1").toUpperCase();
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
    const inspector = await connectInspector(inspectorPort);
    await inspector.send("Profiler.enable");
    await inspector.send("Profiler.setSamplingInterval", { interval: 100 });
    await inspector.send("Profiler.start");
    const result = await runLoad(load, source);
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
