import { d1Rows } from "../lib/storage-rows";
import { TimeoutError, withTimeout, type BackgroundWork } from "../lib/timeout";
import { METRICS, type CounterName, type HistogramName } from "./catalogue";
import type { BackgroundTask } from "./record";
import { renderLabels, type Labels } from "./series";
import { addToMetricSums, type SeriesValue } from "./store";

/**
 * This isolate's increments since its last flush. Counting is a map update on the request path;
 * the D1 write happens after the response (waitUntil), at most once per FLUSH_INTERVAL_MS per
 * isolate, and increments arriving meanwhile join the next batch. An isolate evicted between flushes
 * loses at most that interval's counts; `GET /metrics` flushes its own isolate before reading.
 * The map holds one entry per series, and series come from the catalogue's bounded label sets, so
 * increments D1 refuses wait here for the next flush without growing memory (README "Stores: loss bounds and retention").
 */
const pending = new Map<string, SeriesValue>();
let flushing: Promise<void> | null = null;
let lastFlushStartedMs = Number.NEGATIVE_INFINITY;

const FLUSH_INTERVAL_MS = 10_000;
const TASK: BackgroundTask = "metrics-flush";
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

/** A histogram's series for one label set: each bucket's bound and labels, then `+Inf`'s, `_sum`'s and `_count`'s labels. */
interface HistogramSeries {
  buckets: { bound: number; labels: string }[];
  infinity: string;
  all: string;
}

/**
 * Each histogram's series by label set, rendered once: a verdict observes its duration with the same
 * labels every time. Bounded like the counters, by the catalogue's label sets.
 */
const histogramSeries = new Map<string, HistogramSeries>();

function seriesOf(name: HistogramName, labels: Labels): HistogramSeries {
  const all = renderLabels(labels);
  const key = `${name}{${all}}`;
  let series = histogramSeries.get(key);
  if (series === undefined) {
    // `le` slotted into the label set's sorted place.
    const names = Object.keys(labels);
    const before = renderLabels(Object.fromEntries(names.filter((label) => label < "le").map((label) => [label, labels[label]!])));
    const after = renderLabels(Object.fromEntries(names.filter((label) => label > "le").map((label) => [label, labels[label]!])));
    const bucket = (le: string) => `${before}${before ? "," : ""}le="${le}"${after ? "," : ""}${after}`;
    series = { buckets: METRICS[name].buckets.map((bound) => ({ bound, labels: bucket(String(bound)) })), infinity: bucket("+Inf"), all };
    histogramSeries.set(key, series);
  }
  return series;
}

/** Histogram buckets are cumulative (`le` = less than or equal), so an observation counts in every bucket from its own upward. */
export function observeHistogram(name: HistogramName, seconds: number, labels: Labels = {}): void {
  const series = seriesOf(name, labels);
  const buckets = `${name}_bucket`;
  for (const { bound, labels: bucketLabels } of series.buckets) {
    if (seconds <= bound) add(buckets, bucketLabels, 1);
  }
  add(buckets, series.infinity, 1);
  add(`${name}_sum`, series.all, seconds);
  add(`${name}_count`, series.all, 1);
}

/** Starts a background flush when none is running and the interval has passed since the last one. */
export function scheduleMetricsFlush(db: D1Database, background: BackgroundWork): void {
  if (flushing || pending.size === 0 || Date.now() - lastFlushStartedMs < FLUSH_INTERVAL_MS) return;
  background.waitUntil(startFlush(db, background.timeoutMs));
}

/** Writes everything counted so far (after any flush in flight), for a reader that must see it. */
export async function flushMetricsNow(db: D1Database, timeoutMs: number): Promise<void> {
  await flushing;
  await startFlush(db, timeoutMs);
}

function startFlush(db: D1Database, timeoutMs: number): Promise<void> {
  lastFlushStartedMs = Date.now();
  flushing = writePending(db, timeoutMs).finally(() => {
    flushing = null;
  });
  return flushing;
}

/**
 * Writes batch by batch, each D1 call raced against `timeoutMs` (one call that never returns would
 * otherwise hold `flushing`, and every scrape waiting on it, for the isolate's life). A batch D1 refused
 * goes back into the pending map with everything after it; a batch whose call timed out may still land,
 * so only what comes after it goes back (an increment is never added twice), and its series are counted
 * as dropped.
 */
async function writePending(db: D1Database, timeoutMs: number): Promise<void> {
  const increments = [...pending.values()];
  pending.clear();
  for (let start = 0; start < increments.length; start += STATEMENTS_PER_BATCH) {
    const batch = increments.slice(start, start + STATEMENTS_PER_BATCH);
    try {
      const rows = d1Rows(await withTimeout(addToMetricSums(db, batch), timeoutMs, TASK));
      // What record.ts's recordStoreRows counts for the other stores (record.ts imports this module).
      if (rows.rowsWritten > 0) incrementCounter("shaken_store_rows_written_total", { store: "metrics" }, rows.rowsWritten);
      if (rows.rowsRead > 0) incrementCounter("shaken_store_rows_read_total", { store: "metrics" }, rows.rowsRead);
    } catch (error) {
      const timedOut = error instanceof TimeoutError;
      for (const { name, labels, value } of increments.slice(timedOut ? start + batch.length : start)) add(name, labels, value);
      if (timedOut) {
        incrementCounter("shaken_background_timeouts_total", { task: TASK });
        incrementCounter("shaken_background_dropped_total", { task: TASK }, batch.length);
      }
      console.error(JSON.stringify({ level: "error", event: "metrics-flush-failed", error: String(error) }));
      return;
    }
  }
}
