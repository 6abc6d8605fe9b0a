import http from "node:http";
import type { RequestSpec } from "./lib/load";
/** Temporary: where does the paced tail come from? */
import { buildWorkers } from "./lib/build";
import { buildBenchPki } from "./lib/fixtures";
import { startBenchRepository } from "./lib/repository";
import { atisRequest, cycle, signedPool, unsignedInternationalRequests } from "./lib/scenarios";
import { seedOrigin } from "./lib/seed";
import { startBaseline, startProduct } from "./lib/workers";
import { signCalls } from "./lib/fixtures";

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface HeapNode { callFrame: { functionName: string; lineNumber: number }; selfSize: number; children: HeapNode[] }
let samplesCount = () => 1;
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number }
/** A minimal Chrome DevTools Protocol client over the inspector's WebSocket. */
async function connectInspector(port: number): Promise<{ send(method: string, params?: object): Promise<Record<string, unknown>>; close(): void }> {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { id: string; title?: string; webSocketDebuggerUrl: string }[];
  const target = targets.find((candidate) => `${candidate.id} ${candidate.title ?? ""}`.includes("bench")) ?? targets[0];
  if (!target) throw new Error("workerd's inspector lists no target");
  const socket = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    socket.addEventListener("open", resolve, { once: true });
    socket.addEventListener("error", reject, { once: true });
  });
  let nextId = 1;
  const waiting = new Map<number, (result: Record<string, unknown>) => void>();
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: Record<string, unknown> };
    if (message.id !== undefined) waiting.get(message.id)?.(message.result ?? {});
  });
  return {
    send: (method, params = {}) =>
      new Promise((resolve) => {
        const id = nextId++;
        waiting.set(id, resolve);
        socket.send(JSON.stringify({ id, method, params }));
      }),
    close: () => socket.close(),
  };
}


const scenario = process.env.DIAG ?? "S1";
const rate = Number(process.env.DIAG_RATE ?? 1800);
const seconds = Number(process.env.DIAG_SECONDS ?? 10);
const built = buildWorkers();
const pki = await buildBenchPki();
const repository = await startBenchRepository(pki.chainPem);
const [fixed] = await signCalls(pki, `${repository.url}/b1.pem`, 1);
const product = scenario.startsWith("B") ? await startBaseline(built.baseline, { BENCH_JWS: fixed!.jws, BENCH_JWK: pki.leafPublicJwk }) : await startProduct(built.product, pki, 19229);
if (scenario === "S4") await seedOrigin(product.url, Number(process.env.DIAG_RULES ?? 10000));
const specs: RequestSpec[] = scenario === "BP" ? (await signedPool(pki, `${repository.url}/warm.pem`, 4000, atisRequest)).map((s) => ({ ...s, path: "/b1" })) : scenario === "H" ? [{ method: "GET" as const, path: "/healthz" }] : scenario.startsWith("B") ? [{ method: "GET" as const, path: "/" + scenario.toLowerCase() }] : scenario === "S4" ? unsignedInternationalRequests() : await signedPool(pki, `${repository.url}/warm.pem`, 4000, atisRequest);
const next = cycle(specs);
console.log("PID", product.pid); if (process.env.DIAG_PIN) { const { execSync } = await import("node:child_process"); execSync(`taskset -a -p -c 0 ${product.pid}`); execSync(`taskset -a -p -c 1 ${process.pid}`); } await new Promise((r) => setTimeout(r, Number(process.env.DIAG_WAIT ?? 0)));
// warm
for (let i = 0; i < 2000; i++) { const s = next(); await (await fetch(`${product.url}${s.path}`, { method: s.method, headers: s.headers, body: s.body })).arrayBuffer(); }
const inspector = process.env.DIAG_PROF ? await connectInspector(19229) : null;
if (inspector && process.env.DIAG_PROF === "heap") { await inspector.send("HeapProfiler.enable"); await inspector.send("HeapProfiler.startSampling", { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: process.env.DIAG_MINOR !== "0" }); }
else if (inspector) { await inspector.send("Profiler.enable"); await inspector.send("Profiler.setSamplingInterval", { interval: 200 }); await inspector.send("Profiler.start"); }
const wallStart = Date.now() * 1000;
console.log("MONO", Number(process.hrtime.bigint()) / 1e9);
const samples: [number, number][] = [];
const fromSend: number[] = [];
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const target = new URL(product.url);
const httpSend = (s: { method: string; path: string; headers?: Record<string, string>; body?: string }) => new Promise<void>((resolve, reject) => {
  const req = http.request({ agent, host: target.hostname, port: target.port, method: s.method, path: s.path, headers: { ...s.headers, ...(s.body ? { "Content-Length": Buffer.byteLength(s.body) } : {}) } }, (res) => { res.on("data", () => {}); res.on("end", () => resolve()); });
  req.on("error", reject);
  req.end(s.body);
});
const started = performance.now();
let sent = 0;
const inFlight = new Set<Promise<void>>();
await new Promise<void>((resolve) => {
  let lastTick = performance.now();
  const timer = setInterval(() => {
    const elapsed = performance.now() - started;
    if (performance.now() - lastTick > 15) console.log(`tick late ${(performance.now() - lastTick).toFixed(0)}ms at ${(elapsed / 1000).toFixed(2)}s`);
    lastTick = performance.now();
    if (elapsed >= seconds * 1000) { clearInterval(timer); resolve(); return; }
    const due = Math.floor((elapsed / 1000) * rate);
    for (; sent < due; sent++) {
      const dueAt = started + (sent / rate) * 1000;
      const s = next();
      const sentAt = performance.now();
      const p: Promise<void> = (process.env.DIAG_HTTP ? httpSend(s) : fetch(`${product.url}${s.path}`, { method: s.method, headers: s.headers, body: s.body }).then((r) => r.arrayBuffer()))
        .then(() => { samples.push([dueAt - started, performance.now() - dueAt]); fromSend.push(performance.now() - sentAt); })
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
  }, 2);
});
await Promise.all(inFlight);
samplesCount = () => samples.length;
if (inspector && process.env.DIAG_PROF === "heap") {
  const { profile } = (await inspector.send("HeapProfiler.stopSampling")) as unknown as { profile: { head: HeapNode } };
  const self = new Map<string, number>(); const incl = new Map<string, number>();
  let total = 0;
  const walk = (n: HeapNode, stack: string[]) => {
    const name = `${n.callFrame.functionName || "anon"}:${n.callFrame.lineNumber + 1}`;
    const own = n.selfSize; total += own;
    self.set(name, (self.get(name) ?? 0) + own);
    const st = [...stack, name];
    for (const s of new Set(st)) incl.set(s, (incl.get(s) ?? 0) + own);
    for (const c of n.children) walk(c, st);
  };
  walk(profile.head, []);
  const per = (v: number) => (v / samplesCount()).toFixed(0);
  console.log(`allocated ${(total / 1e6).toFixed(1)} MB sampled`);
  console.log("SELF\n" + [...self].sort((a, z) => z[1] - a[1]).slice(0, 30).map(([k, v]) => `${per(v).padStart(7)} B/req ${k}`).join("\n"));
  console.log("INCL\n" + [...incl].sort((a, z) => z[1] - a[1]).slice(0, 40).map(([k, v]) => `${per(v).padStart(7)} B/req ${k}`).join("\n"));
} else if (inspector) {
  const { profile } = (await inspector.send("Profiler.stop")) as unknown as { profile: Profile };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  let t = profile.startTime;
  const buckets = new Map<number, Map<string, number>>();
  profile.samples.forEach((id, i) => {
    t += profile.timeDeltas[i] ?? 0;
    const n = byId.get(id)!;
    const b = Math.floor((t - profile.startTime) / 50_000);
    const m = buckets.get(b) ?? new Map<string, number>();
    let stack = [] as string[];
    for (let at: number | undefined = id; at !== undefined && stack.length < 6; at = parent.get(at)) { const f = byId.get(at)!.callFrame; stack.push(`${f.functionName || "anon"}:${f.lineNumber + 1}`); }
    const key = n.callFrame.functionName === "(idle)" ? "(idle)" : stack.join(" < ");
    m.set(key, (m.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
    buckets.set(b, m);
  });
  for (const [b, m] of [...buckets].sort((a, z) => a[0] - z[0])) {
    const busy = [...m].filter(([k]) => k !== "(idle)").reduce((s, [, v]) => s + v, 0);
    if (busy > 40_000) console.log(`${(b * 0.05).toFixed(2)}s busy ${(busy / 1000).toFixed(0)}ms: ` + [...m].filter(([k]) => k !== "(idle)").sort((a, z) => z[1] - a[1]).slice(0, 4).map(([k, v]) => `${(v / 1000).toFixed(0)}ms ${k}`).join(" | "));
  }
  console.log("profile start offset vs wall (ms):", ((profile.startTime - wallStart) / 1000).toFixed(0));
}
samples.sort((a, b) => a[0] - b[0]);
fromSend.sort((a, b) => a - b);
console.log(`from send: p50=${fromSend[Math.floor(fromSend.length / 2)]!.toFixed(2)} p99=${fromSend[Math.floor(fromSend.length * 0.99)]!.toFixed(2)} p99.9=${fromSend[Math.floor(fromSend.length * 0.999)]!.toFixed(2)}`);
const lat = samples.map((s) => s[1]).sort((a, b) => a - b);
console.log(`n=${lat.length} p50=${lat[Math.floor(lat.length / 2)]!.toFixed(2)} p99=${lat[Math.floor(lat.length * 0.99)]!.toFixed(2)} max=${lat.at(-1)!.toFixed(1)}`);
// per 100 ms bucket: count > 20 ms, max
const buckets = new Map<number, { n: number; slow: number; max: number }>();
for (const [t, l] of samples) { const b = Math.floor(t / 100); const e = buckets.get(b) ?? { n: 0, slow: 0, max: 0 }; e.n++; if (l > 20) e.slow++; e.max = Math.max(e.max, l); buckets.set(b, e); }
console.log([...buckets].filter(([, e]) => e.slow > 0).map(([b, e]) => `${(b / 10).toFixed(1)}s:${e.slow}/${e.n} max ${e.max.toFixed(0)}`).join("\n"));
await product.dispose();
repository.close();
process.exit(0);
