import type { Exposition } from "./metrics";

/**
 * What a verdict costs deployed, from what a window measured and Cloudflare's published prices
 * (issue 19). The stores report their own rows (`shaken_store_rows_*_total{store}`, from D1's
 * `meta` and the Durable Objects' SQL cursors) and the Worker counts its Durable Object requests
 * (`shaken_durable_object_requests_total{store}`); the bench reads both from `GET /metrics` before and
 * after each window.
 */
export const PRICES = {
  /** When these prices were transcribed, and from where. */
  takenOn: "2026-12-05",
  source:
    "Cloudflare's published Workers Paid, D1 and Durable Objects (SQLite storage backend) prices as issue 19 states them; this machine cannot reach cloudflare.com to check them again",
  workerRequestsPerMillion: 0.3,
  workerCpuMsPerMillion: 0.02,
  d1RowsWrittenPerMillion: 1.0,
  d1RowsReadPerMillion: 0.001,
  durableObjectRequestsPerMillion: 0.15,
  durableObjectRowsWrittenPerMillion: 1.0,
  durableObjectRowsReadPerMillion: 0.001,
  durableObjectGbSecondsPerMillion: 12.5,
} as const;

/** The stores a verdict writes to (src/metrics/record.ts MeteredStore), by where their rows are billed. */
export const D1_STORES = ["stats", "recent-verdicts", "metrics"] as const;
export const DURABLE_OBJECT_STORES = ["velocity", "replay"] as const;
export type Store = (typeof D1_STORES)[number] | (typeof DURABLE_OBJECT_STORES)[number];
const STORES: readonly Store[] = [...D1_STORES, ...DURABLE_OBJECT_STORES];

/** What the stores did over a window, by store, as the product's metrics counted it. */
export interface StoreUse {
  rowsWritten: Record<Store, number>;
  rowsRead: Record<Store, number>;
  durableObjectRequests: Record<Store, number>;
}

const byStore = (exposition: Exposition, family: string): Record<Store, number> =>
  Object.fromEntries(STORES.map((store) => [store, exposition.get(`${family}{store="${store}"}`) ?? 0])) as Record<Store, number>;

export function storeUseOf(exposition: Exposition): StoreUse {
  return {
    rowsWritten: byStore(exposition, "shaken_store_rows_written_total"),
    rowsRead: byStore(exposition, "shaken_store_rows_read_total"),
    durableObjectRequests: byStore(exposition, "shaken_durable_object_requests_total"),
  };
}

export function storeUseBetween(before: StoreUse, after: StoreUse): StoreUse {
  const minus = (field: keyof StoreUse) => Object.fromEntries(STORES.map((store) => [store, after[field][store] - before[field][store]])) as Record<Store, number>;
  return { rowsWritten: minus("rowsWritten"), rowsRead: minus("rowsRead"), durableObjectRequests: minus("durableObjectRequests") };
}

const sum = (values: Record<Store, number>, stores: readonly Store[]) => stores.reduce((total, store) => total + values[store], 0);

/** One verdict's share of a window: what it used, and its price in USD per million verdicts, part by part. */
export interface VerdictCost {
  rowsWritten: number;
  rowsRead: number;
  durableObjectRequests: number;
  usdPerMillion: { total: number; requests: number; cpu: number; d1: number; durableObjects: number };
}

/**
 * USD per million verdicts: one Worker request per verdict, its CPU (workerd's in the window, which
 * also holds the local D1 and Durable Objects' own work: charged to the Worker, so an overestimate),
 * D1's rows, and the Durable Objects' requests and rows. Durable Object duration (GB-s) is left out:
 * it is billed per object for the time it stays in memory, whatever the calls, so it is a cost per
 * month and shard, not per verdict (BENCHMARKS.md gives it). The plans' included amounts are left out
 * too: the figure is the marginal cost of a verdict.
 */
export function verdictCost(cpuMsPerVerdict: number, use: StoreUse, verdicts: number): VerdictCost {
  const per = (value: number) => value / verdicts;
  const d1Written = per(sum(use.rowsWritten, D1_STORES));
  const d1Read = per(sum(use.rowsRead, D1_STORES));
  const doWritten = per(sum(use.rowsWritten, DURABLE_OBJECT_STORES));
  const doRead = per(sum(use.rowsRead, DURABLE_OBJECT_STORES));
  const doRequests = per(sum(use.durableObjectRequests, DURABLE_OBJECT_STORES));
  const parts = {
    requests: PRICES.workerRequestsPerMillion,
    cpu: cpuMsPerVerdict * PRICES.workerCpuMsPerMillion,
    d1: d1Written * PRICES.d1RowsWrittenPerMillion + d1Read * PRICES.d1RowsReadPerMillion,
    durableObjects: doRequests * PRICES.durableObjectRequestsPerMillion + doWritten * PRICES.durableObjectRowsWrittenPerMillion + doRead * PRICES.durableObjectRowsReadPerMillion,
  };
  return {
    rowsWritten: d1Written + doWritten,
    rowsRead: d1Read + doRead,
    durableObjectRequests: doRequests,
    usdPerMillion: { total: parts.requests + parts.cpu + parts.d1 + parts.durableObjects, ...parts },
  };
}

/** Rows written per verdict, store by store: where a scenario's rows go. */
export const rowsWrittenByStore = (use: StoreUse, verdicts: number): [Store, number][] => STORES.map((store) => [store, use.rowsWritten[store] / verdicts]);

/** Durable Object duration for `objects` objects kept in memory for a month (128 MB each, as billed). */
export const durableObjectMonthUsd = (objects: number) => (objects * 0.128 * 30 * 86_400 * PRICES.durableObjectGbSecondsPerMillion) / 1_000_000;
