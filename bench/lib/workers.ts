import { join } from "node:path";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import type { BuiltWorker } from "./build";
import { BENCH_ADMIN_TOKEN, BENCH_SBC_KEY, sha256Hex, type BenchPki } from "./fixtures";
import { applyMigrations, installTrust } from "./seed";
import { startWorker, type RunningWorker } from "./workerd";

const WRANGLER_TOML = join(import.meta.dirname, "..", "..", "wrangler.toml");

/**
 * The bindings the bench changes from wrangler.toml's: the bench's credentials (as SHA-256 digests),
 * and plain-http loopback x5u URLs allowed, because the bench repository is http://127.0.0.1.
 * FRESHNESS_SECONDS keeps its deployed value: PASSporTs are signed during the run.
 */
export const BENCH_BINDINGS = {
  SBC_API_KEYS_SHA256: sha256Hex(BENCH_SBC_KEY),
  ADMIN_TOKENS_SHA256: sha256Hex(BENCH_ADMIN_TOKEN),
  X5U_ALLOW_INSECURE_LOOPBACK: "true",
  // The bench repository is one host serving every x5u (S3 names a new one every 10 calls, the soak 3 000):
  // deployed, certificates come from many repositories, and the per-host budget would turn S3 into refusals.
  X5U_HOST_FETCHES_PER_SECOND: "0",
  // BENCH_PRODUCT_VARS: a JSON object of vars laid over these, for experiments (LOG_VERDICTS=false, …).
  ...(JSON.parse(process.env.BENCH_PRODUCT_VARS ?? "{}") as Record<string, string>),
};

/**
 * The bench-only baseline Worker (B0, B1, M1, M2, M4), on the same compatibility date and flags as the
 * product, with M2's replay guard a SQLite-backed Durable Object of its own, as the product's is.
 */
export async function startBaseline(worker: BuiltWorker, bindings: { BENCH_JWS: string; BENCH_JWK: string }): Promise<RunningWorker> {
  const { compatibilityDate, compatibilityFlags } = unstable_getMiniflareWorkerOptions(WRANGLER_TOML).workerOptions;
  return startWorker(worker, { compatibilityDate, compatibilityFlags, bindings, durableObjects: { LEAST_REPLAY: { className: "LeastReplayGuard", useSQLite: true } } }, 0);
}

/**
 * Starts the product bundle on workerd with every binding wrangler.toml declares (KV, D1, Durable
 * Objects, vars: read through wrangler's own config reader), applies the D1 migrations and pushes
 * the bench trust anchors into KV. With `persistTo`, D1 and KV live in that directory, so a worker
 * started again on it is a fresh isolate over the same stores (migrated already when `migrated`).
 */
export async function startProduct(built: BuiltWorker, pki: BenchPki, inspectorPort?: number, stores: { persistTo?: string; migrated?: boolean; migrations?: string } = {}): Promise<RunningWorker> {
  // The bundle's modules are listed explicitly (bench/lib/build.ts): wrangler's module rules do not apply.
  const { modulesRules: _rules, rootPath: _root, ...workerOptions } = unstable_getMiniflareWorkerOptions(WRANGLER_TOML).workerOptions;
  const settings = {
    ...workerOptions,
    bindings: { ...(workerOptions.bindings as Record<string, unknown>), ...BENCH_BINDINGS },
    // The location's x5u limiter as unbounded as the isolate's budget above, for the same reason.
    ratelimits: { ...(workerOptions.ratelimits as Record<string, unknown> | undefined), X5U_FETCH_LIMITER: { namespace_id: "5001", simple: { limit: 1_000_000_000, period: 10 } } },
    ...(stores.persistTo ? { resourcePersistencePath: stores.persistTo } : {}),
  };
  const worker = await startWorker(built, settings, 0, inspectorPort);
  if (!stores.migrated) await applyMigrations(worker.miniflare, stores.migrations);
  await installTrust(worker.miniflare, pki);
  return worker;
}
