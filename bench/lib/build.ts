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

function wranglerDryRun(args: string[], cwd = ROOT): void {
  const result = spawnSync("npx", ["wrangler", "deploy", "--dry-run", ...args], {
    cwd,
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
 * A bench-only Worker (never deployed) bundled by wrangler's own bundler with a generated config that
 * carries the product's compatibility date, flags and bundler naming setting (`keep_names`) only.
 */
function buildBenchOnlyWorker(name: string, entry: string): BuiltWorker {
  const outdir = join(BUILD_DIR, name);
  const product = unstable_readConfig({ config: join(ROOT, "wrangler.toml") });
  const config = join(BUILD_DIR, `${name}.wrangler.json`);
  mkdirSync(BUILD_DIR, { recursive: true });
  writeFileSync(
    config,
    JSON.stringify({
      name: `shaken-edge-bench-${name}`,
      main: `../${entry}.ts`,
      compatibility_date: product.compatibility_date,
      compatibility_flags: product.compatibility_flags,
      keep_names: product.keep_names,
    }),
  );
  wranglerDryRun(["--config", config, "--outdir", outdir]);
  return modulesOf(outdir, `${entry}.js`);
}

/**
 * Bundles the product (wrangler.toml, top-level environment) and the bench-only baseline Worker with
 * wrangler's own bundler (`wrangler deploy --dry-run --outdir`), so both are exactly what would be
 * uploaded.
 */
export function buildWorkers(): { product: BuiltWorker; baseline: BuiltWorker } {
  const productDir = join(BUILD_DIR, "product");
  rmSync(BUILD_DIR, { recursive: true, force: true });
  mkdirSync(BUILD_DIR, { recursive: true });
  wranglerDryRun(["--env=", "--outdir", productDir]);
  return { product: modulesOf(productDir, "index.js"), baseline: buildBenchOnlyWorker("baseline", "baseline-worker") };
}

/** The product as the checkout at `root` bundles it (`npm run bench:compare` builds an earlier commit this way), into `outdir`. */
export function buildProductAt(root: string, outdir: string): BuiltWorker {
  rmSync(outdir, { recursive: true, force: true });
  wranglerDryRun(["--env=", "--outdir", outdir], root);
  return modulesOf(outdir, "index.js");
}

/** The bench-only Worker of `npm run bench:micro:workerd` (bench/micro-worker.ts), bundled like the baseline. */
export const buildMicroWorker = (): BuiltWorker => buildBenchOnlyWorker("micro", "micro-worker");
