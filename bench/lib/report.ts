import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
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
}

export interface GcSummary {
  count: number;
  maxPauseMs: number;
  totalPauseMs: number;
  /** When each happened, in seconds from the window's start. */
  atSeconds: number[];
}

/** One interleaved round (bench/run.ts ratioRounds): each target's scenario and baseline, a short window each. */
export type RoundResult = Record<"B0" | "B0p" | "B1" | "B1p" | "M1" | "M4" | "S1" | "S4", { requestsPerSecond: number; cpuMsPerRequest: number; otherCores: number }>;

export interface BenchReport {
  startedAt: string;
  machine: MachineDescription;
  settings: Record<string, number>;
  scenarios: Partial<Record<"B0" | "B0p" | "B1" | "B1p" | "M1" | "M4" | "S1" | "S2" | "S3" | "S4" | "S5" | "S1half" | "S4half", ScenarioResult>>;
  /** Half-rate runs with steady arrivals (bench/lib/paced.ts). */
  paced: Partial<Record<"S1" | "S4", PacedResult & { fullGcs: GcSummary }>>;
  /** The harness's own floor at the same steady rates: B0 at S4's half rate, B1 at S1's, on the baseline Worker. */
  pacedFloor: Partial<Record<"S1" | "S4", PacedResult & { baseline: "B0" | "B1"; fullGcs: GcSummary }>>;
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

const verdict = (met: boolean) => (met ? "**met**" : "**missed**");

const describePaced = (paced: PacedResult & { fullGcs: GcSummary }) =>
  `p99 ${fixed(paced.p99Ms)} ms (p50 ${fixed(paced.p50Ms)}, p99.9 ${fixed(paced.p999Ms)}, max ${fixed(paced.maxMs, 1)}; from the write p99 ${fixed(paced.p99FromSendMs)}; ` +
  `generator late p99 ${fixed(paced.lateP99Ms)}; ${paced.stalledWindows} of ${paced.windows} 100 ms windows with an answer over 50 ms; ` +
  `full GCs ${describeGcs(paced.fullGcs)})`;

function halfRateRow(name: string, bursty: ScenarioResult | undefined, paced: (PacedResult & { fullGcs: GcSummary }) | undefined, floor: (PacedResult & { baseline: string; fullGcs: GcSummary }) | undefined): string {
  const steady = paced ? `steady arrivals at ${paced.rate} req/s, ${paced.requests} requests, ${paced.failures} failed: ${describePaced(paced)}` : "steady arrivals: not run";
  const harness = floor ? `; the harness floor, ${floor.baseline} at the same rate: ${describePaced(floor)}` : "";
  const burst = bursty ? `; autocannon overallRate (each second's quota sent at once): p99 ${fixed(bursty.p99Ms)} ms` : "";
  return `| p99 ≤ 5 ms at half max throughput, ${name} | ${steady}${harness}${burst} | ${verdict((paced?.p99Ms ?? Infinity) <= 5)} |`;
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
    `Interleaved rounds (the targets are judged on their median): ${rounds.length} rounds of B1, S1, B1p, M1, B0, S4, B0p, M4, each a 1 s warm-up and a short window, both workers up. Each cell is the ratio by req/s, and in brackets by workerd CPU per request.`,
    "",
    `| round | ${RATIOS.map(([a, b]) => `${a}/${b}`).join(" | ")} |`,
    `| --- | ${RATIOS.map(() => "---:").join(" | ")} |`,
    ...rounds.map((round, index) => `| ${index + 1} | ${RATIOS.map((pair) => cell(round, pair)).join(" | ")} |`),
    `| median | ${medians.join(" | ")} |`,
  ];
}

/** A target's ratio: the median round when the rounds ran, the full windows' ratio otherwise. */
function targetRatio(report: BenchReport, a: "S1" | "S4", b: "B1" | "B0"): { value: number; text: string } {
  const window = ratioOf(report.scenarios[a], report.scenarios[b]).byRate;
  if (report.rounds.length === 0) return { value: window, text: `${a}/${b} = ${fixed(window)}` };
  const perRound = report.rounds.map((round) => ratioOf(round[a], round[b]).byRate);
  const value = median(perRound);
  return { value, text: `${a}/${b} = ${fixed(value)}, the median of ${perRound.length} interleaved rounds (${perRound.map((r) => fixed(r)).join(", ")}); the full windows above: ${fixed(window)}` };
}

export function renderResults(report: BenchReport): string {
  const { scenarios: s, machine, settings } = report;
  const s1b1 = targetRatio(report, "S1", "B1");
  const s4b0 = targetRatio(report, "S4", "B0");
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
      "M1 and M4 are informational too: what any handler must do with S1's and S4's requests whatever else it checks, on the baseline Worker (M1: read the body, take the Identity header's JWS and x5u, look the key up in a cache, verify with jose; M4: read the body, classify the From URI's number with libphonenumber; neither authenticates, checks a claim, matches a rule or writes anything). M1/B1 and M4/B0 say how close a handler doing only that comes to each target; S1/M1 and S4/M4 what the product adds over it.",
    ...roundsTable(report.rounds),
    "",
    "| target | measured | |",
    "| --- | --- | --- |",
    `| S1 ≥ 0.85 × B1 | ${s1b1.text} | ${verdict(s1b1.value >= 0.85)} |`,
    `| S4 ≥ 0.75 × B0 (${settings.rules} rules) | ${s4b0.text} | ${verdict(s4b0.value >= 0.75)} |`,
    halfRateRow("S1", s.S1half, report.paced.S1, report.pacedFloor.S1),
    halfRateRow("S4", s.S4half, report.paced.S4, report.pacedFloor.S4),
  ];
  if (report.s3 && report.herd) {
    const single = report.s3.maxHitsPerPath <= 1 && report.herd.hits === 1;
    lines.push(
      `| S3: one repository fetch per x5u | S3 window: ${report.s3.x5uNamed} fresh x5u named (${report.s3.callsPerX5u} consecutive calls each, ${settings.connections} in flight), ` +
        `${report.s3.hits} repository fetches, at most ${report.s3.maxHitsPerPath} per x5u; herd: ${report.herd.concurrentCalls} simultaneous calls for one new x5u → ${report.herd.hits} fetch(es), ${report.herd.ok} of them verified | ${verdict(single)} |`,
    );
  }
  lines.push("", `Seeding: ${report.seeding?.rules ?? 0} rules through \`POST /v1/admin/rules\` in ${fixed(report.seeding?.seconds ?? NaN, 1)} s.`);
  return lines.join("\n");
}

const marker = (section: string, end: boolean) => `<!-- bench:${section}:${end ? "end" : "start"} -->`;

/** Replaces one generated section of BENCHMARKS.md, leaving the hand-written text around it alone. */
export function updateBenchmarks(section: "results" | "soak" | "rules", markdown: string): void {
  // Figures taken on V8 flags the deployed runtime does not use describe another runtime.
  if (process.env.BENCH_V8_FLAGS) {
    console.log(`BENCHMARKS.md left as it is: this run used BENCH_V8_FLAGS=${process.env.BENCH_V8_FLAGS}`);
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
