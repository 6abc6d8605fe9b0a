import { describe, expect, it } from "vitest";
import { renderResults, type BenchReport, type RoundResult, type ScenarioResult } from "../../../bench/lib/report";

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
  }) as ScenarioResult;

/** A round whose S1 runs at `s1OverB1` of B1's rate and S4 at `s4OverB0` of B0's. */
const round = (s1OverB1: number, s4OverB0: number, otherCores = 0): RoundResult => ({
  B1: { requestsPerSecond: 5_000, cpuMsPerRequest: 0.2, otherCores },
  S1: { requestsPerSecond: 5_000 * s1OverB1, cpuMsPerRequest: 0.2 / s1OverB1, otherCores: 0 },
  B1p: { requestsPerSecond: 4_500, cpuMsPerRequest: 0.25, otherCores: 0 },
  B0: { requestsPerSecond: 12_000, cpuMsPerRequest: 0.08, otherCores: 0 },
  S4: { requestsPerSecond: 12_000 * s4OverB0, cpuMsPerRequest: 0.08 / s4OverB0, otherCores: 0 },
  B0p: { requestsPerSecond: 10_800, cpuMsPerRequest: 0.1, otherCores: 0 },
  M1: { requestsPerSecond: 3_750, cpuMsPerRequest: 0.2 / 0.75, otherCores: 0 },
  M4: { requestsPerSecond: 6_000, cpuMsPerRequest: 0.16, otherCores: 0 },
});

const report = (rounds: RoundResult[]): BenchReport => ({
  startedAt: "2026-12-04T00:00:00.000Z",
  machine: { nproc: 2, cpuModel: "test CPU", memoryGiB: 24, kernel: "6", node: "v22", workerd: "w", miniflare: "m", wrangler: "4", autocannon: "9" },
  settings: { connections: 50, warmupSeconds: 3, durationSeconds: 10, rules: 10_000, pacedSeconds: 30 },
  // The full windows alone would miss S1 (0.50) and meet S4 (0.80).
  scenarios: { B0: window("B0 fixed 200", 10_000, 100), B1: window("B1 one compactVerify", 4_000, 250), S1: window("S1 ATIS signed, warm", 2_000, 500), S4: window("S4 unsigned intl, rules", 8_000, 125) },
  paced: {},
  pacedFloor: {},
  rounds,
  seeding: null,
  s3: null,
  herd: null,
});

const targetRow = (markdown: string, target: string) => markdown.split("\n").find((line) => line.startsWith(`| ${target}`)) ?? "";

describe("bench report: the targets' ratios", () => {
  it("judges a target on the median interleaved round, not on one full window", () => {
    const markdown = renderResults(report([round(0.9, 0.2), round(0.8, 0.7), round(0.86, 0.3)]));
    expect(targetRow(markdown, "S1 ≥ 0.85 × B1")).toContain("S1/B1 = 0.86, the median of 3 interleaved rounds (0.90, 0.80, 0.86); the full windows above: 0.50");
    expect(targetRow(markdown, "S1 ≥ 0.85 × B1")).toMatch(/\*\*met\*\* \|$/);
    expect(targetRow(markdown, "S4 ≥ 0.75 × B0")).toContain("S4/B0 = 0.30, the median of 3");
    expect(targetRow(markdown, "S4 ≥ 0.75 × B0")).toMatch(/\*\*missed\*\* \|$/);
  });

  it("takes the mean of the middle two of an even number of rounds", () => {
    const markdown = renderResults(report([round(0.9, 0.2), round(0.8, 0.7), round(0.7, 0.3), round(0.84, 0.1)]));
    expect(targetRow(markdown, "S1 ≥ 0.85 × B1")).toContain("S1/B1 = 0.82, the median of 4");
    expect(targetRow(markdown, "S1 ≥ 0.85 × B1")).toMatch(/\*\*missed\*\* \|$/);
  });

  it("tabulates each round's ratios by rate and by CPU, the request floors and the least handlers, and marks the ratios a disturbed window enters", () => {
    const markdown = renderResults(report([round(0.9, 0.2, 0.3), round(0.8, 0.7)]));
    const lines = markdown.split("\n");
    expect(lines).toContain("| round | S1/B1 | S4/B0 | B1p/B1 | B0p/B0 | M1/B1 | M4/B0 | S1/M1 | S4/M4 |");
    expect(lines).toContain("| 1 | 0.90 (CPU 0.90) ⚠ | 0.20 (CPU 0.20) | 0.90 (CPU 0.80) ⚠ | 0.90 (CPU 0.80) | 0.75 (CPU 0.75) ⚠ | 0.50 (CPU 0.50) | 1.20 (CPU 1.20) | 0.40 (CPU 0.40) |");
    expect(lines).toContain("| 2 | 0.80 (CPU 0.80) | 0.70 (CPU 0.70) | 0.90 (CPU 0.80) | 0.90 (CPU 0.80) | 0.75 (CPU 0.75) | 0.50 (CPU 0.50) | 1.07 (CPU 1.07) | 1.40 (CPU 1.40) |");
    expect(lines).toContain("| median | **0.85** (CPU 0.85) | **0.45** (CPU 0.45) | **0.90** (CPU 0.80) | **0.90** (CPU 0.80) | **0.75** (CPU 0.75) | **0.50** (CPU 0.50) | **1.13** (CPU 1.13) | **0.90** (CPU 0.90) |");
  });

  it("falls back to the full windows when no round ran", () => {
    const markdown = renderResults(report([]));
    expect(targetRow(markdown, "S1 ≥ 0.85 × B1")).toMatch(/\| S1\/B1 = 0\.50 \| \*\*missed\*\* \|$/);
    expect(targetRow(markdown, "S4 ≥ 0.75 × B0")).toMatch(/\| S4\/B0 = 0\.80 \| \*\*met\*\* \|$/);
    expect(markdown).not.toContain("Interleaved rounds");
  });
});
