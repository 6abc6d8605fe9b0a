/**
 * `npm run bench:replay`: `calls replay` over a synthetic CSV of unsigned calls (issue 20: at least
 * 20 000 calls/s on one core, and a 1 000 000-line file in bounded memory). The file is written to a
 * temporary directory, then replayed by the CLI itself (`runCli`, in this process, on its one main
 * thread), with the summary on stdout dropped. Figures: calls per second over the replay, and the
 * process's peak RSS (getrusage maxrss) against its RSS before the replay, and at a tenth of the lines
 * (a bounded replay peaks about the same whatever the length of the file).
 * Rewrites the replay section of BENCHMARKS.md (BENCH_WRITE=0 to leave it).
 */
import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { once } from "node:events";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../cli/main";
import { describeMachine } from "./lib/environment";
import { updateBenchmarks } from "./lib/report";

const LINES = process.env.BENCH_REPLAY_LINES ? Number(process.env.BENCH_REPLAY_LINES) : 1_000_000;
const START_MS = Date.parse("2026-11-27T00:00:00Z");
/** 200 calls a second of recorded time: a 1 000 000-line file is about 83 minutes of a busy interconnect. */
const SPACING_MS = 5;
const MiB = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

/** Call `index` of the synthetic file: callers from a pool of 50 000 numbers, domestic and international trunks. */
function csvLine(index: number): string {
  const time = new Date(START_MS + index * SPACING_MS).toISOString();
  const caller = (index * 7_919) % 50_000;
  const from = index % 10 < 6 ? `+7701${String(caller).padStart(7, "0")}` : index % 10 < 8 ? `+7727${String(caller).padStart(7, "0")}` : `+4915${String(caller).padStart(8, "0")}`;
  const to = `+7702${String((index * 104_729) % 10_000_000).padStart(7, "0")}`;
  const international = index % 3 === 0;
  return `${time},${from},${to},${international ? "intl-1" : "core-1"},${international ? "TransitCo" : "Kazakhtelecom"},${international},`;
}

async function writeCalls(path: string, lines: number): Promise<void> {
  const out = createWriteStream(path);
  out.write("time,from,to,trunk,carrier,international,identity\n");
  for (let index = 0; index < lines; index++) {
    if (!out.write(`${csvLine(index)}\n`)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
}

async function replay(path: string): Promise<{ seconds: number; cpuSeconds: number; summary: string }> {
  let summary = "";
  const started = performance.now();
  const cpu = process.cpuUsage();
  const code = await runCli(["calls", "replay", "--input", path], { stdout: (text) => (summary += text), stderr: () => {} });
  if (code !== 0) throw new Error(`calls replay exited ${code}`);
  const used = process.cpuUsage(cpu);
  return { seconds: (performance.now() - started) / 1000, cpuSeconds: (used.user + used.system) / 1e6, summary };
}

const dir = mkdtempSync(join(tmpdir(), "shaken-edge-replay-bench-"));
try {
  const load = loadavg()[0]!.toFixed(1);
  const tenth = join(dir, "tenth.csv");
  const whole = join(dir, "calls.csv");
  await writeCalls(tenth, Math.round(LINES / 10));
  await writeCalls(whole, LINES);
  const rssBefore = process.memoryUsage().rss;
  await replay(tenth);
  const peakAtTenth = process.resourceUsage().maxRSS * 1024;
  const { seconds, cpuSeconds, summary } = await replay(whole);
  const peak = process.resourceUsage().maxRSS * 1024;
  const rate = Math.round(LINES / seconds);
  const machine = describeMachine();
  console.log(summary);
  const cpuRate = Math.round(LINES / cpuSeconds);
  console.log(`${LINES} calls in ${seconds.toFixed(1)} s: ${rate} calls/s (${cpuRate} per CPU second); peak RSS ${MiB(peak)} MiB (${MiB(peakAtTenth)} MiB after ${LINES / 10} lines; ${MiB(rssBefore)} MiB before)`);
  if (process.env.BENCH_WRITE !== "0") {
    updateBenchmarks(
      "replay",
      [
        `Run of ${new Date().toISOString()} · ${machine.nproc} × ${machine.cpuModel.split(" ").slice(0, 2).join(" ")} · Node ${machine.node} · load average at the start ${load} · \`npm run bench:replay\``,
        "",
        "| figure | measured |",
        "| --- | --- |",
        `| **unsigned calls replayed per second** (${LINES} lines, one thread) | **${rate}** (${seconds.toFixed(1)} s) |`,
        `| calls per second of the process's CPU time (user + system, the garbage collector's helper threads included) | ${cpuRate} |`,
        `| **peak RSS, ${LINES}-line file** | **${MiB(peak)} MiB** |`,
        `| peak RSS after a ${LINES / 10}-line file (same process, before the whole one) | ${MiB(peakAtTenth)} MiB |`,
        `| RSS before replaying | ${MiB(rssBefore)} MiB |`,
      ].join("\n"),
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
