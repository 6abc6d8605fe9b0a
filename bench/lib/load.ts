import autocannon from "autocannon";
import { cpuMs, machineCpuMs, memoryKiB, sampleRss } from "./proc";

/** One HTTP request the load generator sends. */
export interface RequestSpec {
  method: "GET" | "POST";
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** Where the next request comes from: a fixed request, or a function called once per request. */
export type RequestSource = RequestSpec | (() => RequestSpec);

export interface LoadOptions {
  url: string;
  /** The workerd process whose CPU and memory the run is charged to. */
  pid: number;
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  /** Requests per second over all connections (a rate-limited run); unlimited when absent. */
  overallRate?: number;
  /** Runs between the warm-up and the measured window (e.g. resetting the repository's counters). */
  beforeMeasure?: () => Promise<void>;
}

export interface LoadResult {
  requests: number;
  requestsPerSecond: number;
  /** Latencies measured by the load generator per response, in ms (not rounded to whole ms). */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** autocannon's own p99 (whole ms; corrected for coordinated omission in rate-limited runs). */
  autocannonP99Ms: number;
  statusCounts: Record<string, number>;
  errors: number;
  timeouts: number;
  /** workerd CPU time (user + system, all threads) over the measured window divided by responses. */
  cpuMsPerRequest: number;
  /** workerd CPU use over the window, in cores (1.0 = one core busy all the time). */
  cpuCores: number;
  /** CPU the load generator's own process used over the window, in cores (it shares the machine). */
  loadGeneratorCores: number;
  /** CPU used by every other process on the machine over the window, in cores (other work disturbing the run). */
  otherCores: number;
  /** Largest workerd RSS sampled during the window, and workerd's RSS high-water mark so far. */
  peakRssMiB: number;
  hwmMiB: number;
  /** The measured window, on this process's performance.now() clock (to match workerd's GC trace against). */
  windowFrom: number;
  windowTo: number;
}

const percentile = (sorted: Float64Array, p: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!);

function drive(options: LoadOptions, source: RequestSource, durationSeconds: number, onLatency?: (ms: number) => void): Promise<autocannon.Result> {
  const next = typeof source === "function" ? source : () => source;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: durationSeconds,
        ...(options.overallRate ? { overallRate: options.overallRate } : {}),
        timeout: 10,
        requests: [
          {
            setupRequest: (request) => {
              const spec = next();
              return { ...request, method: spec.method, path: spec.path, headers: { ...spec.headers }, body: spec.body }; // autocannon writes Content-Length into the headers object
            },
          },
        ],
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
    if (onLatency) instance.on("response", (_client, _status, _bytes, responseTime) => onLatency(responseTime));
  });
}

/**
 * Warms up, then drives load at fixed concurrency for a fixed duration while reading the workerd
 * process's CPU time and RSS from /proc. Latency is taken per response from autocannon's
 * `response` event, so p50/p99 keep sub-millisecond resolution.
 */
export async function runLoad(options: LoadOptions, source: RequestSource): Promise<LoadResult> {
  if (options.warmupSeconds > 0) await drive(options, source, options.warmupSeconds);
  await options.beforeMeasure?.();
  let latencies = new Float64Array(1 << 16);
  let count = 0;
  const record = (ms: number) => {
    if (count === latencies.length) {
      const grown = new Float64Array(latencies.length * 2);
      grown.set(latencies);
      latencies = grown;
    }
    latencies[count++] = ms;
  };
  const rss = sampleRss(options.pid, 250);
  const cpuBefore = cpuMs(options.pid);
  const ownCpuBefore = process.cpuUsage();
  const machineBefore = machineCpuMs();
  const started = performance.now();
  const result = await drive(options, source, options.durationSeconds, record);
  const elapsedMs = performance.now() - started;
  const cpuUsed = cpuMs(options.pid) - cpuBefore;
  const ownCpu = process.cpuUsage(ownCpuBefore);
  const machineBusy = machineCpuMs().busy - machineBefore.busy;
  const samples = rss.stop();
  const sorted = latencies.slice(0, count).sort();
  const statusCounts = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, stats]) => [code, stats.count ?? 0]));
  const responses = Object.values(statusCounts).reduce((sum, n) => sum + n, 0);
  return {
    requests: responses,
    requestsPerSecond: responses / (elapsedMs / 1000),
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.length ? sorted[sorted.length - 1]! : NaN,
    autocannonP99Ms: result.latency.p99,
    statusCounts,
    errors: result.errors,
    timeouts: result.timeouts,
    cpuMsPerRequest: responses ? cpuUsed / responses : NaN,
    cpuCores: cpuUsed / elapsedMs,
    loadGeneratorCores: (ownCpu.user + ownCpu.system) / 1000 / elapsedMs,
    otherCores: Math.max(0, machineBusy - cpuUsed - (ownCpu.user + ownCpu.system) / 1000) / elapsedMs,
    peakRssMiB: Math.max(...samples.map((sample) => sample.rssKiB)) / 1024,
    hwmMiB: memoryKiB(options.pid).hwm / 1024,
    windowFrom: started,
    windowTo: started + elapsedMs,
  };
}
