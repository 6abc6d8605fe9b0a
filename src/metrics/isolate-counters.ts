import { METRICS, type CounterName, type HistogramName } from "./catalogue";
import { renderLabels, type Labels } from "./series";
import { addToMetricSums, type SeriesValue } from "./store";

/**
 * This isolate's increments since its last flush. Counting is a map update on the request path;
 * the D1 write happens after the response (waitUntil), at most once per FLUSH_INTERVAL_MS per
 * isolate, and increments arriving meanwhile join the next batch. An isolate evicted between flushes
 * loses at most that interval's counts; `GET /metrics` flushes its own isolate before reading.
 */
const pending = new Map<string, SeriesValue>();
let flushing: Promise<void> | null = null;
let lastFlushStartedMs = Number.NEGATIVE_INFINITY;

const FLUSH_INTERVAL_MS = 10_000;
const STATEMENTS_PER_BATCH = 50;

function add(name: string, labels: string, value: number): void {
  const key = `${name}{${labels}}`;
  const series = pending.get(key);
  if (series) series.value += value;
  else pending.set(key, { name, labels, value });
}

export function incrementCounter(name: CounterName, labels: Labels = {}, by = 1): void {
  add(name, renderLabels(labels), by);
}

/** Histogram buckets are cumulative (`le` = less than or equal), so an observation counts in every bucket from its own upward. */
export function observeHistogram(name: HistogramName, seconds: number, labels: Labels = {}): void {
  // The label set is rendered once, with `le` slotted into its sorted place, instead of once per bucket.
  const names = Object.keys(labels);
  const before = renderLabels(Object.fromEntries(names.filter((label) => label < "le").map((label) => [label, labels[label]!])));
  const after = renderLabels(Object.fromEntries(names.filter((label) => label > "le").map((label) => [label, labels[label]!])));
  const bucket = (le: string) => `${before}${before ? "," : ""}le="${le}"${after ? "," : ""}${after}`;
  for (const bound of METRICS[name].buckets) {
    if (seconds <= bound) add(`${name}_bucket`, bucket(String(bound)), 1);
  }
  add(`${name}_bucket`, bucket("+Inf"), 1);
  const rendered = renderLabels(labels);
  add(`${name}_sum`, rendered, seconds);
  add(`${name}_count`, rendered, 1);
}

/** Starts a background flush when none is running and the interval has passed since the last one. */
export function scheduleMetricsFlush(db: D1Database, waitUntil: (promise: Promise<unknown>) => void): void {
  if (flushing || pending.size === 0 || Date.now() - lastFlushStartedMs < FLUSH_INTERVAL_MS) return;
  waitUntil(startFlush(db));
}

/** Writes everything counted so far (after any flush in flight), for a reader that must see it. */
export async function flushMetricsNow(db: D1Database): Promise<void> {
  await flushing;
  await startFlush(db);
}

function startFlush(db: D1Database): Promise<void> {
  lastFlushStartedMs = Date.now();
  flushing = writePending(db).finally(() => {
    flushing = null;
  });
  return flushing;
}

/** Writes batch by batch; a batch that fails goes back into the pending map with everything after it. */
async function writePending(db: D1Database): Promise<void> {
  const increments = [...pending.values()];
  pending.clear();
  for (let start = 0; start < increments.length; start += STATEMENTS_PER_BATCH) {
    try {
      await addToMetricSums(db, increments.slice(start, start + STATEMENTS_PER_BATCH));
    } catch (error) {
      for (const { name, labels, value } of increments.slice(start)) add(name, labels, value);
      console.error(JSON.stringify({ level: "error", event: "metrics-flush-failed", error: String(error) }));
      return;
    }
  }
}
