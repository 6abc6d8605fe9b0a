import { Agent, request } from "node:http";
import type { RequestSpec } from "./load";

export interface PacedResult {
  rate: number;
  requests: number;
  failures: number;
  /** Latency from the moment the request was due (open loop: the generator's own lateness included). */
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  /** Latency from the moment the request was written: the same answers without the generator's lateness. */
  p99FromSendMs: number;
  /** How late the generator wrote its requests (send − due), p99: what the harness adds by itself. */
  lateP99Ms: number;
  /** 100 ms windows in which some answer took longer than 50 ms (a pause stalls every call in flight). */
  stalledWindows: number;
  windows: number;
  /** Where the stalled windows start, in seconds from the first request (the first 20). */
  stalledAt: number[];
  /** The run, on this process's performance.now() clock (to match workerd's GC trace against). */
  windowFrom: number;
  windowTo: number;
}

const STALL_MS = 50;
const WINDOW_MS = 100;

const quantile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;

/**
 * An open-loop load at a steady rate (as wrk2 does): requests are written on a fixed schedule, every
 * millisecond as many as are due, whatever the answers do, and each latency runs from the moment the
 * request was due, so a stalled server is charged for every call it made wait (no coordinated
 * omission). node:http with a keep-alive agent: the generator's cost per request is a fraction of
 * `fetch`'s, and its own lateness is reported beside the latencies. autocannon's `overallRate` instead
 * fires each connection's quota at the start of every second, so its half-rate latencies are queueing.
 */
export async function runPaced(baseUrl: string, next: () => RequestSpec, rate: number, durationSeconds: number): Promise<PacedResult> {
  const target = new URL(baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: 1024 });
  const due: number[] = [];
  const sent: number[] = [];
  const done: number[] = [];
  let failures = 0;
  let outstanding = 0;
  const send = (index: number, dueAt: number, finished: () => void) => {
    const spec = next();
    due[index] = dueAt;
    sent[index] = performance.now();
    outstanding++;
    const settle = (ok: boolean) => {
      if (!ok) failures++;
      done[index] = performance.now();
      outstanding--;
      finished();
    };
    const headers: Record<string, string | number> = { ...spec.headers };
    if (spec.body !== undefined) headers["Content-Length"] = Buffer.byteLength(spec.body);
    const outgoing = request({ agent, host: target.hostname, port: target.port, method: spec.method, path: spec.path, headers }, (response) => {
      response.on("data", () => {});
      response.on("end", () => settle((response.statusCode ?? 500) < 400));
      response.on("error", () => settle(false));
    });
    outgoing.on("error", () => settle(false));
    outgoing.end(spec.body);
  };
  const total = Math.floor(rate * durationSeconds);
  const windowFrom = performance.now();
  await new Promise<void>((resolve) => {
    let scheduled = 0;
    let ended = false;
    const finished = () => {
      if (ended && outstanding === 0) resolve();
    };
    const started = performance.now();
    const timer = setInterval(() => {
      const elapsed = performance.now() - started;
      // Request i is due at i / rate seconds: every request due by now, the one due exactly now included.
      const dueNow = Math.min(total, Math.floor((elapsed / 1000) * rate) + 1);
      for (; scheduled < dueNow; scheduled++) send(scheduled, started + (scheduled / rate) * 1000, finished);
      if (scheduled >= total) {
        clearInterval(timer);
        ended = true;
        finished();
      }
    }, 1);
  });
  agent.destroy();
  const windowTo = performance.now();

  const latencies = done.map((at, index) => at - due[index]!);
  const fromSend = done.map((at, index) => at - sent[index]!).sort((a, b) => a - b);
  const late = sent.map((at, index) => at - due[index]!).sort((a, b) => a - b);
  const windows = new Map<number, boolean>();
  const origin = due[0] ?? 0;
  latencies.forEach((latency, index) => {
    const window = Math.floor((due[index]! - origin) / WINDOW_MS);
    windows.set(window, (windows.get(window) ?? false) || latency > STALL_MS);
  });
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    rate,
    requests: sorted.length,
    failures,
    p50Ms: quantile(sorted, 0.5),
    p99Ms: quantile(sorted, 0.99),
    p999Ms: quantile(sorted, 0.999),
    maxMs: sorted[sorted.length - 1] ?? NaN,
    p99FromSendMs: quantile(fromSend, 0.99),
    lateP99Ms: quantile(late, 0.99),
    stalledWindows: [...windows.values()].filter(Boolean).length,
    stalledAt: [...windows].filter(([, stalled]) => stalled).slice(0, 20).map(([window]) => (window * WINDOW_MS) / 1000),
    windows: windows.size,
    windowFrom,
    windowTo,
  };
}
