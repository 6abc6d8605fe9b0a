import { describe, expect, it } from "vitest";
import type { StoreUse } from "../../../bench/lib/cost";
import { renderResults, renderTargets, type BenchReport, type RoundResult, type RoundWindow, type ScenarioResult, type WindowStorage } from "../../../bench/lib/report";

/** A measured window with only the figures the targets are computed from. */
const window = (name: string, requestsPerSecond: number, cpuUs: number): ScenarioResult =>
  ({
    name,
    requests: requestsPerSecond * 10,
    requestsPerSecond,
    p50Ms: 1,
    p99Ms: 2,
    maxMs: 3,
    autocannonP99Ms: 2,
    statusCounts: { 200: requestsPerSecond * 10 },
    errors: 0,
    timeouts: 0,
    cpuMsPerRequest: cpuUs / 1000,
    cpuCores: 1,
    loadGeneratorCores: 0.3,
    otherCores: 0,
    peakRssMiB: 300,
    hwmMiB: 300,
    windowFrom: 0,
    windowTo: 10_000,
    quietBeforeCores: 0,
    overallRate: null,
    fullGcs: { count: 0, maxPauseMs: 0, totalPauseMs: 0, atSeconds: [] },
    storage: null,
  }) as ScenarioResult;

const measured = (requestsPerSecond: number, cpuMsPerRequest: number, otherCores = 0, storage: WindowStorage | null = null): RoundWindow => ({ requestsPerSecond, cpuMsPerRequest, otherCores, storage });
const noStores = { stats: 0, "recent-verdicts": 0, metrics: 0, velocity: 0, replay: 0 };
/** What the stores did over `verdicts` verdicts: `d1Rows` written to D1 (as recent verdicts), `doRows` written and `doRequests` made to the Durable Objects (as velocity). */
const stores = (verdicts: number, { d1Rows = 0, doRows = 0, doRequests = 0, rowsRead = 0 } = {}): WindowStorage => ({
  verdicts,
  use: { rowsWritten: { ...noStores, "recent-verdicts": d1Rows, velocity: doRows }, rowsRead: { ...noStores, stats: rowsRead }, durableObjectRequests: { ...noStores, velocity: doRequests } } satisfies StoreUse,
});

/** A round whose S1 runs at `s1OverM1` of M1's rate and S4 at `s4OverM4` of M4's; S2 costs `s2OverS1` of S1's CPU, M2 `m2OverM1` of M1's. */
const round = (s1OverM1: number, s4OverM4: number, { otherCores = 0, s2OverS1 = 2, m2OverM1 = 1.2, s4Stores = null as WindowStorage | null } = {}): RoundResult => ({
  B1: measured(5_000, 0.2, otherCores),
  S1: measured(3_750 * s1OverM1, 0.2 / 0.75 / s1OverM1),
  S2: measured(1_000, (0.2 / 0.75 / s1OverM1) * s2OverS1),
  B1p: measured(4_500, 0.25),
  M1: measured(3_750, 0.2 / 0.75),
  M2: measured(3_000, (0.2 / 0.75) * m2OverM1),
  B0: measured(12_000, 0.08),
  S4: measured(6_000 * s4OverM4, 0.16 / s4OverM4, 0, s4Stores),
  S5: measured(3_000, 0.3),
  B0p: measured(10_800, 0.1),
  M4: measured(6_000, 0.16),
});

const report = (rounds: RoundResult[]): BenchReport => ({
  startedAt: "2026-12-04T00:00:00.000Z",
  machine: { nproc: 2, cpuModel: "test CPU", memoryGiB: 24, kernel: "6", node: "v22", workerd: "w", miniflare: "m", wrangler: "4", autocannon: "9" },
  settings: { connections: 50, warmupSeconds: 3, durationSeconds: 10, rules: 10_000, pacedSeconds: 30 },
  // The full windows alone would miss S1 (0.50) and meet S4 (0.80).
  scenarios: { B0: window("B0 fixed 200", 10_000, 100), B1: window("B1 one compactVerify", 4_000, 250), S1: window("S1 ATIS signed, warm", 2_000, 500), S4: window("S4 unsigned intl, rules", 8_000, 125) },
  paced: {},
  pacedFloor: {},
  pacedLeast: {},
  rounds,
  seeding: null,
  s3: null,
  herd: null,
});

const targetRow = (markdown: string, target: string) => markdown.split("\n").find((line) => line.startsWith(`| ${target} |`)) ?? "";

describe("bench report: the targets are judged on the median round", () => {
  it("judges a ratio on the median interleaved round, not on one full window", () => {
    const markdown = renderTargets(report([round(0.9, 0.2), round(0.8, 0.7), round(0.86, 0.3)]));
    expect(targetRow(markdown, "S1/M1")).toBe("| S1/M1 | 0.86 (rounds 0.90, 0.80, 0.86) | ≥ 0.85 | met |");
    expect(targetRow(markdown, "S4/M4")).toBe("| S4/M4 | 0.30 (rounds 0.20, 0.70, 0.30) | ≥ 0.5 | missed |");
  });

  it("takes the mean of the middle two of an even number of rounds", () => {
    const markdown = renderTargets(report([round(0.9, 0.2), round(0.8, 0.7), round(0.7, 0.3), round(0.84, 0.1)]));
    expect(targetRow(markdown, "S1/M1")).toMatch(/^\| S1\/M1 \| 0\.82 \(rounds .*\| missed \|$/);
  });

  it("judges S2 against S1 by CPU per verdict, and names the least handlers' own ratio (M2's CPU over M1's) beside it without judging by it", () => {
    const markdown = renderTargets(report([round(1, 1, { s2OverS1: 1.4, m2OverM1: 1.1 }), round(1, 1, { s2OverS1: 1.6, m2OverM1: 1.7 }), round(1, 1, { s2OverS1: 1.5, m2OverM1: 1.3 })]));
    expect(targetRow(markdown, "S2/S1 CPU")).toBe("| S2/S1 CPU | 1.50 (rounds 1.40, 1.60, 1.50); least handlers M2/M1 1.30 (rounds 1.10, 1.70, 1.30) | ≤ 1.5 | met |");
    const missed = renderTargets(report([round(1, 1, { s2OverS1: 1.6, m2OverM1: 1.1 })]));
    expect(targetRow(missed, "S2/S1 CPU")).toBe("| S2/S1 CPU | 1.60 (rounds 1.60); least handlers M2/M1 1.10 (rounds 1.10) | ≤ 1.5 | missed |");
  });

  it("counts rows written per verdict over every store, and prices a verdict from its CPU, rows and Durable Object requests", () => {
    // 1 000 verdicts: 30 rows to D1, 120 to the Durable Objects with 50 requests, 2 000 rows read; 0.16 ms of CPU each.
    const s4Stores = stores(1_000, { d1Rows: 30, doRows: 120, doRequests: 50, rowsRead: 2_000 });
    const markdown = renderTargets(report([round(1, 1, { s4Stores }), round(1, 1, { s4Stores }), round(1, 1, { s4Stores })]));
    expect(targetRow(markdown, "rows per verdict S4")).toBe("| rows per verdict S4 | 0.150 (rounds 0.150, 0.150, 0.150) | ≤ 0.2 | met |");
    // 0.30 per request + 0.16 ms × 0.02 + 0.03 × 1.00 + 2 × 0.001 (D1) + 0.05 × 0.15 + 0.12 × 1.00 (Durable Objects)
    const usd = 0.3 + 0.16 * 0.02 + 0.03 + 2 * 0.001 + 0.05 * 0.15 + 0.12;
    expect(targetRow(markdown, "USD per million verdicts S4")).toBe(`| USD per million verdicts S4 | ${usd.toFixed(3)} (rounds ${Array(3).fill(usd.toFixed(3)).join(", ")}) | ≤ 0.60 | met |`);
    expect(targetRow(markdown, "rows per verdict S5")).toBe("| rows per verdict S5 | – (rounds –, –, –) | ≤ 0.2 | missed |");
  });

  it("judges the half-rate tail against the harness's floor at the same rate", () => {
    const paced = (p99Ms: number) => ({ rate: 800, requests: 24_000, failures: 0, p50Ms: 1, p99Ms, p999Ms: p99Ms, maxMs: p99Ms, p99FromSendMs: p99Ms, lateP99Ms: 1, stalledWindows: 0, windows: 300, stalledAt: [], windowFrom: 0, windowTo: 30_000, fullGcs: { count: 0, maxPauseMs: 0, totalPauseMs: 0, atSeconds: [] } });
    const markdown = renderTargets({ ...report([]), paced: { S4: paced(19.5), S1: paced(90) }, pacedFloor: { S4: { ...paced(6.5), baseline: "B0" }, S1: { ...paced(27), baseline: "B1" } } });
    expect(targetRow(markdown, "S4 half-rate p99 / floor")).toBe("| S4 half-rate p99 / floor | 3.0 (p99 19.50 ms at 800 req/s; floor B0 6.50 ms) | ≤ 3 | met |");
    expect(targetRow(markdown, "S1 half-rate p99 / floor")).toBe("| S1 half-rate p99 / floor | 3.3 (p99 90.00 ms at 800 req/s; floor B1 27.00 ms) | ≤ 3 | missed |");
  });

  it("names the least handler's own tail at the same rate beside the target, without judging by it", () => {
    const paced = (p99Ms: number) => ({ rate: 800, requests: 24_000, failures: 0, p50Ms: 1, p99Ms, p999Ms: p99Ms, maxMs: p99Ms, p99FromSendMs: p99Ms, lateP99Ms: 1, stalledWindows: 0, windows: 300, stalledAt: [], windowFrom: 0, windowTo: 30_000, fullGcs: { count: 1, maxPauseMs: 120, totalPauseMs: 120, atSeconds: [12] } });
    const report4 = { ...report([]), paced: { S4: paced(52) }, pacedFloor: { S4: { ...paced(10), baseline: "B0" as const } }, pacedLeast: { S4: { ...paced(40), handler: "M4" as const } } };
    expect(targetRow(renderTargets(report4), "S4 half-rate p99 / floor")).toBe("| S4 half-rate p99 / floor | 5.2 (p99 52.00 ms at 800 req/s; floor B0 10.00 ms; least handler M4 40.00 ms = 4.0 × floor) | ≤ 3 | missed |");
    expect(renderResults(report4)).toContain("; the least handler, M4 at the same rate: p99 40.00 ms");
  });

  it("falls back to the full windows when no round ran", () => {
    const markdown = renderTargets(report([]));
    // The full windows: S4 8 000 req/s against no M4 window.
    expect(targetRow(markdown, "S4/M4")).toBe("| S4/M4 | – (full windows: no rounds ran) | ≥ 0.5 | missed |");
    expect(renderResults(report([]))).not.toContain("Interleaved rounds");
  });
});

describe("bench report: the rounds' table", () => {
  it("tabulates each round's ratios by rate and by CPU, the request floors and the least handlers, and marks the ratios a disturbed window enters", () => {
    const markdown = renderResults(report([round(0.9, 0.2, { otherCores: 0.3 }), round(0.8, 0.7)]));
    const lines = markdown.split("\n");
    expect(lines).toContain("| round | S1/B1 | S4/B0 | B1p/B1 | B0p/B0 | M1/B1 | M4/B0 | S1/M1 | S4/M4 | M2/M1 | S2/M2 |");
    expect(lines).toContain("| 1 | 0.68 (CPU 0.68) ⚠ | 0.10 (CPU 0.10) | 0.90 (CPU 0.80) ⚠ | 0.90 (CPU 0.80) | 0.75 (CPU 0.75) ⚠ | 0.50 (CPU 0.50) | 0.90 (CPU 0.90) | 0.20 (CPU 0.20) | 0.80 (CPU 0.83) | 0.33 (CPU 0.54) |");
    expect(lines).toContain("| median | **0.64** (CPU 0.64) | **0.22** (CPU 0.22) | **0.90** (CPU 0.80) | **0.90** (CPU 0.80) | **0.75** (CPU 0.75) | **0.50** (CPU 0.50) | **0.85** (CPU 0.85) | **0.45** (CPU 0.45) | **0.80** (CPU 0.83) | **0.33** (CPU 0.51) |");
  });
});
