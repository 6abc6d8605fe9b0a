import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DURABLE_OBJECT_STORES, durableObjectMonthUsd, PRICES, rowsWrittenByStore, verdictCost, type StoreUse, type VerdictCost } from "./cost";
import type { MachineDescription } from "./environment";
import type { LoadResult } from "./load";
import type { PacedResult } from "./paced";
import type { RepositoryStats } from "./repository";

export interface ScenarioResult extends LoadResult {
  name: string;
  /** CPU the rest of the machine used just before the window (the bench waits for quiet first). */
  quietBeforeCores: number;
  overallRate: number | null;
  /** The Worker isolate's full (stop-the-world) collections during the window. */
  fullGcs: GcSummary;
  /** What the product's stores did over the window (from its /metrics), null for the baseline Worker. */
  storage: WindowStorage | null;
}

/** The product's stores over a window, and the verdicts it answered in it. */
export interface WindowStorage {
  verdicts: number;
  use: StoreUse;
}

export interface GcSummary {
  count: number;
  maxPauseMs: number;
  totalPauseMs: number;
  /** When each happened, in seconds from the window's start. */
  atSeconds: number[];
}

/** The scenarios and baselines of an interleaved round (bench/run.ts ratioRounds), in the order they run. */
export const ROUND_WINDOWS = ["B1", "S1", "S2", "B1p", "M1", "M2", "B0", "S4", "S5", "B0p", "M4"] as const;
export type RoundWindow = { requestsPerSecond: number; cpuMsPerRequest: number; otherCores: number; storage: WindowStorage | null };
/** One interleaved round: each target's scenario and baseline, a short window each. */
export type RoundResult = Record<(typeof ROUND_WINDOWS)[number], RoundWindow>;

export interface BenchReport {
  startedAt: string;
  machine: MachineDescription;
  settings: Record<string, number>;
  scenarios: Partial<Record<"B0" | "B0p" | "B1" | "B1p" | "M1" | "M2" | "M4" | "S1" | "S2" | "S3" | "S4" | "S5" | "S1half" | "S4half", ScenarioResult>>;
  /** Half-rate runs with steady arrivals (bench/lib/paced.ts). */
  paced: Partial<Record<"S1" | "S4", PacedResult & { fullGcs: GcSummary }>>;
  /** The harness's own floor at the same steady rates: B0 at S4's half rate, B1 at S1's, on the baseline Worker. */
  pacedFloor: Partial<Record<"S1" | "S4", PacedResult & { baseline: "B0" | "B1"; fullGcs: GcSummary }>>;
  /** The least handler at the same steady rates: M1 at S1's half rate, M4 at S4's (informational: the tail's floor on this runtime). */
  pacedLeast: Partial<Record<"S1" | "S4", PacedResult & { handler: "M1" | "M4"; fullGcs: GcSummary }>>;
  /** The targets' ratios from interleaved short windows; empty when the rounds did not run. */
  rounds: RoundResult[];
  seeding: { rules: number; seconds: number } | null;
  s3: (RepositoryStats & { callsPerX5u: number; x5uNamed: number; wrapped: boolean; baseline: RepositoryStats }) | null;
  herd: (RepositoryStats & { concurrentCalls: number; ok: number }) | null;
}

export const BENCHMARKS_FILE = join(import.meta.dirname, "..", "..", "BENCHMARKS.md");

const fixed = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : "–");
const DISTURBED_CORES = 0.1;

function row(key: string, result: ScenarioResult | undefined): string {
  if (!result) return `| ${key} | not run | | | | | | | | | | |`;
  const codes = Object.entries(result.statusCounts).map(([code, count]) => `${code}×${count}`).join(" ");
  const disturbed = result.otherCores > DISTURBED_CORES ? " ⚠" : "";
  return (
    `| ${key} ${result.name.replace(/^\S+ /, "")} | ${fixed(result.requestsPerSecond, 0)} | ${fixed(result.p50Ms)} | ${fixed(result.p99Ms)} | ${fixed(result.maxMs, 1)} | ` +
    `${fixed(result.cpuMsPerRequest * 1000, 0)} | ${fixed(result.cpuCores)} | ${fixed(result.loadGeneratorCores)} | ${fixed(result.otherCores)}${disturbed} | ${fixed(result.peakRssMiB, 0)} | ` +
    `${describeGcs(result.fullGcs)} | ${codes}${result.errors ? ` errors×${result.errors}` : ""} |`
  );
}

const describeGcs = (gcs: GcSummary) => (gcs.count === 0 ? "0" : `${gcs.count} · ${fixed(gcs.maxPauseMs, 0)} ms`);

const describePaced = (paced: PacedResult & { fullGcs: GcSummary }) =>
  `p99 ${fixed(paced.p99Ms)} ms (p50 ${fixed(paced.p50Ms)}, p99.9 ${fixed(paced.p999Ms)}, max ${fixed(paced.maxMs, 1)}; from the write p99 ${fixed(paced.p99FromSendMs)}; ` +
  `generator late p99 ${fixed(paced.lateP99Ms)}; ${paced.stalledWindows} of ${paced.windows} 100 ms windows with an answer over 50 ms; ` +
  `full GCs ${describeGcs(paced.fullGcs)})`;

function halfRateLine(
  name: string,
  bursty: ScenarioResult | undefined,
  paced: (PacedResult & { fullGcs: GcSummary }) | undefined,
  floor: (PacedResult & { baseline: string; fullGcs: GcSummary }) | undefined,
  least: (PacedResult & { handler: string; fullGcs: GcSummary }) | undefined,
): string {
  const steady = paced ? `steady arrivals at ${paced.rate} req/s, ${paced.requests} requests, ${paced.failures} failed: ${describePaced(paced)}` : "steady arrivals: not run";
  const harness = (floor ? `; the harness floor, ${floor.baseline} at the same rate: ${describePaced(floor)}` : "") + (least ? `; the least handler, ${least.handler} at the same rate: ${describePaced(least)}` : "");
  const burst = bursty ? `; autocannon overallRate (each second's quota sent at once): p99 ${fixed(bursty.p99Ms)} ms` : "";
  return `- ${name} at half its maximum rate: ${steady}${harness}${burst}.`;
}

type Measured = { requestsPerSecond: number; cpuMsPerRequest: number };
const RATIOS = [
  ["S1", "B1"],
  ["S4", "B0"],
  ["B1p", "B1"],
  ["B0p", "B0"],
  ["M1", "B1"],
  ["M4", "B0"],
  ["S1", "M1"],
  ["S4", "M4"],
  ["M2", "M1"],
  ["S2", "M2"],
] as const;

/** How many of `b`'s requests the time of one of `a`'s would serve, by throughput and by workerd CPU. */
const ratioOf = (a?: Measured, b?: Measured) => ({
  byRate: a && b ? a.requestsPerSecond / b.requestsPerSecond : NaN,
  byCpu: a && b ? b.cpuMsPerRequest / a.cpuMsPerRequest : NaN,
});

/** The middle value; of an even count, the mean of the middle two. */
export const median = (values: number[]): number => {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length === 0 ? NaN : sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

function roundsTable(rounds: RoundResult[]): string[] {
  if (rounds.length === 0) return [];
  const cell = (round: RoundResult, [a, b]: (typeof RATIOS)[number]) => {
    const { byRate, byCpu } = ratioOf(round[a], round[b]);
    const disturbed = Math.max(round[a].otherCores, round[b].otherCores) > DISTURBED_CORES ? " ⚠" : "";
    return `${fixed(byRate)} (CPU ${fixed(byCpu)})${disturbed}`;
  };
  const medians = RATIOS.map(([a, b]) => {
    const pairs = rounds.map((round) => ratioOf(round[a], round[b]));
    return `**${fixed(median(pairs.map((pair) => pair.byRate)))}** (CPU ${fixed(median(pairs.map((pair) => pair.byCpu)))})`;
  });
  return [
    "",
    `Interleaved rounds (the targets are judged on their median): ${rounds.length} rounds of ${ROUND_WINDOWS.join(", ")}, each a 1 s warm-up and a short window, both workers up. Each cell is the ratio by req/s, and in brackets by workerd CPU per request.`,
    "",
    `| round | ${RATIOS.map(([a, b]) => `${a}/${b}`).join(" | ")} |`,
    `| --- | ${RATIOS.map(() => "---:").join(" | ")} |`,
    ...rounds.map((round, index) => `| ${index + 1} | ${RATIOS.map((pair) => cell(round, pair)).join(" | ")} |`),
    `| median | ${medians.join(" | ")} |`,
  ];
}

/** A window's cost per verdict, when the bench read the product's stores around it. */
const costOf = (window: { cpuMsPerRequest: number; storage: WindowStorage | null } | undefined): VerdictCost | null =>
  window?.storage ? verdictCost(window.cpuMsPerRequest, window.storage.use, window.storage.verdicts) : null;

const COST_SCENARIOS = ["S1", "S2", "S3", "S4", "S5"] as const;

function costTable(report: BenchReport): string[] {
  const rows = COST_SCENARIOS.flatMap((key) => {
    const window = report.scenarios[key];
    const cost = costOf(window);
    if (!window?.storage || !cost) return [];
    const byStore = rowsWrittenByStore(window.storage.use, window.storage.verdicts)
      .filter(([, rows]) => rows > 0)
      .map(([store, rows]) => `${store} ${fixed(rows, 3)}`)
      .join(", ");
    const usd = cost.usdPerMillion;
    return [
      `| ${key} | ${fixed(cost.rowsWritten, 3)} | ${byStore || "none"} | ${fixed(cost.rowsRead, 2)} | ${fixed(cost.durableObjectRequests, 3)} | ${fixed(window.cpuMsPerRequest * 1000, 0)} | ` +
        `**${fixed(usd.total, 3)}** (requests ${fixed(usd.requests, 2)}, CPU ${fixed(usd.cpu, 3)}, D1 ${fixed(usd.d1, 3)}, Durable Objects ${fixed(usd.durableObjects, 3)}) |`,
    ];
  });
  if (rows.length === 0) return [];
  return [
    "",
    "What each verdict costs deployed, from the product's own counts read from `GET /metrics` before and after each window (`shaken_store_rows_written_total`, `shaken_store_rows_read_total` and `shaken_durable_object_requests_total`, by store) and the prices below:",
    "",
    "| scenario | rows written / verdict | of which, by store | rows read / verdict | Durable Object requests / verdict | workerd CPU µs / verdict | USD per million verdicts |",
    "| --- | ---: | --- | ---: | ---: | ---: | --- |",
    ...rows,
    "",
    `Prices (USD), taken ${PRICES.takenOn}: ${PRICES.source}. Workers Paid $${PRICES.workerRequestsPerMillion} per million requests and $${PRICES.workerCpuMsPerMillion} per million CPU-ms; ` +
      `D1 $${fixed(PRICES.d1RowsWrittenPerMillion)} per million rows written and $${PRICES.d1RowsReadPerMillion} per million rows read; ` +
      `SQLite-backed Durable Objects $${PRICES.durableObjectRequestsPerMillion} per million requests, $${fixed(PRICES.durableObjectRowsWrittenPerMillion)} per million rows written, $${PRICES.durableObjectRowsReadPerMillion} per million rows read and $${PRICES.durableObjectGbSecondsPerMillion} per million GB-s of duration. ` +
      "Included: one Worker request per verdict, workerd's CPU per verdict (which here also holds the local D1's and Durable Objects' own work), D1's and the Durable Objects' rows, the Durable Objects' requests (the Worker's calls and their alarms). " +
      `Left out: the plans' included amounts (the figure is a verdict's marginal cost), and Durable Object duration, billed per object kept in memory whatever its calls: a shard busy all month costs $${fixed(durableObjectMonthUsd(1))} (${DURABLE_OBJECT_STORES.join(" and ")} shards together, src/abuse/shard.ts).`,
  ];
}

export function renderResults(report: BenchReport): string {
  const { scenarios: s, machine, settings } = report;
  const lines = [
    `Run of ${report.startedAt} · ${machine.nproc} × ${machine.cpuModel} · ${machine.memoryGiB} GiB · Linux ${machine.kernel} · Node ${machine.node} · ` +
      `workerd ${machine.workerd} (miniflare ${machine.miniflare}, wrangler ${machine.wrangler}) · autocannon ${machine.autocannon}`,
    "",
    `Load: ${settings.connections} connections, ${settings.warmupSeconds} s warm-up then ${settings.durationSeconds} s measured per scenario; ${settings.rules} operator rules loaded for S4/S5; ` +
      `steady-arrival half-rate runs ${settings.pacedSeconds} s each (bench/lib/paced.ts). "Full GCs" are the Worker isolate's mark-compact collections in the window, from V8's --trace-gc inside workerd, with the longest stop-the-world pause.`,
    "",
    "| scenario | req/s | p50 ms | p99 ms | max ms | workerd CPU µs/verdict | workerd cores | load-gen cores | other cores | peak RSS MiB | full GCs · longest pause | responses |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    row("B0", s.B0),
    row("B1", s.B1),
    row("B0p", s.B0p),
    row("B1p", s.B1p),
    row("M1", s.M1),
    row("M2", s.M2),
    row("M4", s.M4),
    row("S1", s.S1),
    row("S2", s.S2),
    row("S3", s.S3),
    row("S4", s.S4),
    row("S5", s.S5),
    row("S1½", s.S1half),
    row("S4½", s.S4half),
    "",
    "⚠ = other processes on the shared machine used more than 0.1 core during the window; that row is disturbed. " +
      "B1p and B0p are informational, not the targets' baselines: B1's verification answering S1's own request, and B0's fixed 200 answering S4's (a POST with the scenario's headers and JSON body, which it reads), so B1p − B1 and B0p − B0 are what the scenario's request costs the runtime before any product code runs. " +
      "M1, M2 and M4 are the least handlers the targets measure against: what any handler must do with S1's, S2's and S4's requests whatever else it checks, on the baseline Worker (M1: read the body, take the Identity header's JWS and x5u, look the key up in a cache, verify with jose; M2: M1's work on S2's raw INVITE, read for its Identity, From, To and Call-ID headers, then a check that the PASSporT signs From's and To's numbers and one call to a Durable Object replay guard; M4: read the body, classify the From URI's number with libphonenumber; none authenticates, checks freshness, a chain or a rule, or writes anything).",
    ...costTable(report),
    ...roundsTable(report.rounds),
    "",
    halfRateLine("S1", s.S1half, report.paced.S1, report.pacedFloor.S1, report.pacedLeast?.S1),
    halfRateLine("S4", s.S4half, report.paced.S4, report.pacedFloor.S4, report.pacedLeast?.S4),
  ];
  if (report.s3 && report.herd) {
    // Every x5u named is fetched once: fewer fetches than x5u means S3 measured refusals (the last few of the window may still be in flight).
    const eachFetched = report.s3.hits >= 0.9 * report.s3.x5uNamed;
    const single = report.s3.maxHitsPerPath <= 1 && report.herd.hits === 1 && eachFetched;
    lines.push(
      `- S3, one repository fetch per x5u (issue 6, ${single ? "held" : "**broken**"}): ${report.s3.x5uNamed} fresh x5u named (${report.s3.callsPerX5u} consecutive calls each, ${settings.connections} in flight), ` +
        `${report.s3.hits} repository fetches${eachFetched ? "" : " (**fewer than the x5u named: the calls were refused, not fetched**)"}, at most ${report.s3.maxHitsPerPath} per x5u; herd: ${report.herd.concurrentCalls} simultaneous calls for one new x5u → ${report.herd.hits} fetch(es), ${report.herd.ok} of them verified.`,
    );
  }
  lines.push("", `Seeding: ${report.seeding?.rules ?? 0} rules through \`POST /v1/admin/rules\` in ${fixed(report.seeding?.seconds ?? NaN, 1)} s.`);
  return lines.join("\n");
}

/** One of issue 19's targets: its name as BENCHMARKS.md's table gives it, how it is judged, and what it measured. */
interface TargetRow {
  name: string;
  value: string;
  target: string;
  met: boolean;
}

/** A figure from the median round when the rounds ran, from the full windows otherwise; with what it was taken from. */
function judged(report: BenchReport, figure: (windows: Partial<Record<(typeof ROUND_WINDOWS)[number], RoundWindow>>) => number, digits: number): { value: number; text: string } {
  if (report.rounds.length === 0) {
    const value = figure(report.scenarios);
    return { value, text: `${fixed(value, digits)} (full windows: no rounds ran)` };
  }
  const perRound = report.rounds.map(figure);
  const value = median(perRound);
  return { value, text: `${fixed(value, digits)} (rounds ${perRound.map((each) => fixed(each, digits)).join(", ")})` };
}

function halfRateTarget(report: BenchReport, name: "S1" | "S4"): TargetRow {
  const paced = report.paced[name];
  const floor = report.pacedFloor[name];
  const ratio = paced && floor ? paced.p99Ms / floor.p99Ms : NaN;
  // The least handler's own ratio at the same rate: what any Worker doing the scenario's least work scores.
  const least = report.pacedLeast?.[name];
  const leastText = least && floor ? `; least handler ${least.handler} ${fixed(least.p99Ms)} ms = ${fixed(least.p99Ms / floor.p99Ms, 1)} × floor` : "";
  const value = paced && floor ? `${fixed(ratio, 1)} (p99 ${fixed(paced.p99Ms)} ms at ${paced.rate} req/s; floor ${floor.baseline} ${fixed(floor.p99Ms)} ms${leastText})` : "not run";
  return { name: `${name} half-rate p99 / floor`, value, target: "≤ 3", met: ratio <= 3 };
}

/** Issue 19's targets, each judged on the interleaved rounds' median (the half-rate tails on their steady-arrival runs). */
export function targetRows(report: BenchReport): TargetRow[] {
  const ratio = (a: "S2" | "S4" | "S1", b: "S1" | "M4" | "M1", by: "byRate" | "byCpu") => judged(report, (windows) => ratioOf(windows[a], windows[b])[by], 2);
  const cpuOver = (a: "S2" | "M2", b: "S1" | "M1") => judged(report, (windows) => (windows[a] && windows[b] ? windows[a].cpuMsPerRequest / windows[b].cpuMsPerRequest : NaN), 2);
  const s2OverS1 = cpuOver("S2", "S1");
  // The row's floor: the least handlers' own ratio, M2's CPU over M1's in the same rounds.
  const m2OverM1 = cpuOver("M2", "M1");
  const costs = (key: "S4" | "S5", field: (cost: VerdictCost) => number, digits: number) => judged(report, (windows) => (costOf(windows[key]) ? field(costOf(windows[key])!) : NaN), digits);
  const rows = (key: "S4" | "S5") => costs(key, (cost) => cost.rowsWritten, 3);
  const usd = (key: "S4" | "S5") => costs(key, (cost) => cost.usdPerMillion.total, 3);
  const s4OverM4 = ratio("S4", "M4", "byRate");
  const s1OverM1 = ratio("S1", "M1", "byRate");
  return [
    { name: "S2/S1 CPU", value: `${s2OverS1.text}; least handlers M2/M1 ${m2OverM1.text}`, target: "≤ 1.5", met: s2OverS1.value <= 1.5 },
    { name: "S4/M4", value: s4OverM4.text, target: "≥ 0.5", met: s4OverM4.value >= 0.5 },
    { name: "S1/M1", value: s1OverM1.text, target: "≥ 0.85", met: s1OverM1.value >= 0.85 },
    ...(["S4", "S5"] as const).map((key) => ({ name: `rows per verdict ${key}`, value: rows(key).text, target: "≤ 0.2", met: rows(key).value <= 0.2 })),
    ...(["S4", "S5"] as const).map((key) => ({ name: `USD per million verdicts ${key}`, value: usd(key).text, target: "≤ 0.60", met: usd(key).value <= 0.6 })),
    halfRateTarget(report, "S4"),
    halfRateTarget(report, "S1"),
  ];
}

export function renderTargets(report: BenchReport): string {
  return [
    `From the run of ${report.startedAt} (${report.rounds.length} interleaved rounds).`,
    "",
    "| name | value | target | met/missed |",
    "| --- | --- | --- | --- |",
    ...targetRows(report).map(({ name, value, target, met }) => `| ${name} | ${value} | ${target} | ${met ? "met" : "missed"} |`),
  ].join("\n");
}

const marker = (section: string, end: boolean) => `<!-- bench:${section}:${end ? "end" : "start"} -->`;

/** Replaces one generated section of BENCHMARKS.md, leaving the hand-written text around it alone. */
export function updateBenchmarks(section: "results" | "targets" | "soak" | "rules" | "replay", markdown: string): void {
  // Figures taken on V8 flags the deployed runtime does not use describe another runtime.
  if (process.env.BENCH_V8_FLAGS) {
    console.log(`BENCHMARKS.md left as it is: this run used BENCH_V8_FLAGS=${process.env.BENCH_V8_FLAGS}`);
    return;
  }
  // Nor do figures of a product configured otherwise than wrangler.toml says.
  if (process.env.BENCH_PRODUCT_VARS) {
    console.log(`BENCHMARKS.md left as it is: this run used BENCH_PRODUCT_VARS=${process.env.BENCH_PRODUCT_VARS}`);
    return;
  }
  const start = marker(section, false);
  const end = marker(section, true);
  const block = `${start}\n${markdown}\n${end}`;
  const current = existsSync(BENCHMARKS_FILE) ? readFileSync(BENCHMARKS_FILE, "utf8") : "# Benchmarks\n";
  const from = current.indexOf(start);
  const to = current.indexOf(end);
  const next = from !== -1 && to > from ? current.slice(0, from) + block + current.slice(to + end.length) : `${current.trimEnd()}\n\n${block}\n`;
  writeFileSync(BENCHMARKS_FILE, next);
}
