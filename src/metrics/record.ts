import type { X509Crl } from "@peculiar/x509";
import type { FetchRefusal } from "../certificate/certificate-source";
import type { CrlRefreshFailure } from "../certificate/crl-refresh";
import { readCrl } from "../certificate/revocation";
import type { CacheWriteTask } from "../lib/background-writes";
import type { StoreRows } from "../lib/storage-rows";
import { ORIGIN_CHECK_IDS } from "../origin/check-ids";
import type { Check } from "../verdict/check";
import { DEPENDENCY_CHECK_IDS } from "../verdict/deadline";
import { wouldHaveAction } from "../verdict/policy";
import type { Action, MonitoredAction, Verstat } from "../verdict/verdict";
import { incrementCounter, observeHistogram } from "./isolate-counters";
import { renderLabels } from "./series";
import type { SeriesValue } from "./store";

/**
 * What is counted, and from where. Verdict-level figures are read off the verdict itself (its action
 * and checks); the certificate cache, repository fetches and roaming time budget report through the
 * one-line hooks at the end, called from the code that knows.
 */
const DEPENDENCY_CHECKS: ReadonlySet<string> = new Set(Object.values(DEPENDENCY_CHECK_IDS));

export interface VerdictFigures {
  action: Action;
  monitored?: MonitoredAction[];
  checks: Check[];
  elapsedMs: number;
  /** What the callee is shown of From's display name, when it had one (src/verdict/caller-name.ts). */
  callerName?: "shown" | "removed" | null;
}

export function recordVerdictMetrics({ action, monitored, checks, elapsedMs, callerName }: VerdictFigures): void {
  incrementCounter("shaken_verdicts_total", { action });
  if (callerName) incrementCounter("shaken_caller_names_total", { presentation: callerName });
  const wouldHave = wouldHaveAction(monitored);
  if (wouldHave) incrementCounter("shaken_verdicts_monitored_total", { action: wouldHave });
  observeHistogram("shaken_verdict_duration_seconds", elapsedMs / 1000);
  for (const id of new Set(checks.filter((check) => check.result === "fail").map((check) => check.id))) {
    incrementCounter("shaken_verdict_failed_checks_total", { check: id });
  }
  for (const check of checks) {
    if (check.id === ORIGIN_CHECK_IDS.roaming && check.result !== "skip") {
      incrementCounter("shaken_roaming_lookups_total", { status: String(check.evidence?.status ?? "unknown") });
    }
    // A dependency's trouble is reported as a check (src/verdict/deadline.ts) whose evidence says which and how.
    if (DEPENDENCY_CHECKS.has(check.id)) recordDependencyTrouble(String(check.evidence?.dependency ?? check.id), check.evidence?.problem === "timeout" ? "timeout" : "error");
  }
}

/** A dependency a verdict or an ATIS verification waited on was cut off by its budget (timeout) or failed. */
export function recordDependencyTrouble(dependency: string, problem: "timeout" | "error"): void {
  incrementCounter(problem === "timeout" ? "shaken_verdict_budget_overruns_total" : "shaken_dependency_errors_total", { dependency });
}

export interface VerificationFigures {
  verstat: Verstat;
  failure: { reasonCode: number } | null;
}

export function recordVerificationMetrics(endpoint: "atis" | "verdict", { verstat, failure }: VerificationFigures): void {
  incrementCounter("shaken_verifications_total", { endpoint, verstat, reasoncode: failure ? String(failure.reasonCode) : "none" });
}

/** Hook for the certificate source: was the x5u's credential in this isolate's cache? */
export function recordCertificateCacheLookup(hit: boolean): void {
  incrementCounter(hit ? "shaken_certificate_cache_hits_total" : "shaken_certificate_cache_misses_total");
}

/** Hook for the certificate source: times one repository fetch, counting it as an error when it throws. */
export async function timeX5uFetch<T>(fetchChain: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await fetchChain();
  } catch (error) {
    incrementCounter("shaken_x5u_fetch_errors_total");
    throw error;
  } finally {
    observeHistogram("shaken_x5u_fetch_duration_seconds", (performance.now() - started) / 1000);
  }
}

/** Hook for the certificate source: an x5u load refused without asking its repository, and why. */
export function recordX5uFetchRefused(reason: FetchRefusal): void {
  incrementCounter("shaken_x5u_fetches_refused_total", { reason });
}

/** Hook for the roaming time budget (src/origin/roaming/lookup.ts): the source gave no answer in time. */
export function recordRoamingLookupTimeout(source: string): void {
  incrementCounter("shaken_roaming_lookup_timeouts_total", { source });
}

/**
 * Background work that holds a slot or a buffer in the isolate (issue 22 items 5 and 6), named in the
 * `task` label: each write-behind store, the velocity counters' flush, and the metrics' own flush.
 */
export type BackgroundTask = "write-behind:stats" | "write-behind:recent-verdicts" | "velocity-flush" | "metrics-flush";

/** Hook for background work: a store call did not settle within BACKGROUND_TIMEOUT_MS and was abandoned. */
export function recordBackgroundTimeout(task: BackgroundTask): void {
  incrementCounter("shaken_background_timeouts_total", { task });
}

/** Hook for the location's Workers cache: a write abandoned after BACKGROUND_TIMEOUT_MS. */
export function recordCacheWriteTimeout(task: CacheWriteTask): void {
  incrementCounter("shaken_background_timeouts_total", { task });
}

/** Hook for the location's Workers cache: a read that did not answer within its bound, taken as a miss. */
export function recordCacheReadTimeout(cache: "certificates" | "trust"): void {
  incrementCounter("shaken_cache_read_timeouts_total", { cache });
}

/** Hook for background work: `entries` were dropped instead of written (the buffer was full, or a timed-out call took them). */
export function recordBackgroundDrops(task: BackgroundTask, entries: number): void {
  if (entries > 0) incrementCounter("shaken_background_dropped_total", { task }, entries);
}

/** The stores a verdict writes to, named in the `store` label of the storage metrics: what the operator is billed for, store by store. */
export type MeteredStore = "stats" | "recent-verdicts" | "metrics" | "velocity" | "replay";

/** Hook for the stores: the rows their storage reported for one call (src/lib/storage-rows.ts). */
export function recordStoreRows(store: MeteredStore, { rowsRead, rowsWritten }: StoreRows): void {
  if (rowsWritten > 0) incrementCounter("shaken_store_rows_written_total", { store }, rowsWritten);
  if (rowsRead > 0) incrementCounter("shaken_store_rows_read_total", { store }, rowsRead);
}

/** Hook for the Durable Object stores: requests billed, the Worker's calls and the alarms an object ran. */
export function recordDurableObjectRequests(store: MeteredStore, requests: number): void {
  if (requests > 0) incrementCounter("shaken_durable_object_requests_total", { store }, requests);
}

/** Hook for the scheduled CRL refresh: a URL whose CRL was not stored, and why. */
export function recordCrlRefreshFailure(reason: CrlRefreshFailure): void {
  incrementCounter("shaken_crl_refresh_failures_total", { reason });
}

/** The CRL age gauge, read off the trust set the scraping isolate verifies with: a gauge is not summed across isolates. */
export function crlAgeSeries(crls: X509Crl[], nowMs: number): SeriesValue[] {
  return crls.map((crl) => {
    const { issuer, thisUpdate } = readCrl(crl);
    return { name: "shaken_crl_age_seconds", labels: renderLabels({ issuer }), value: Math.round((nowMs - thisUpdate) / 1000) };
  });
}
