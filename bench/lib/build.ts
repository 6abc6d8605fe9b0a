import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { unstable_readConfig } from "wrangler";

const ROOT = join(import.meta.dirname, "..", "..");
export const BUILD_DIR = join(ROOT, "bench", ".build");

/** A bundled Worker: its entry module and the modules it imports (text assets, wasm). */
export interface BuiltWorker {
  modules: { type: "ESModule" | "Text" | "Data" | "CompiledWasm"; path: string }[];
}

function wranglerDryRun(args: string[]): void {
  const result = spawnSync("npx", ["wrangler", "deploy", "--dry-run", ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" },
  });
  if (result.status !== 0) throw new Error(`wrangler deploy --dry-run ${args.join(" ")} failed (exit ${result.status})`);
}

/**
 * The modules of a wrangler output directory: the entry, then every module it imports by relative
 * path. Those are what wrangler.toml's [[rules]] matched (the dashboard's `?raw` text assets): text,
 * except binary data and wasm, which wrangler's default rules name by extension.
 */
function modulesOf(dir: string, entry: string): BuiltWorker {
  const source = readFileSync(join(dir, entry), "utf8");
  const imported = new Set([...source.matchAll(/\bfrom\s*"\.\/([^"]+)"/g)].map((match) => match[1]!));
  const typeOf = (file: string) => (file.endsWith(".wasm") ? "CompiledWasm" : file.endsWith(".bin") ? "Data" : "Text");
  return {
    modules: [{ type: "ESModule", path: join(dir, entry) }, ...[...imported].map((file) => ({ type: typeOf(file), path: join(dir, file) }) as const)],
  };
}

/**
 * Bundles the product (wrangler.toml, top-level environment) and the bench-only baseline Worker with
 * wrangler's own bundler (`wrangler deploy --dry-run --outdir`), so both are exactly what would be
 * uploaded. The baseline gets a generated config with the product's compatibility date, flags and
 * bundler naming setting (`keep_names`) only.
 */
export function buildWorkers(): { product: BuiltWorker; baseline: BuiltWorker } {
  const productDir = join(BUILD_DIR, "product");
  const baselineDir = join(BUILD_DIR, "baseline");
  rmSync(BUILD_DIR, { recursive: true, force: true });
  mkdirSync(BUILD_DIR, { recursive: true });
  wranglerDryRun(["--env=", "--outdir", productDir]);

  const product = unstable_readConfig({ config: join(ROOT, "wrangler.toml") });
  const baselineConfig = join(BUILD_DIR, "baseline.wrangler.json");
  writeFileSync(
    baselineConfig,
    JSON.stringify({
      name: "shaken-edge-bench-baseline",
      main: "../baseline-worker.ts",
      compatibility_date: product.compatibility_date,
      compatibility_flags: product.compatibility_flags,
      keep_names: product.keep_names,
    }),
  );
  wranglerDryRun(["--config", baselineConfig, "--outdir", baselineDir]);
  return { product: modulesOf(productDir, "index.js"), baseline: modulesOf(baselineDir, "baseline-worker.js") };
}
