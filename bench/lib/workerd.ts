import { convertV4MiniflareOptions, Log, LogLevel, Miniflare, type V4MiniflareOptions } from "miniflare";
import type { BuiltWorker } from "./build";
import { childProcesses, ownsListeningSocket } from "./proc";

export interface RunningWorker {
  /** Base URL of workerd's own HTTP socket. */
  url: string;
  /** The workerd process serving it (CPU and memory are read from /proc/<pid>). */
  pid: number;
  miniflare: Miniflare;
  dispose(): Promise<void>;
}

/**
 * Starts one workerd process for one bundled Worker through Miniflare's programmatic API, which
 * writes workerd's capnp configuration (KV, D1, Cache, Durable Objects as local services) and lets
 * workerd listen on the port itself. Unlike `wrangler dev`, no Node proxy sits in front of it:
 * this function refuses to return unless the workerd process itself owns the listening socket.
 */
export type WorkerSettings = Record<string, unknown>;

export async function startWorker(worker: BuiltWorker, settings: WorkerSettings, port: number, inspectorPort?: number): Promise<RunningWorker> {
  const before = new Set(childProcesses(process.pid, "workerd"));
  let reported = 0;
  // Wrangler hands out worker options in Miniflare's v4 shape (unstable_getMiniflareWorkerOptions).
  // The load goes to a direct socket: workerd's own listener bound straight to the Worker, as in a
  // production workerd config, without Miniflare's entry Worker (routing, pretty errors) in between.
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
  return { url: url.origin, pid, miniflare, dispose: () => miniflare.dispose() };
}
