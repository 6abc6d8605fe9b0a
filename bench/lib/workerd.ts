import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { convertV4MiniflareOptions, Log, LogLevel, Miniflare, type V4MiniflareOptions } from "miniflare";
import type { BuiltWorker } from "./build";
import { childProcesses, ownsListeningSocket } from "./proc";

export interface RunningWorker {
  /** Base URL of workerd's own HTTP socket. */
  url: string;
  /** The workerd process serving it (CPU and memory are read from /proc/<pid>). */
  pid: number;
  miniflare: Miniflare;
  /** Every collection V8 traced (scavenges and full ones), in every isolate of the process: when (this process's clock), where, and a full one's pause. */
  collections: TracedCollection[];
  dispose(): Promise<void>;
}

export interface TracedCollection {
  /**
   * When it happened, on the bench process's performance.now() clock: V8's own timestamp (ms since the
   * isolate started) plus the smallest arrival − timestamp difference seen for that isolate, because
   * workerd's stdout reaches us in buffered chunks, seconds after the line was written.
   */
  at: number;
  /** V8's isolate address in the trace: workerd also runs Miniflare's own service Workers (D1, KV, cache). */
  isolate: string;
  /** A full (mark-compact) collection's stop-the-world pause; null for a scavenge. */
  pauseMs: number | null;
  /** The isolate's heap after the collection, MB (V8's "-> used" figure). */
  heapMB: number;
}

/**
 * The Worker's full collections in a window, for a report: how many, the longest and the total pause.
 * workerd also runs Miniflare's own services (D1, the Durable Objects' host) as isolates, which can
 * collect as often as the Worker (the D1 isolate during write-behind, or during the seeding of 10 000
 * rules), so the Worker's isolate is told by its heap: the largest any isolate had after a collection
 * in the window (the product holds its rules and caches; the baselines are the only busy isolate).
 */
export function collectionsBetween(collections: TracedCollection[], from: number, to: number): { count: number; maxPauseMs: number; totalPauseMs: number; atSeconds: number[] } {
  const inWindow = collections.filter(({ at }) => at >= from && at <= to);
  const largest = inWindow.reduce<TracedCollection | null>((best, entry) => (!best || entry.heapMB > best.heapMB ? entry : best), null);
  const full = inWindow.filter((entry): entry is TracedCollection & { pauseMs: number } => entry.isolate === largest?.isolate && entry.pauseMs !== null);
  return {
    count: full.length,
    maxPauseMs: Math.max(0, ...full.map(({ pauseMs }) => pauseMs)),
    totalPauseMs: full.reduce((sum, { pauseMs }) => sum + pauseMs, 0),
    atSeconds: full.map(({ at }) => (at - from) / 1000),
  };
}

/**
 * Starts one workerd process for one bundled Worker through Miniflare's programmatic API, which
 * writes workerd's capnp configuration (KV, D1, Cache, Durable Objects as local services) and lets
 * workerd listen on the port itself. Unlike `wrangler dev`, no Node proxy sits in front of it:
 * this function refuses to return unless the workerd process itself owns the listening socket.
 */
export type WorkerSettings = Record<string, unknown>;

const V8_PHASES = ["mark", "clear", "evacuate", "sweep", "finish", "prologue", "epilogue"] as const;
const MiB = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

/**
 * The isolate's heap after a traced collection of any kind, in MB: `-> 18.4 (` in a --trace-gc line,
 * `end_object_size` in --trace-gc-nvp's JSON (BENCH_TRACE_GC=phases). 0 when the line has neither.
 */
export function heapAfter(message: string): number {
  const plain = /-> ([\d.]+) \(/.exec(message);
  if (plain) return Number(plain[1]);
  const size = /"end_object_size":\s*(\d+)/.exec(message);
  return size ? Number(size[1]) / 1024 / 1024 : 0;
}

/**
 * A full (mark-compact) collection's stop-the-world pause, from a --trace-gc line or from the JSON of
 * --trace-gc-nvp (BENCH_TRACE_GC=phases). The JSON also times V8's own phases; what the pause holds
 * beyond them is the embedder's work in the same pause (workerd's C++ objects, BENCHMARKS.md).
 */
function fullCollection(message: string): { pauseMs: number; phases?: string } | null {
  const line = /Mark-Compact .*?MB, (?:pooled: [\d.]+ MB, )?([\d.]+) \/ [\d.]+ ms/.exec(message);
  if (line) return { pauseMs: Number(line[1]) };
  const json = / GC: (\{.*\})\s*$/.exec(message);
  if (!json) return null;
  let trace: Record<string, unknown>;
  try {
    trace = JSON.parse(json[1]!) as Record<string, unknown>;
  } catch {
    return null;
  }
  const time = (key: string) => (typeof trace[key] === "number" ? (trace[key] as number) : 0);
  if (trace.gc !== "mc") return null;
  const inPhases = V8_PHASES.reduce((sum, phase) => sum + time(phase), 0);
  const pauseMs = time("pause");
  return {
    pauseMs,
    phases:
      `mark-compact, pause ${pauseMs.toFixed(1)} ms: V8's heap phases ${inPhases.toFixed(1)} ms ` +
      `(mark ${time("mark").toFixed(1)}, clear ${time("clear").toFixed(1)}, evacuate ${time("evacuate").toFixed(1)}, sweep ${time("sweep").toFixed(1)}), ` +
      `outside them ${(pauseMs - inPhases).toFixed(1)} ms; objects ${MiB(time("start_object_size"))} → ${MiB(time("end_object_size"))} MiB`,
  };
}

/**
 * workerd with its standard output line-buffered. V8 prints the GC trace with C stdio, which buffers a
 * pipe's output in blocks; the block still in the buffer when the bench disposes of workerd was lost,
 * so the last window of each process could count fewer full collections than it had (a 4 s B0 run
 * counted none). `stdbuf -oL` makes every trace line leave as it is printed.
 * Without coreutils' stdbuf, workerd runs as it is.
 */
function lineBufferedWorkerd(): string | undefined {
  const stdbuf = ["/usr/bin/stdbuf", "/bin/stdbuf"].find((path) => existsSync(path));
  if (!stdbuf) return undefined;
  const dir = join(import.meta.dirname, "..", ".build");
  mkdirSync(dir, { recursive: true });
  const wrapper = join(dir, "workerd-line-buffered.sh");
  // The binary Miniflare itself would start (the `workerd` package's main export).
  const workerdBinary = (createRequire(import.meta.url)("workerd") as { default: string }).default;
  // `exec` keeps one process: the pid Miniflare starts is workerd's own, as the bench's /proc readings need.
  writeFileSync(wrapper, `#!/bin/sh\nexec ${stdbuf} -oL -eL '${workerdBinary}' "$@"\n`);
  chmodSync(wrapper, 0o755);
  return wrapper;
}

export async function startWorker(worker: BuiltWorker, settings: WorkerSettings, port: number, inspectorPort?: number): Promise<RunningWorker> {
  const before = new Set(childProcesses(process.pid, "workerd"));
  let reported = 0;
  // Wrangler hands out worker options in Miniflare's v4 shape (unstable_getMiniflareWorkerOptions).
  // The load goes to a direct socket: workerd's own listener bound straight to the Worker, as in a
  // production workerd config, without Miniflare's entry Worker (routing, pretty errors) in between.
  // V8's --trace-gc inside workerd (Miniflare passes these flags to workerd): the full collections are
  // stop-the-world pauses, the latency tail's cause (BENCHMARKS.md), so every run records them. The
  // trace prints a line per collection (a few per second), which costs the Worker nothing it notices.
  // BENCH_V8_FLAGS adds flags for an experiment (such as the collector workerd turns off): such a run
  // measures a runtime that is not the one deployed, so it never writes BENCHMARKS.md (updateBenchmarks).
  // BENCH_TRACE_GC=phases asks V8 for its JSON trace instead (--trace-gc-nvp): the same collections,
  // with the time of each of V8's own phases.
  const phases = process.env.BENCH_TRACE_GC === "phases";
  process.env.MINIFLARE_WORKERD_V8_FLAGS = ["--trace-gc", phases ? "--trace-gc-nvp" : "", process.env.BENCH_V8_FLAGS ?? ""].filter(Boolean).join(" ");
  const workerdPath = process.env.MINIFLARE_WORKERD_PATH ?? lineBufferedWorkerd();
  if (workerdPath) process.env.MINIFLARE_WORKERD_PATH = workerdPath;
  const collections: TracedCollection[] = [];
  const clockOffset = new Map<string, number>();
  const options = {
    ...settings,
    name: "bench",
    modules: worker.modules,
    host: "127.0.0.1",
    port: 0,
    cf: { colo: "BENCH" },
    unsafeDirectSockets: [{ host: "127.0.0.1", port }],
    ...(inspectorPort === undefined ? {} : { inspectorPort }),
    log: new Log(LogLevel.WARN),
    // The product logs one line per verdict; the bench keeps only warnings and errors (the first few).
    handleStructuredLogs: ({ level, message }: { level: string; message: string }) => {
      const traced = /^\[\d+:(0x[0-9a-f]+)(?::\d+)?\]\s+(\d+) ms: /.exec(message);
      if (traced) {
        const isolate = traced[1]!;
        const isolateMs = Number(traced[2]);
        const offset = Math.min(clockOffset.get(isolate) ?? Infinity, performance.now() - isolateMs);
        clockOffset.set(isolate, offset);
        // BENCH_TRACE_GC=all prints every collection, scavenges included: their heap sizes show what each promotes.
        if (process.env.BENCH_TRACE_GC === "all") console.log(`[workerd gc] ${message.trim().slice(0, 400)}`);
        const pause = fullCollection(message);
        const heapMB = heapAfter(message);
        collections.push({ at: isolateMs, isolate, pauseMs: pause?.pauseMs ?? null, heapMB });
        if (pause && process.env.BENCH_TRACE_GC === "1") console.log(`[workerd gc] ${message.trim().slice(0, 600)}`);
        if (pause?.phases) console.log(`[workerd gc] isolate ${isolate} at ${isolateMs} ms: ${pause.phases}`);
        return;
      }
      if ((level === "error" || level === "warn") && reported++ < 20) console.error(`[workerd ${level}] ${message.slice(0, 500)}`);
    },
  } as V4MiniflareOptions;
  const miniflare = new Miniflare(convertV4MiniflareOptions(options));
  await miniflare.ready;
  const url = await miniflare.unsafeGetDirectURL("bench");
  const pid = childProcesses(process.pid, "workerd").find((candidate) => !before.has(candidate));
  if (pid === undefined) throw new Error("Miniflare started, but no new workerd child process was found");
  if (!ownsListeningSocket(pid, Number(url.port))) {
    throw new Error(`port ${url.port} is not a socket of workerd (pid ${pid}): something is proxying the benchmark`);
  }
  return {
    url: url.origin,
    pid,
    miniflare,
    // Read when a report is made, so the clock offsets include every line that arrived by then.
    get collections() {
      return collections.map((entry) => ({ ...entry, at: entry.at + (clockOffset.get(entry.isolate) ?? 0) }));
    },
    dispose: () => miniflare.dispose(),
  };
}
