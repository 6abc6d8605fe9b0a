import { refreshCrls } from "./certificate/crl-refresh";
import { readVerifierConfig } from "./config";
import { systemClock } from "./lib/clock";
import { flushMetricsNow } from "./metrics/isolate-counters";
import { recordCrlRefreshFailure } from "./metrics/record";
import type { RuntimeOverrides } from "./runtime";

/** The CRL refresh's Cron Trigger (wrangler.toml `[triggers] crons`): hourly, at 47 minutes past. */
export const CRL_REFRESH_CRON = "47 * * * *";

/**
 * The Cron Trigger (wrangler.toml `[triggers] crons`): fetches the CRLs of CRL_URLS into the CRL set,
 * counts each URL it could not store, writes one log line, and flushes the counts (a scheduled run
 * may be the only work its isolate does).
 */
export async function refreshCrlsOnSchedule(env: Env, overrides: RuntimeOverrides = {}): Promise<void> {
  const config = readVerifierConfig(env as unknown as Record<string, unknown>);
  if (config.crlUrls.length === 0) return;
  const results = await refreshCrls({
    urls: config.crlUrls,
    // The x5u rules on scheme, port and addresses; the repository allow-list does not apply: these URLs are the operator's own.
    policy: { allowInsecureLoopback: config.x5uAllowInsecureLoopback, allowedHosts: [] },
    limits: { timeoutMs: config.crlFetchTimeoutMs, maxBytes: config.crlMaxBytes },
    fetcher: overrides.fetcher ?? ((request) => fetch(request)),
    kv: env.TRUST,
    clock: overrides.clock ?? systemClock,
  });
  const failures = results.flatMap((result) => ("failure" in result ? [result.failure] : []));
  for (const failure of failures) recordCrlRefreshFailure(failure);
  const line = JSON.stringify({ level: failures.length > 0 ? "error" : "info", event: "crl-refresh", results });
  if (failures.length > 0) console.error(line);
  else console.log(line);
  await flushMetricsNow(env.DB, config.backgroundTimeoutMs);
}
