import type { RequestSpec } from "./load";

export interface PacedResult {
  rate: number;
  requests: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  failures: number;
}

/**
 * An open-loop load at a steady rate: requests are started on a fixed schedule (every 2 ms, as many
 * as the rate says are due), whatever the answers do, and each latency runs from the moment the
 * request was due. autocannon's `overallRate` instead lets each connection fire its whole quota at
 * the start of every second, so its half-rate latencies include the queue of a one-second burst.
 */
export async function runPaced(baseUrl: string, next: () => RequestSpec, rate: number, durationSeconds: number): Promise<PacedResult> {
  const latencies: number[] = [];
  let failures = 0;
  const inFlight = new Set<Promise<void>>();
  const started = performance.now();
  let sent = 0;
  const send = (dueAt: number) => {
    const spec = next();
    const request = fetch(`${baseUrl}${spec.path}`, { method: spec.method, headers: spec.headers, body: spec.body })
      .then(async (response) => {
        await response.arrayBuffer();
        if (!response.ok) failures++;
        latencies.push(performance.now() - dueAt);
      })
      .catch(() => void failures++)
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
  };
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = performance.now() - started;
      if (elapsed >= durationSeconds * 1000) {
        clearInterval(timer);
        resolve();
        return;
      }
      const due = Math.floor((elapsed / 1000) * rate);
      for (; sent < due; sent++) send(started + (sent / rate) * 1000);
    }, 2);
  });
  await Promise.all(inFlight);
  latencies.sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
  return { rate, requests: latencies.length, p50Ms: at(50), p99Ms: at(99), maxMs: latencies[latencies.length - 1] ?? NaN, failures };
}
