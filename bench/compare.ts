/**
 * `npm run bench:compare -- <git ref>`: the product at an earlier commit against this checkout, in one
 * run. Both bundles run on workerd side by side, each with its own stores, its own migrations and the
 * bench's origin configuration and BENCH_RULES rules (10 000); then, for each scenario (BENCH_COMPARE,
 * default S1,S2,S4,S5), windows alternate between the two, BENCH_ROUNDS (5) rounds of
 * BENCH_ROUND_DURATION seconds (4) after a 1 s warm-up, the order swapped every round.
 *
 * This virtual machine's speed drifts by tens of per cent within minutes (B0 has measured 50–123 µs on
 * one bundle), so a change is judged by the median of the paired ratios — after ÷ before, workerd CPU
 * per verdict, in adjacent windows — not by the ratio of two runs made minutes apart. Prints only.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUILD_DIR, buildProductAt, buildWorkers } from "./lib/build";
import { buildBenchPki } from "./lib/fixtures";
import { runLoad, type RequestSource } from "./lib/load";
import { startBenchRepository } from "./lib/repository";
import { atisRequest, cycle, inviteRequest, mixedRequests, signedPool, unsignedInternationalRequests } from "./lib/scenarios";
import { seedOrigin } from "./lib/seed";
import { startProduct } from "./lib/workers";
import type { RunningWorker } from "./lib/workerd";

const ROOT = join(import.meta.dirname, "..");
const ref = process.argv[2];
if (!ref) {
  console.error("usage: npm run bench:compare -- <git ref>   (the product at <ref> against this checkout)");
  process.exit(2);
}
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_ROUND_DURATION ?? 4);
const RULES = Number(process.env.BENCH_RULES ?? 10_000);
const SCENARIOS = (process.env.BENCH_COMPARE ?? "S1,S2,S4,S5").split(",").map((name) => name.trim());

const commit = execFileSync("git", ["rev-parse", "--short", ref], { cwd: ROOT, encoding: "utf8" }).trim();
const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
const dirty = execFileSync("git", ["status", "--porcelain", "--", "src", "migrations", "wrangler.toml"], { cwd: ROOT, encoding: "utf8" }).trim() !== "";
// The earlier commit in a throwaway worktree sharing this checkout's node_modules (the same dependencies).
const checkout = mkdtempSync(join(tmpdir(), "shaken-compare-"));
execFileSync("git", ["worktree", "add", "--detach", checkout, commit], { cwd: ROOT, stdio: "ignore" });
let before: RunningWorker | null = null;
let after: RunningWorker | null = null;
const pki = await buildBenchPki();
const repository = await startBenchRepository(pki.chainPem);
try {
  symlinkSync(join(ROOT, "node_modules"), join(checkout, "node_modules"));
  const built = buildWorkers();
  const earlier = buildProductAt(checkout, join(BUILD_DIR, "before"));
  before = await startProduct(earlier, pki, undefined, { migrations: join(checkout, "migrations") });
  after = await startProduct(built.product, pki);
  for (const worker of [before, after]) await seedOrigin(worker.url, RULES);
  const x5u = `${repository.url}/warm.pem`;
  const sources: Record<string, () => Promise<RequestSource>> = {
    S1: async () => cycle(await signedPool(pki, x5u, 4_000, atisRequest)),
    S2: async () => cycle(await signedPool(pki, x5u, 4_000, inviteRequest)),
    S4: async () => cycle(unsignedInternationalRequests()),
    S5: async () => cycle(await mixedRequests(pki, x5u)),
  };
  console.log(`before: ${commit}   after: ${head}${dirty ? " with uncommitted changes" : ""}   ${ROUNDS} rounds of ${SECONDS} s per scenario, ${RULES} rules`);
  const window = async (worker: RunningWorker, scenario: string) => {
    const result = await runLoad({ url: worker.url, pid: worker.pid, connections: Number(process.env.BENCH_CONNECTIONS ?? 50), durationSeconds: SECONDS, warmupSeconds: 1 }, await sources[scenario]!());
    if (Object.keys(result.statusCounts).some((status) => status !== "200")) throw new Error(`${scenario}: answers ${JSON.stringify(result.statusCounts)}`);
    return result;
  };
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const summary: string[] = [];
  for (const scenario of SCENARIOS) {
    if (!sources[scenario]) throw new Error(`BENCH_COMPARE: no scenario ${scenario} (S1, S2, S4, S5)`);
    const ratios: number[] = [];
    const cpu = { before: [] as number[], after: [] as number[] };
    for (let round = 1; round <= ROUNDS; round++) {
      const order = round % 2 === 1 ? (["before", "after"] as const) : (["after", "before"] as const);
      const figures: Record<string, { cpu: number; other: number }> = {};
      for (const side of order) {
        const result = await window(side === "before" ? before : after, scenario);
        figures[side] = { cpu: result.cpuMsPerRequest * 1000, other: result.otherCores };
        cpu[side].push(result.cpuMsPerRequest * 1000);
      }
      ratios.push(figures.after!.cpu / figures.before!.cpu);
      const disturbed = Math.max(figures.before!.other, figures.after!.other) > 0.1 ? " ⚠" : "";
      console.log(`${scenario} round ${round}: before ${figures.before!.cpu.toFixed(0)} µs, after ${figures.after!.cpu.toFixed(0)} µs per verdict → ${ratios.at(-1)!.toFixed(3)}${disturbed}`);
    }
    summary.push(`| ${scenario} | ${median(cpu.before).toFixed(0)} | ${median(cpu.after).toFixed(0)} | **${median(ratios).toFixed(3)}** (${[...ratios].sort((a, b) => a - b).map((ratio) => ratio.toFixed(2)).join(", ")}) |`);
  }
  console.log(["", `| scenario | before ${commit}, µs / verdict (median) | after ${head}, µs / verdict (median) | after ÷ before, median of paired rounds (all rounds) |`, "| --- | ---: | ---: | --- |", ...summary].join("\n"));
} finally {
  await before?.dispose();
  await after?.dispose();
  repository.close();
  execFileSync("git", ["worktree", "remove", "--force", checkout], { cwd: ROOT, stdio: "ignore" });
}
process.exit(0);
