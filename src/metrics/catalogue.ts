/**
 * Every metric `GET /metrics` exposes, with its Prometheus type and help text: one table, so the
 * exposition lists each family (HELP and TYPE) even before anything was counted. Label values are
 * drawn from bounded sets (actions, check ids, reason codes, dependencies): never a number, host or
 * carrier, which would make the series count unbounded.
 */
export type MetricType = "counter" | "gauge" | "histogram";

export interface MetricFamily {
  type: MetricType;
  help: string;
  /** Upper bounds of a histogram's buckets, in seconds (Prometheus base unit). */
  buckets?: readonly number[];
}

/** Wall time spent waiting on networks: a repository fetch or a whole verdict, 5 ms to 5 s. */
const LATENCY_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] as const;

export const METRICS = {
  shaken_verdicts_total: { type: "counter", help: "Verdicts answered on /v1/verdict, by action." },
  shaken_verdicts_monitored_total: { type: "counter", help: "Verdicts whose monitored rules or policy entries would have acted, by the most severe action they would have taken (not enforced)." },
  shaken_caller_names_total: { type: "counter", help: "Verdicts whose From had a display name, by whether the callee is shown it (shown) or not (removed): what CALLER_NAMES does." },
  shaken_verdict_failed_checks_total: { type: "counter", help: "Failed checks in verdicts, by check id (a verdict counts once per failed check)." },
  shaken_verdict_duration_seconds: { type: "histogram", help: "Wall time from request to verdict on /v1/verdict.", buckets: LATENCY_BUCKETS_SECONDS },
  shaken_verifications_total: { type: "counter", help: "STIR/SHAKEN verification outcomes, by endpoint, verstat and SIP reason code (none when verification passed)." },
  shaken_certificate_cache_hits_total: { type: "counter", help: "x5u credentials served from the isolate's certificate cache." },
  shaken_certificate_cache_misses_total: { type: "counter", help: "x5u credentials not in the isolate's cache: read from the location's shared cache or fetched." },
  shaken_x5u_fetch_duration_seconds: { type: "histogram", help: "Certificate repository fetches (x5u), successful or not.", buckets: LATENCY_BUCKETS_SECONDS },
  shaken_x5u_fetch_errors_total: { type: "counter", help: "Certificate repository fetches that failed: unreachable, timed out, HTTP error, redirect or oversize." },
  shaken_x5u_fetches_refused_total: {
    type: "counter",
    help: "x5u loads refused without asking the repository, by reason (remembered-failure: it failed within X5U_FAILURE_CACHE_SECONDS; per-call: the call had asked 3 repositories; host-budget: X5U_HOST_FETCHES_PER_SECOND spent; location-budget: the location's X5U_FETCH_LIMITER spent).",
  },
  shaken_roaming_lookups_total: { type: "counter", help: "Roaming status lookups made for verdicts, by answer (unknown: the source failed or timed out)." },
  shaken_roaming_lookup_timeouts_total: { type: "counter", help: "Roaming lookups that ran out of their own time budget, by source." },
  shaken_verdict_budget_overruns_total: { type: "counter", help: "Dependencies cut off by the verdict's time budget, by dependency." },
  shaken_dependency_errors_total: { type: "counter", help: "Dependencies that failed within the verdict's time budget, by dependency." },
  shaken_background_timeouts_total: { type: "counter", help: "Background store calls abandoned after BACKGROUND_TIMEOUT_MS, by task (write-behind:<store>, velocity-flush, metrics-flush, snapshot-reload, snapshot-version-check, cache-write:certificates, cache-write:trust)." },
  shaken_cache_read_timeouts_total: { type: "counter", help: "Reads from the location's Workers cache that did not answer within their bound and were taken as a miss, by cache (certificates, trust)." },
  shaken_background_dropped_total: { type: "counter", help: "Entries background work dropped instead of writing (buffer full, or lost with a timed-out call), by task." },
  shaken_crl_age_seconds: { type: "gauge", help: "Age (now - thisUpdate) of each CRL in the trust set the scraped isolate verifies with, by issuer." },
  shaken_crl_refresh_failures_total: { type: "counter", help: "CRL URLs the scheduled refresh did not store, by reason (url, fetch, crl, signature, store)." },
  shaken_store_rows_written_total: {
    type: "counter",
    help: "Rows written as the storage reports them (D1 meta.rows_written, a Durable Object's SQL cursor rowsWritten, and 1 per alarm set), by store (stats, recent-verdicts, metrics, velocity, replay).",
  },
  shaken_store_rows_read_total: { type: "counter", help: "Rows read as the storage reports them (D1 meta.rows_read, a Durable Object's SQL cursor rowsRead), by store." },
  shaken_durable_object_requests_total: { type: "counter", help: "Durable Object requests: the Worker's calls and the objects' own alarms, by store (velocity, replay)." },
} as const satisfies Record<string, MetricFamily>;

export type MetricName = keyof typeof METRICS;
export type HistogramName = { [Name in MetricName]: (typeof METRICS)[Name]["type"] extends "histogram" ? Name : never }[MetricName];
export type CounterName = { [Name in MetricName]: (typeof METRICS)[Name]["type"] extends "counter" ? Name : never }[MetricName];
