/**
 * `npm run bench`: the benchmark (issues 6 and 19). Builds the product and the baseline Worker with
 * wrangler's bundler, runs each on its own workerd process (no wrangler dev proxy), drives B0, B1, M1,
 * M2, M4, S1–S5, the interleaved rounds and the half-rate latency runs over loopback, reads the product's
 * own store counters from GET /metrics around each of its windows (rows written and read, Durable
 * Object requests: what a verdict costs, bench/lib/cost.ts), and rewrites the results and targets
 * sections of BENCHMARKS.md. Exits non-zero only when the benchmark cannot run; no figure is ever a failure.
 *
 * Environment: BENCH_DURATION (s, default 10), BENCH_WARMUP (s, 3), BENCH_CONNECTIONS (50),
 * BENCH_RULES (10000), BENCH_QUIET_CORES (0.15), BENCH_QUIET_TIMEOUT (s, 120), BENCH_WRITE (1),
 * BENCH_PACED_DURATION (s, 30: the steady-arrival half-rate runs), BENCH_TRACE_GC=1 (print the
 * Worker isolate's full GCs as V8 traces them; `phases`: each one split into V8's own phases and the rest),
 * BENCH_ONLY (a comma-separated subset such as `S4` or `B0,S2,herd`, for before/after runs of one
 * fix: only those run, nothing is written, and the per-row lines are the output),
 * BENCH_ROUNDS (3) and BENCH_ROUND_DURATION (s, 5): the interleaved ratio rounds (`rounds` in BENCH_ONLY),
 * BENCH_V8_FLAGS (extra V8 flags for workerd, for experiments: nothing is written either),
 * BENCH_PRODUCT_VARS (a JSON object of vars laid over the product's, such as {"LOG_VERDICTS":"false"}:
 * nothing is written either).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildWorkers } from "./lib/build";
import { describeMachine } from "./lib/environment";
import { buildBenchPki, signCalls } from "./lib/fixtures";
import { runLoad, type LoadResult, type RequestSource, type RequestSpec } from "./lib/load";
import { runPaced } from "./lib/paced";
import { waitForQuiet } from "./lib/proc";
import { storeUseBetween, storeUseOf, verdictCost, type StoreUse } from "./lib/cost";
import { scrapeMetrics } from "./lib/metrics";
import { renderResults, renderTargets, ROUND_WINDOWS, updateBenchmarks, type BenchReport, type GcSummary, type RoundResult, type ScenarioResult } from "./lib/report";
import { startBenchRepository } from "./lib/repository";
import { atisRequest, coldX5uSource, cycle, inviteRequest, mixedRequests, signedPool, unsignedInternationalRequests } from "./lib/scenarios";
import { seedOrigin } from "./lib/seed";
import { startBaseline, startProduct } from "./lib/workers";
import { collectionsBetween, type RunningWorker } from "./lib/workerd";

const env = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);
const settings = {
  durationSeconds: env("BENCH_DURATION", 10),
  warmupSeconds: env("BENCH_WARMUP", 3),
  connections: env("BENCH_CONNECTIONS", 50),
  rules: env("BENCH_RULES", 10_000),
  quietCores: env("BENCH_QUIET_CORES", 0.15),
  quietTimeoutSeconds: env("BENCH_QUIET_TIMEOUT", 120),
  // Long enough for several of the Worker isolate's full GCs (one every few seconds at half rate):
  // whether a ~100–200 ms pause falls inside a 10 s window decides a 10 s run's p99.
  pacedSeconds: env("BENCH_PACED_DURATION", 30),
  // Interleaved short windows of each target's scenario and its baseline (see ratioRounds).
  rounds: env("BENCH_ROUNDS", 3),
  roundSeconds: env("BENCH_ROUND_DURATION", 5),
};
const only = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(",").map((name) => name.trim())) : null;
const wanted = (name: string) => only === null || only.has(name);
const POOL_SIZE = 4_000;
const S3_CALLS_PER_X5U = 10;

/** An S1 answer whose call verified: every ATIS answer is a 200, whatever the verstat. */
const verifies = (status: number, body: string) => status === 200 && body.includes('"TN-Validation-Passed"');

/** M1 (bench/baseline-worker.ts) answers S1's own requests, in the same order, on the baseline Worker. */
const onM1 = (s1: () => RequestSpec) => () => ({ ...s1(), path: "/m1" });

/** M2 answers S2's own requests (the raw INVITE, the same headers) likewise. */
const onM2 = (s2: () => RequestSpec) => () => ({ ...s2(), path: "/m2" });

/** An S2 or M2 answer whose call verified and signs the INVITE's numbers. */
const verdictVerifies = (status: number, body: string) => status === 200 && body.includes('"verstat":"TN-Validation-Passed"');

/** M4's answer: the calling number classified, as a mobile of the home plan (S4's callers are). */
const classifiesMobile = (status: number, body: string) => status === 200 && body.includes('"type":"MOBILE"');

/** Sends one request and checks the answer before any load: a scenario that does not do what it says cannot run. */
async function expectAnswer(worker: RunningWorker, spec: RequestSpec, check: (status: number, body: string) => boolean, what: string): Promise<string> {
  const response = await fetch(`${worker.url}${spec.path}`, { method: spec.method, headers: spec.headers, body: spec.body });
  const body = await response.text();
  if (!check(response.status, body)) throw new Error(`${what}: unexpected answer ${response.status} ${body.slice(0, 600)}`);
  return body;
}

/**
 * expectAnswer, asked again every second until the answer is right or `patienceMs` has passed: after
 * the bench's thousands of rule changes the rules snapshot compiles a new base in the background
 * (src/rules) and answers on the one it had meanwhile, so S4's first verdicts may not see every rule yet.
 */
async function expectAnswerWithin(worker: RunningWorker, spec: RequestSpec, check: (status: number, body: string) => boolean, what: string, patienceMs: number): Promise<string> {
  const started = performance.now();
  for (;;) {
    try {
      return await expectAnswer(worker, spec, check, what);
    } catch (error) {
      if (performance.now() - started > patienceMs) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

/**
 * Background work a window's verdicts left (write-behind batches linger 250 ms, then write) is given
 * this long to land before the product's stores are read, at both ends of the window alike.
 */
const STORES_SETTLE_MS = 1_500;

/** The product's store counters once its background writes have landed (GET /metrics flushes the isolate's own counts first). */
async function settledStoreUse(worker: RunningWorker): Promise<StoreUse> {
  await new Promise((resolve) => setTimeout(resolve, STORES_SETTLE_MS));
  return storeUseOf(await scrapeMetrics(worker.url));
}

async function measure(
  name: string,
  worker: RunningWorker,
  others: number[],
  source: RequestSource,
  extra: { overallRate?: number; beforeMeasure?: () => Promise<void>; durationSeconds?: number; warmupSeconds?: number; stores?: boolean } = {},
): Promise<ScenarioResult> {
  const quiet = await waitForQuiet([worker.pid, ...others], settings.quietCores, settings.quietTimeoutSeconds * 1000);
  process.stdout.write(`${name.padEnd(28)} `);
  let storesBefore: StoreUse | null = null;
  const beforeMeasure = async () => {
    await extra.beforeMeasure?.();
    if (extra.stores) storesBefore = await settledStoreUse(worker);
  };
  const result: LoadResult = await runLoad(
    { url: worker.url, pid: worker.pid, connections: settings.connections, durationSeconds: settings.durationSeconds, warmupSeconds: settings.warmupSeconds, ...extra, beforeMeasure },
    source,
  );
  const storage = storesBefore === null ? null : { verdicts: result.requests, use: storeUseBetween(storesBefore, await settledStoreUse(worker)) };
  const cost = storage ? verdictCost(result.cpuMsPerRequest, storage.use, storage.verdicts) : null;
  console.log(
    `${result.requestsPerSecond.toFixed(0).padStart(6)} req/s  p50 ${result.p50Ms.toFixed(2)} ms  p99 ${result.p99Ms.toFixed(2)} ms  ` +
      `cpu ${(result.cpuMsPerRequest * 1000).toFixed(0)} µs/req  other ${result.otherCores.toFixed(2)} cores  ${JSON.stringify(result.statusCounts)}` +
      (cost ? `  rows written ${cost.rowsWritten.toFixed(3)}/verdict (${JSON.stringify(storage!.use.rowsWritten)})  DO requests ${cost.durableObjectRequests.toFixed(3)}/verdict  USD ${cost.usdPerMillion.total.toFixed(3)}/M` : ""),
  );
  return gcLedger.track(worker, { name, ...result, quietBeforeCores: quiet.otherCores, overallRate: extra.overallRate ?? null, fullGcs: NO_GCS, storage });
}

const NO_GCS: GcSummary = { count: 0, maxPauseMs: 0, totalPauseMs: 0, atSeconds: [] };

/**
 * workerd's stdout (where V8 traces its collections) reaches the bench in buffered chunks, so a
 * window's collections are only all known once the process has exited: results are filled in then.
 */
const gcLedger = {
  pending: [] as { worker: RunningWorker; result: { windowFrom: number; windowTo: number; fullGcs: GcSummary } }[],
  track<T extends { windowFrom: number; windowTo: number; fullGcs: GcSummary }>(worker: RunningWorker, result: T): T {
    this.pending.push({ worker, result });
    return result;
  },
  async settle(worker: RunningWorker): Promise<void> {
    await worker.dispose();
    await new Promise((resolve) => setTimeout(resolve, 500)); // the exiting process's last lines
    for (const { result } of this.pending.filter((entry) => entry.worker === worker)) {
      result.fullGcs = collectionsBetween(worker.collections, result.windowFrom, result.windowTo);
    }
    this.pending = this.pending.filter((entry) => entry.worker !== worker);
  },
};

/**
 * A steady-arrival run, with the Worker isolate's full collections during it. `label` is laid on the
 * result before the ledger takes it: the ledger fills in the very object it holds, so a copy made
 * afterwards would keep no collections.
 */
async function paced<Label extends object>(worker: RunningWorker, source: () => RequestSpec, rate: number, label: Label) {
  const result = await runPaced(worker.url, source, rate, settings.pacedSeconds);
  return gcLedger.track(worker, { ...result, ...label, fullGcs: NO_GCS });
}

/**
 * The targets' figures from interleaved short windows: B1, S1, S2, B1p, M1, M2, B0, S4, S5, B0p, M4
 * (ROUND_WINDOWS), then again, with both workers up. A single window of each measures the machine's
 * speed at two different moments as well as the code (this virtual machine's speed drifts by the hour),
 * so the targets are judged on the median round, and the spread says how far one window can be trusted.
 */
async function ratioRounds(
  baseline: RunningWorker,
  product: RunningWorker,
  repositoryPid: number,
  sources: { S1: () => Promise<() => RequestSpec>; S2: () => Promise<() => RequestSpec>; S4: () => Promise<RequestSource>; S5: () => Promise<RequestSource>; M4: RequestSource } & Record<
    "B0" | "B0p" | "B1" | "B1p",
    RequestSpec
  >,
): Promise<RoundResult[]> {
  const short = { durationSeconds: settings.roundSeconds, warmupSeconds: 1 };
  const onBaseline = (name: string, source: RequestSource) => measure(name, baseline, [product.pid, repositoryPid], source, short);
  const onProduct = (name: string, source: RequestSource) => measure(name, product, [baseline.pid, repositoryPid], source, { ...short, stores: true });
  const rounds: RoundResult[] = [];
  for (let round = 1; round <= settings.rounds; round++) {
    const s1 = await sources.S1();
    // Every answer is a 200 whatever the verstat: check the round's calls verify, as the S1 window does.
    await expectAnswer(product, s1(), verifies, `S1 round ${round}`);
    const m1 = onM1(s1);
    await expectAnswer(baseline, m1(), verifies, `M1 round ${round}`);
    const s2 = await sources.S2();
    await expectAnswer(product, s2(), verdictVerifies, `S2 round ${round}`);
    const m2 = onM2(s2);
    await expectAnswer(baseline, m2(), verdictVerifies, `M2 round ${round}`);
    const results: Record<keyof RoundResult, ScenarioResult> = {
      B1: await onBaseline(`B1 round ${round}`, sources.B1),
      S1: await onProduct(`S1 round ${round}`, s1),
      S2: await onProduct(`S2 round ${round}`, s2),
      B1p: await onBaseline(`B1p round ${round}`, sources.B1p),
      M1: await onBaseline(`M1 round ${round}`, m1),
      M2: await onBaseline(`M2 round ${round}`, m2),
      B0: await onBaseline(`B0 round ${round}`, sources.B0),
      S4: await onProduct(`S4 round ${round}`, await sources.S4()),
      S5: await onProduct(`S5 round ${round}`, await sources.S5()),
      B0p: await onBaseline(`B0p round ${round}`, sources.B0p),
      M4: await onBaseline(`M4 round ${round}`, sources.M4),
    };
    rounds.push(
      Object.fromEntries(ROUND_WINDOWS.map((key) => [key, { requestsPerSecond: results[key].requestsPerSecond, cpuMsPerRequest: results[key].cpuMsPerRequest, otherCores: results[key].otherCores, storage: results[key].storage }])) as RoundResult,
    );
  }
  return rounds;
}

async function main(): Promise<void> {
  const machine = describeMachine();
  console.log(`building workers (wrangler deploy --dry-run) …`);
  const built = buildWorkers();
  const pki = await buildBenchPki();
  const repository = await startBenchRepository(pki.chainPem);
  const report: BenchReport = { startedAt: new Date().toISOString(), machine, settings, scenarios: {}, paced: {}, pacedFloor: {}, pacedLeast: {}, rounds: [], seeding: null, s3: null, herd: null };
  try {
    // Baselines: B0 and B1 on the bench-only Worker.
    const [fixed] = await signCalls(pki, `${repository.url}/b1.pem`, 1);
    const baselineBindings = { BENCH_JWS: fixed!.jws, BENCH_JWK: pki.leafPublicJwk };
    const b0: RequestSpec = { method: "GET", path: "/b0" };
    const b1: RequestSpec = { method: "GET", path: "/b1" };
    // Informational: B0 and B1 answering S4's and S1's own requests (POST, the scenario's headers and JSON body, which they read).
    const b0Post: RequestSpec = { ...unsignedInternationalRequests()[0]!, path: "/b0" };
    const b1Post: RequestSpec = { ...atisRequest(fixed!), path: "/b1" };
    // Informational: the least a compliant handler does with each scenario's requests (M1 for S1, M4 for S4).
    const warmX5u = `${repository.url}/warm.pem`;
    const m4 = cycle(unsignedInternationalRequests().map((spec) => ({ ...spec, path: "/m4" })));
    const baseline = await startBaseline(built.baseline, baselineBindings);
    console.log(`baseline worker: workerd pid ${baseline.pid} serves ${baseline.url} itself`);
    try {
      await expectAnswer(baseline, b1, (status) => status === 200, "B1");
      await expectAnswer(baseline, m4(), classifiesMobile, "M4");
      if (wanted("B0")) report.scenarios.B0 = await measure("B0 fixed 200", baseline, [repository.pid], b0);
      if (wanted("B0p")) report.scenarios.B0p = await measure("B0p B0 with S4's request", baseline, [repository.pid], b0Post);
      if (wanted("M4")) report.scenarios.M4 = await measure("M4 least origin check", baseline, [repository.pid], m4);
      if (wanted("B1")) report.scenarios.B1 = await measure("B1 one compactVerify", baseline, [repository.pid], b1);
      if (wanted("B1p")) report.scenarios.B1p = await measure("B1p B1 with S1's request", baseline, [repository.pid], b1Post);
      if (wanted("M1")) {
        const m1 = onM1(cycle(await signedPool(pki, warmX5u, POOL_SIZE, atisRequest)));
        await expectAnswer(baseline, m1(), verifies, "M1");
        report.scenarios.M1 = await measure("M1 least verification", baseline, [repository.pid], m1);
      }
      if (wanted("M2")) {
        const m2 = onM2(cycle(await signedPool(pki, warmX5u, POOL_SIZE, inviteRequest)));
        await expectAnswer(baseline, m2(), verdictVerifies, "M2");
        report.scenarios.M2 = await measure("M2 least INVITE verdict", baseline, [repository.pid], m2);
      }
    } finally {
      await gcLedger.settle(baseline);
    }

    const product = await startProduct(built.product, pki);
    console.log(`product worker: workerd pid ${product.pid} serves ${product.url} itself`);
    try {
      const others = [repository.pid];
      console.log(`seeding ${settings.rules} operator rules, configuration and roaming table through the admin API …`);
      if (wanted("S4") || wanted("S5") || wanted("rounds")) report.seeding = await seedOrigin(product.url, settings.rules);
      if (report.seeding) console.log(`  ${report.seeding.rules} rules in ${report.seeding.seconds.toFixed(1)} s`);

      if (wanted("S1")) {
        const s1 = await signedPool(pki, warmX5u, POOL_SIZE, atisRequest);
        await expectAnswer(product, s1[0]!, verifies, "S1");
        report.scenarios.S1 = await measure("S1 ATIS signed, warm", product, others, cycle(s1), { stores: true });
      }

      if (wanted("S2")) {
        const s2 = await signedPool(pki, warmX5u, POOL_SIZE, inviteRequest);
        await expectAnswer(product, s2[0]!, verdictVerifies, "S2");
        report.scenarios.S2 = await measure("S2 verdict INVITE signed", product, others, cycle(s2), { stores: true });
      }

      const tag = Date.now().toString(36);
      if (wanted("S3")) {
        const cold = await coldX5uSource(pki, repository.url, tag, 8_000, S3_CALLS_PER_X5U);
        let s3Before = { paths: 0, hits: 0, maxHitsPerPath: 0 };
        let usedBefore = 0;
        report.scenarios.S3 = await measure("S3 ATIS signed, cold x5u", product, others, cold.source, {
          stores: true,
          beforeMeasure: async () => {
            await repository.reset();
            usedBefore = cold.used();
            s3Before = await repository.stats();
          },
        });
        const s3After = await repository.stats();
        report.s3 = { callsPerX5u: S3_CALLS_PER_X5U, x5uNamed: cold.used() - usedBefore, ...s3After, wrapped: cold.used() > 8_000, baseline: s3Before };
      }

      if (wanted("herd")) {
        // Thundering herd: many calls at once for one x5u nobody fetched yet.
        const [herdCall] = await signCalls(pki, `${repository.url}/herd-${tag}.pem`, 1);
        await repository.reset();
        const herdSpec = atisRequest(herdCall!);
        const herdAnswers = await Promise.all(
          Array.from({ length: 200 }, async () => (await fetch(`${product.url}${herdSpec.path}`, { method: "POST", headers: herdSpec.headers, body: herdSpec.body })).text()),
        );
        // Only the herd's own path: S3's last calls may still be fetching their x5u in the background
        // (a fetch that lost the verdict's deadline finishes to fill the cache), and those are not the herd's.
        report.herd = { concurrentCalls: 200, ok: herdAnswers.filter((body) => body.includes('"TN-Validation-Passed"')).length, ...(await repository.stats(`/herd-${tag}`)) };
        console.log(`herd: 200 concurrent calls for one new x5u → ${report.herd.hits} repository fetch(es)`);
      }

      const s4 = unsignedInternationalRequests();
      const expectS4 = () =>
        expectAnswerWithin(
          product,
          s4[1]!,
          (status, body) => status === 200 && body.includes('"rulesLoaded":' + settings.rules) && body.includes('"status":"roaming"'),
          "S4 (every origin check runs, the roaming lookup answers, all rules are loaded)",
          300_000,
        );
      if (wanted("S4")) {
        await expectS4();
        report.scenarios.S4 = await measure("S4 unsigned intl, rules", product, others, cycle(s4), { stores: true });
      }

      if (wanted("S5")) {
        const s5 = await mixedRequests(pki, warmX5u);
        report.scenarios.S5 = await measure("S5 mix 70/25/5", product, others, cycle(s5), { stores: true });
      }

      if (report.scenarios.S1 && wanted("half")) {
        const s1Half = Math.max(1, Math.floor(report.scenarios.S1.requestsPerSecond / 2));
        const s1Again = await signedPool(pki, warmX5u, POOL_SIZE, atisRequest);
        report.scenarios.S1half = await measure("S1 at half max rate", product, others, cycle(s1Again), { overallRate: s1Half });
        // The same half rate with steady arrivals (autocannon's overallRate fires each second's quota at once).
        const s1Paced = await signedPool(pki, warmX5u, POOL_SIZE, atisRequest);
        await waitForQuiet([product.pid, ...others], settings.quietCores, settings.quietTimeoutSeconds * 1000);
        report.paced.S1 = await paced(product, cycle(s1Paced), s1Half, {});
        console.log(`paced half rate: S1 p99 ${report.paced.S1.p99Ms.toFixed(2)} ms at ${s1Half} req/s, ${report.paced.S1.stalledWindows} stalled windows`);
      }
      if (report.scenarios.S4 && wanted("half")) {
        const s4Half = Math.max(1, Math.floor(report.scenarios.S4.requestsPerSecond / 2));
        report.scenarios.S4half = await measure("S4 at half max rate", product, others, cycle(s4), { overallRate: s4Half });
        await waitForQuiet([product.pid, ...others], settings.quietCores, settings.quietTimeoutSeconds * 1000);
        report.paced.S4 = await paced(product, cycle(s4), s4Half, {});
        console.log(`paced half rate: S4 p99 ${report.paced.S4.p99Ms.toFixed(2)} ms at ${s4Half} req/s, ${report.paced.S4.stalledWindows} stalled windows`);
      }

      if (wanted("rounds") && settings.rounds > 0) {
        // Both workers up at once, each idle while the other is measured.
        await expectS4();
        const pairedBaseline = await startBaseline(built.baseline, baselineBindings);
        try {
          report.rounds = await ratioRounds(pairedBaseline, product, repository.pid, {
            S1: async () => cycle(await signedPool(pki, warmX5u, POOL_SIZE, atisRequest)),
            S2: async () => cycle(await signedPool(pki, warmX5u, POOL_SIZE, inviteRequest)),
            S4: async () => cycle(s4),
            S5: async () => cycle(await mixedRequests(pki, warmX5u)),
            B0: b0,
            B0p: b0Post,
            B1: b1,
            B1p: b1Post,
            M4: m4,
          });
        } finally {
          await gcLedger.settle(pairedBaseline);
        }
      }
    } finally {
      await gcLedger.settle(product);
    }

    // The harness's floor at the same steady rates: what the generator, loopback and workerd cost with
    // (almost) nothing to do — B1 at S1's half rate, B0 at S4's.
    if (report.paced.S1 || report.paced.S4) {
      const floor = await startBaseline(built.baseline, baselineBindings);
      try {
        for (const [name, baselineName, request, pacedRun] of [["S1", "B1", b1, report.paced.S1], ["S4", "B0", b0, report.paced.S4]] as const) {
          if (!pacedRun) continue;
          await waitForQuiet([floor.pid, repository.pid], settings.quietCores, settings.quietTimeoutSeconds * 1000);
          const result = await paced(floor, () => request, pacedRun.rate, { baseline: baselineName });
          report.pacedFloor[name] = result;
          console.log(`paced floor: ${baselineName} p99 ${result.p99Ms.toFixed(2)} ms at ${pacedRun.rate} req/s, ${result.stalledWindows} stalled windows`);
        }
        // The least handler at the same rate (M1 for S1, M4 for S4): the tail any Worker doing the
        // scenario's least work has on this runtime, which the target's floor (B0, B1) does not show.
        const least = [
          ["S1", "M1", async () => onM1(cycle(await signedPool(pki, warmX5u, POOL_SIZE, atisRequest))), report.paced.S1],
          ["S4", "M4", async () => m4, report.paced.S4],
        ] as const;
        for (const [name, handler, source, pacedRun] of least) {
          if (!pacedRun) continue;
          const requests = await source();
          await waitForQuiet([floor.pid, repository.pid], settings.quietCores, settings.quietTimeoutSeconds * 1000);
          const result = await paced(floor, requests, pacedRun.rate, { handler });
          report.pacedLeast[name] = result;
          console.log(`paced least handler: ${handler} p99 ${result.p99Ms.toFixed(2)} ms at ${pacedRun.rate} req/s, ${result.stalledWindows} stalled windows`);
        }
      } finally {
        await gcLedger.settle(floor);
      }
    }
  } finally {
    repository.close();
  }

  for (const [key, result] of Object.entries(report.scenarios)) console.log(`${key}: ${result.fullGcs.count} full GCs, longest pause ${result.fullGcs.maxPauseMs.toFixed(0)} ms`);
  const pacedRuns = [
    ...Object.entries(report.paced),
    ...Object.entries(report.pacedFloor).map(([name, floor]) => [`${name} floor`, floor] as const),
    ...Object.entries(report.pacedLeast).map(([name, least]) => [`${name} least handler ${least?.handler}`, least] as const),
  ];
  for (const [key, result] of pacedRuns) {
    if (result) console.log(`paced ${key}: ${result.fullGcs.count} full GCs, longest pause ${result.fullGcs.maxPauseMs.toFixed(0)} ms, p99 from the write ${result.p99FromSendMs.toFixed(2)} ms, generator late p99 ${result.lateP99Ms.toFixed(2)} ms, stalled at ${result.stalledAt.join(" ")} s, full GCs at ${result.fullGcs.atSeconds.map((at) => at.toFixed(1)).join(" ")} s`);
  }
  if (only !== null) {
    // A partial run: the per-row lines above are its output, and the targets it has figures for.
    console.log(`\n${renderTargets(report)}`);
    return;
  }
  const resultsDir = join(import.meta.dirname, "results");
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, "latest.json"), JSON.stringify(report, null, 2));
  const markdown = renderResults(report);
  const targets = renderTargets(report);
  console.log(`\n${markdown}\n\n${targets}`);
  if (process.env.BENCH_WRITE !== "0") {
    updateBenchmarks("results", markdown);
    updateBenchmarks("targets", targets);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error("the benchmark could not run:", error);
    process.exit(1);
  },
);

