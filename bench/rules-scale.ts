/**
 * `npm run bench:rules`: operator rules at scale (issue 22 item 7), on the product bundle in workerd.
 * Rules go in through the product's own import endpoint (`POST /v1/admin/rules/import`, one version
 * bump per import), in the mix analysts write: 90 % one CLI, 5 % one called number, 5 % prefixes,
 * ranges, trunks, carriers and time windows. It measures, each on a fresh isolate where it says so:
 *   - at BENCH_RELOAD_RULES (100 000): the isolate's first compile from D1, the live heap, and the time to
 *     a verdict while the isolate compiles a new base (1 000 more rules imported) under a steady load;
 *   - a fresh isolate loading the base that compile saved in KV;
 *   - at BENCH_HEAP_RULES (1 000 000): a fresh isolate's compile from D1 and one from the saved base, with
 *     the live heap (V8's, after a full collection, through the inspector) and the typed arrays beside it.
 * Rewrites the rules section of BENCHMARKS.md (BENCH_WRITE=0 to leave it).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { buildWorkers } from "./lib/build";
import { describeMachine } from "./lib/environment";
import { adminHeaders, buildBenchPki, sbcHeaders } from "./lib/fixtures";
import { connectInspector } from "./lib/inspector";
import { encodeRuleBase } from "../src/rules/base-encoding";
import { KeyedRuleIndexBuilder, numberKey, ruleIdHash } from "../src/rules/keyed-index";
import { RuleMatcherBuilder } from "../src/rules/matcher";
import type { Rule } from "../src/rules/rule";
import { median, updateBenchmarks } from "./lib/report";
import { startProduct } from "./lib/workers";
import type { RunningWorker } from "./lib/workerd";

const env = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);
const RELOAD_RULES = env("BENCH_RELOAD_RULES", 100_000);
const HEAP_RULES = env("BENCH_HEAP_RULES", 1_000_000);
const INSPECTOR_PORT = 19_231;
const IMPORT_BATCH = 1_000;
const IMPORT_CONCURRENCY = 4;
/** Verdicts per second while a reload runs: a steady trickle, so each latency is the isolate's, not a queue's. */
const RELOAD_LOAD_RATE = 40;
const MiB = (bytes: number) => bytes / 1024 / 1024;

/** The number rule `index` is about: distinct for every index. */
const benchNumber = (index: number) => String(77_000_000_000 + ((index * 7_919) % 1_000_000_000));

/** Rule `index` of the bench's rule set, in the shapes analysts write; below 95 of every 100, one exact number. */
function benchRule(index: number): object {
  const number = benchNumber(index);
  const slot = index % 100;
  const reason = `bench rule ${index}`;
  const action = slot % 10 === 0 ? { action: "tag", label: "Reported" } : { action: "block" };
  if (slot < 90) return { criteria: { cli: { exact: number } }, ...action, reason };
  if (slot < 95) return { criteria: { destination: { exact: number } }, ...action, reason };
  const shapes = [
    { cli: { prefix: number.slice(0, 8) } },
    { cli: { from: `${number.slice(0, 8)}000`, to: `${number.slice(0, 8)}999` } },
    { cli: { prefix: number.slice(0, 7) }, trunk: `trunk-${index % 200}` },
    { trunk: `trunk-${index % 200}`, timeWindow: { start: "22:00", end: "06:00" } },
    { carrier: `Carrier ${index % 200}` },
  ];
  return { criteria: shapes[slot - 95], ...action, reason };
}

async function post(url: string, path: string, body: unknown, headers: Record<string, string>): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${url}${path}`, { method: "POST", headers: { ...headers, "Content-Type": "application/json" }, body: JSON.stringify(body) });
  return { status: response.status, json: await response.json().catch(() => null) };
}

/** Imports rules [from, to) through the product's import endpoint, publishing once at the end (unless told not to). */
async function importRules(url: string, from: number, to: number, options: { publish: boolean } = { publish: true }): Promise<{ rules: number; seconds: number }> {
  const started = performance.now();
  const importId = crypto.randomUUID();
  let next = from;
  await Promise.all(
    Array.from({ length: IMPORT_CONCURRENCY }, async () => {
      while (next < to) {
        const first = next;
        next = Math.min(to, next + IMPORT_BATCH);
        const rules = Array.from({ length: next - first }, (_, offset) => benchRule(first + offset));
        const answer = await post(url, "/v1/admin/rules/import", { importId, first, rules, publish: false }, adminHeaders);
        if (answer.status !== 200) throw new Error(`import batch at ${first}: ${answer.status} ${JSON.stringify(answer.json).slice(0, 300)}`);
      }
    }),
  );
  if (options.publish) {
    const published = await post(url, "/v1/admin/rules/import", { importId, first: to, rules: [], publish: true }, adminHeaders);
    if (published.status !== 200) throw new Error(`publishing the import: ${published.status}`);
  }
  return { rules: to - from, seconds: (performance.now() - started) / 1000 };
}

/** A call no bench rule names (a German number on the international trunk): its rules check reports how many rules are loaded. */
const PROBE = { from: "<sip:+4930123456@transit.example>", to: "<sip:+77012345678@operator.example>", ingress: { trunk: "intl-1", carrier: "TransitCo", international: true } };

async function probe(url: string): Promise<{ latencyMs: number; rulesLoaded: number | null }> {
  const started = performance.now();
  const { status, json } = await post(url, "/v1/verdict", PROBE, sbcHeaders);
  const latencyMs = performance.now() - started;
  if (status !== 200) throw new Error(`verdict answered ${status}`);
  const rules = (json as { verdict: { checks: { id: string; result: string; evidence?: { rulesLoaded?: number } }[] } }).verdict.checks.find((check) => check.id === "rules.operator");
  return { latencyMs, rulesLoaded: rules?.result === "pass" ? (rules.evidence?.rulesLoaded ?? null) : null };
}

interface LoadTiming {
  /** From the first verdict this isolate served to the first that reports every rule loaded. */
  seconds: number;
  /** The slowest verdict while it loaded: each is held to the verdict's budget, answering on what is loaded. */
  slowestVerdictMs: number;
  verdicts: number;
}

/** Asks for a verdict every 100 ms until one reports `expected` rules loaded. */
async function timeUntilLoaded(url: string, expected: number): Promise<LoadTiming> {
  const started = performance.now();
  let slowest = 0;
  for (let verdicts = 1; ; verdicts++) {
    const { latencyMs, rulesLoaded } = await probe(url);
    slowest = Math.max(slowest, latencyMs);
    if (rulesLoaded !== null && rulesLoaded >= expected) return { seconds: (performance.now() - started) / 1000, slowestVerdictMs: slowest, verdicts };
    if (performance.now() - started > 900_000) throw new Error(`rules not loaded after 15 minutes (last: ${rulesLoaded})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface HeapReading {
  usedMiB: number;
  /** What the isolate holds outside V8's heap (typed arrays' buffers), as the inspector reports it. */
  backingMiB: number | null;
}

/** The isolate's live heap after a full collection (which workerd runs as a task of the isolate: a request gives it its turn). */
async function liveHeap(url: string): Promise<HeapReading> {
  const inspector = await connectInspector(INSPECTOR_PORT);
  try {
    const collected = inspector.send("HeapProfiler.collectGarbage");
    await probe(url);
    await collected;
    const usage = (await inspector.send("Runtime.getHeapUsage")) as { usedSize: number; backingStorageSize?: number };
    return { usedMiB: MiB(usage.usedSize), backingMiB: usage.backingStorageSize === undefined ? null : MiB(usage.backingStorageSize) };
  } finally {
    inspector.close();
  }
}

async function savedBaseVersion(worker: RunningWorker): Promise<number | null> {
  const kv = await worker.miniflare.getKVNamespace("ORIGIN_SNAPSHOTS");
  return ((await kv.get("origin/rule-base", "json")) as { version: number } | null)?.version ?? null;
}

interface Latencies {
  verdicts: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

interface ReloadUnderLoad {
  reloadSeconds: number;
  /** The same steady load just before, with no reload: what the machine answers anyway. */
  before: Latencies;
  during: Latencies;
}

function latencies(values: number[]): Latencies {
  const sorted = [...values].sort((a, b) => a - b);
  return { verdicts: sorted.length, p50Ms: median(sorted), p99Ms: sorted[Math.floor(sorted.length * 0.99)] ?? NaN, maxMs: sorted[sorted.length - 1] ?? NaN };
}

const BEFORE_RELOAD_MS = 5_000;

/**
 * Steady verdicts while the isolate compiles a new base. 1 000 rules are imported unpublished; the
 * steady load runs 5 s with nothing else happening, then the origin version is moved in D1 directly,
 * as a write through another isolate moves it: this isolate's next version check (every 5 s) finds
 * 1 000 changes, compiles the whole table again page by page, and saves it. The reload ends when the
 * new base is saved; its latencies are those of the verdicts sent from the version move until then,
 * answered meanwhile on the previous snapshot.
 */
async function verdictsDuringReload(worker: RunningWorker, from: number): Promise<ReloadUnderLoad> {
  await importRules(worker.url, from, from + 1_000, { publish: false });
  const before = await savedBaseVersion(worker);
  const sent: { at: number; latencyMs: number }[] = [];
  const inFlight: Promise<unknown>[] = [];
  let running = true;
  const started = performance.now();
  const load = (async () => {
    for (let count = 0; running; count++) {
      const due = started + (count * 1000) / RELOAD_LOAD_RATE;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
      const at = performance.now();
      inFlight.push(probe(worker.url).then(({ latencyMs }) => sent.push({ at, latencyMs })));
    }
  })();
  await new Promise((resolve) => setTimeout(resolve, BEFORE_RELOAD_MS));
  const moved = performance.now();
  const db = await worker.miniflare.getD1Database("DB");
  await db.prepare("UPDATE origin_version SET version = version + 1 WHERE id = 1").run();
  while ((await savedBaseVersion(worker)) === before) await new Promise((resolve) => setTimeout(resolve, 50));
  const reloaded = performance.now();
  running = false;
  await load;
  await Promise.all(inFlight);
  return {
    reloadSeconds: (reloaded - moved) / 1000,
    before: latencies(sent.filter(({ at }) => at < moved).map(({ latencyMs }) => latencyMs)),
    during: latencies(sent.filter(({ at }) => at >= moved && at <= reloaded).map(({ latencyMs }) => latencyMs)),
  };
}

/**
 * What compiling and saving a base of `count` rules holds the isolate for at once, step by step (the
 * longest of each kind, the best of 3 runs), measured here in Node's V8 on the product's own code: a
 * verdict arriving meanwhile waits for the step in progress. (In workerd, locally, it also waits for the
 * D1 and KV simulators, which run on the Worker's thread; deployed they do not.)
 */
async function synchronousSteps(count: number): Promise<{ step: string; ms: number }[]> {
  const keyed = new KeyedRuleIndexBuilder();
  const wholeRules: Rule[] = [];
  for (let index = 0; index < count; index++) {
    const rule = benchRule(index) as Pick<Rule, "criteria" | "action" | "reason">;
    if (index % 100 < 95) keyed.append(numberKey(benchNumber(index))!, { action: rule.action, mode: "enforce", expiresAt: null, idHash: ruleIdHash(crypto.randomUUID()) });
    else wholeRules.push({ id: crypto.randomUUID(), mode: "enforce", label: null, author: "bench", expiresAt: null, reportId: null, version: 1, createdAt: 0, updatedAt: 0, ...rule });
  }
  const best = (work: () => unknown) => {
    let fastest = Infinity;
    for (let run = 0; run < 3; run++) {
      const started = performance.now();
      work();
      fastest = Math.min(fastest, performance.now() - started);
    }
    return fastest;
  };
  // A page as D1 returns it: the criteria as the JSON text they are stored as.
  const page = wholeRules.slice(0, 500).map((rule) => ({ ...rule, criteria: JSON.stringify(rule.criteria) }));
  const whole = new RuleMatcherBuilder();
  for (const rule of wholeRules) whole.add(rule);
  const base = { version: 1, whole: whole.build(), wholeRules, keyed: { cli: keyed.build(), destination: new KeyedRuleIndexBuilder().build() } };
  const bytes = await encodeRuleBase(base);
  const encoder = new TextEncoder();
  const pageIds = Array.from({ length: 5_000 }, () => crypto.randomUUID());
  return [
    { step: "a page of 500 rules held whole read (parse, index)", ms: best(() => {
      const builder = new RuleMatcherBuilder();
      for (const row of page) builder.add({ ...row, criteria: JSON.parse(row.criteria) as Rule["criteria"] });
    }) },
    { step: "a page of 5 000 exact-number rules read (append)", ms: best(() => {
      const builder = new KeyedRuleIndexBuilder();
      for (let index = 0; index < 5_000; index++) builder.append(1e15 + index, { action: "block", mode: "enforce", expiresAt: null, idHash: ruleIdHash(pageIds[index]!) });
    }) },
    { step: `the ${wholeRules.length} rules held whole indexed (build)`, ms: best(() => whole.build()) },
    { step: "a slice of 2 000 rules held whole encoded for the saved copy", ms: best(() => encoder.encode(wholeRules.slice(0, 2_000).map((rule) => `${JSON.stringify(rule)}\n`).join(""))) },
    { step: `the saved copy assembled (${MiB(bytes.length).toFixed(1)} MiB copied)`, ms: best(() => new Uint8Array(bytes.length).set(bytes)) },
  ];
}

/**
 * The control for the reload's figure: the same steady load while only the local D1 pages the keyed
 * rules out, as the compile does, asked from here rather than by the Worker. The Worker does nothing
 * extra; whatever its verdicts lose is the local D1's work on their thread.
 */
async function verdictsDuringD1Paging(worker: RunningWorker): Promise<Latencies> {
  const db = await worker.miniflare.getD1Database("DB");
  const sent: number[] = [];
  const inFlight: Promise<unknown>[] = [];
  let running = true;
  const started = performance.now();
  const load = (async () => {
    for (let count = 0; running; count++) {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + (count * 1000) / RELOAD_LOAD_RATE - performance.now())));
      inFlight.push(probe(worker.url).then(({ latencyMs }) => sent.push(latencyMs)));
    }
  })();
  const page = db.prepare("SELECT cli_key, action, expires_at, rowid FROM rules WHERE cli_key IS NOT NULL AND (cli_key, rowid) > (?1, ?2) ORDER BY cli_key, rowid LIMIT 5000");
  for (let afterKey = 0, afterRow = 0; ; ) {
    const rows = await page.bind(afterKey, afterRow).raw<[number, string, number | null, number]>();
    if (rows.length < 5_000) break;
    [afterKey, , , afterRow] = rows[rows.length - 1]!;
  }
  running = false;
  await load;
  await Promise.all(inFlight);
  return latencies(sent);
}

const describeLatencies = ({ verdicts, p50Ms, p99Ms, maxMs }: Latencies) => `${verdicts} verdicts p50 ${p50Ms.toFixed(1)} ms, p99 ${p99Ms.toFixed(1)} ms, max ${maxMs.toFixed(1)} ms`;

async function waitForSavedBase(worker: RunningWorker, after: number | null): Promise<void> {
  while ((await savedBaseVersion(worker)) === after) await new Promise((resolve) => setTimeout(resolve, 200));
}

async function main(): Promise<void> {
  const machine = describeMachine();
  // Other processes' load shows in every wall-clock figure below.
  const loadAtStart = loadavg()[0]!;
  console.log("building the product (wrangler deploy --dry-run) …");
  const { product } = buildWorkers();
  const pki = await buildBenchPki();
  const persistTo = mkdtempSync(join(tmpdir(), "shaken-edge-rules-"));
  const start = (migrated: boolean) => startProduct(product, pki, INSPECTOR_PORT, { persistTo, migrated });
  try {
    let worker = await start(false);
    const emptyHeap = await liveHeap(worker.url);
    console.log(`no rules: heap ${emptyHeap.usedMiB.toFixed(1)} MiB`);
    const seeded = await importRules(worker.url, 0, RELOAD_RULES);
    console.log(`imported ${seeded.rules} rules in ${seeded.seconds.toFixed(1)} s`);
    // The isolate loaded its (empty) snapshot for the first probe: a restart makes the first load a compile of them all.
    await worker.dispose();
    worker = await start(true);
    const reloadCompile = await timeUntilLoaded(worker.url, RELOAD_RULES);
    const reloadHeap = await liveHeap(worker.url);
    await waitForSavedBase(worker, null);
    console.log(`${RELOAD_RULES} rules: compiled from D1 in ${reloadCompile.seconds.toFixed(1)} s, heap ${reloadHeap.usedMiB.toFixed(1)} MiB`);
    const reload = await verdictsDuringReload(worker, RELOAD_RULES);
    const pagingOnly = await verdictsDuringD1Paging(worker);
    console.log(`reload of ${RELOAD_RULES + 1_000} rules under load: ${reload.reloadSeconds.toFixed(1)} s, ${describeLatencies(reload.during)} during it, ${describeLatencies(reload.before)} before it`);
    await worker.dispose();

    worker = await start(true);
    const reloadFromSaved = await timeUntilLoaded(worker.url, RELOAD_RULES + 1_000);
    console.log(`${RELOAD_RULES + 1_000} rules: a fresh isolate loaded the saved base in ${reloadFromSaved.seconds.toFixed(1)} s`);
    const imported = await importRules(worker.url, RELOAD_RULES + 1_000, HEAP_RULES);
    console.log(`imported ${imported.rules} more rules in ${imported.seconds.toFixed(1)} s`);
    const savedBefore = await savedBaseVersion(worker);
    await worker.dispose();

    // More changes since the saved base than an isolate reads: the fresh isolate compiles from D1 and saves.
    worker = await start(true);
    const heapCompile = await timeUntilLoaded(worker.url, HEAP_RULES);
    const heapAfterCompile = await liveHeap(worker.url);
    await waitForSavedBase(worker, savedBefore);
    console.log(`${HEAP_RULES} rules: compiled from D1 in ${heapCompile.seconds.toFixed(1)} s, heap ${heapAfterCompile.usedMiB.toFixed(1)} MiB`);
    await worker.dispose();

    worker = await start(true);
    const heapFromSaved = await timeUntilLoaded(worker.url, HEAP_RULES);
    const heapAfterSaved = await liveHeap(worker.url);
    console.log(`${HEAP_RULES} rules: a fresh isolate loaded the saved base in ${heapFromSaved.seconds.toFixed(1)} s, heap ${heapAfterSaved.usedMiB.toFixed(1)} MiB`);
    await worker.dispose();

    const steps = await synchronousSteps(HEAP_RULES);
    for (const { step, ms } of steps) console.log(`${step}: ${ms.toFixed(1)} ms`);
    const describeLoad = (timing: LoadTiming) => `${timing.seconds.toFixed(1)} s (${timing.verdicts} verdicts meanwhile, slowest ${timing.slowestVerdictMs.toFixed(0)} ms)`;
    const describeHeap = (heap: HeapReading) => `${heap.usedMiB.toFixed(1)} MiB${heap.backingMiB === null ? "" : ` + ${heap.backingMiB.toFixed(1)} MiB of buffers`}`;
    const markdown = [
      `Run of ${new Date().toISOString()} · ${machine.nproc} × ${machine.cpuModel} · workerd ${machine.workerd} · load average at the start ${loadAtStart.toFixed(1)} · \`npm run bench:rules\``,
      "",
      "| figure | measured |",
      "| --- | --- |",
      `| live heap, no rules | ${describeHeap(emptyHeap)} |`,
      `| import of ${RELOAD_RULES} rules (${IMPORT_BATCH} per request, ${IMPORT_CONCURRENCY} at a time, one version bump) | ${seeded.seconds.toFixed(1)} s |`,
      `| ${RELOAD_RULES} rules: fresh isolate, compiled from D1 | ${describeLoad(reloadCompile)}; live heap ${describeHeap(reloadHeap)} |`,
      `| **time to a verdict during a reload at ${RELOAD_RULES} rules** (a new base compiled from D1 while ${RELOAD_LOAD_RATE} verdicts/s arrive) | reload ${reload.reloadSeconds.toFixed(1)} s; ${describeLatencies(reload.during)} during it, against ${describeLatencies(reload.before)} in the ${BEFORE_RELOAD_MS / 1000} s before it, and ${describeLatencies(pagingOnly)} while only the local D1 pages the keyed rules out (no Worker work: the control) |`,
      `| ${RELOAD_RULES + 1_000} rules: fresh isolate, from the saved base | ${describeLoad(reloadFromSaved)} |`,
      `| import of ${imported.rules} more rules | ${imported.seconds.toFixed(1)} s |`,
      `| ${HEAP_RULES} rules: fresh isolate, compiled from D1 | ${describeLoad(heapCompile)}; live heap ${describeHeap(heapAfterCompile)} |`,
      `| **${HEAP_RULES} rules: fresh isolate, from the saved base** | ${describeLoad(heapFromSaved)}; **live heap ${describeHeap(heapAfterSaved)}** |`,
      "",
      `The longest synchronous steps of compiling and saving a base of ${HEAP_RULES} rules (Node's V8, best of 3; what a verdict arriving meanwhile waits for):`,
      "",
      "| step | ms |",
      "| --- | ---: |",
      ...steps.map(({ step, ms }) => `| ${step} | ${ms.toFixed(1)} |`),
    ].join("\n");
    console.log(`\n${markdown}`);
    if (process.env.BENCH_WRITE !== "0") updateBenchmarks("rules", markdown);
  } finally {
    rmSync(persistTo, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error("the rules benchmark could not run:", error);
    process.exit(1);
  },
);
