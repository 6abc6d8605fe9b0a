import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { experimental_readRawConfig } from "wrangler";
import { unwantedInputs, type Metafile } from "./bundle-inputs";

/**
 * `npm run build:check [-- --env staging]`: builds the bundle `npm run deploy` would upload
 * (`wrangler deploy --dry-run`, offline, no credentials) and checks it against the Workers size limit:
 * 3 MiB gzip on the Free plan, 10 MiB on Paid. Fails above the Paid limit, warns above the Free one.
 * The size is measured as wrangler measures it: one gzip over every module uploaded (no source maps).
 * First it checks that the environment repeats every binding and variable of the top level; then that
 * the bundle carries none of the modules scripts/bundle-inputs.ts names (esbuild's metafile).
 */
const KIB = 1024;
const FREE_LIMIT_BYTES = 3 * 1024 * KIB;
const PAID_LIMIT_BYTES = 10 * 1024 * KIB;

// Wrangler environments do not inherit these keys: each [env.*] must repeat them, and a binding added
// at the top level only would be missing in production.
const NOT_INHERITED = ["vars", "kv_namespaces", "d1_databases", "durable_objects", "r2_buckets", "services", "queues", "workflows", "analytics_engine_datasets", "hyperdrive", "vectorize", "ai", "browser", "send_email", "secrets_store_secrets", "dispatch_namespaces"] as const;

type RawSection = Partial<Record<(typeof NOT_INHERITED)[number], unknown>>;

/** Binding names per non-inherited key, e.g. `kv_namespaces: TRUST`, `vars: HOME_COUNTRY`. */
function bindingNames(section: RawSection): Set<string> {
  const names = new Set<string>();
  for (const key of NOT_INHERITED) {
    const value = section[key];
    if (value === undefined) continue;
    const entries = key === "vars" ? Object.keys(value as object) : key === "durable_objects" ? ((value as { bindings?: { name: string }[] }).bindings ?? []).map((entry) => entry.name) : Array.isArray(value) ? value.map((entry: { binding?: string; name?: string }) => entry.binding ?? entry.name ?? "?") : [String((value as { binding?: string }).binding)];
    for (const entry of entries) names.add(`${key}: ${entry}`);
  }
  return names;
}

const { values } = parseArgs({ options: { env: { type: "string", default: "production" } } });
const env = values.env!;
const { rawConfig } = experimental_readRawConfig({ config: "wrangler.toml" });
const envSection = (rawConfig.env as Record<string, RawSection> | undefined)?.[env];
if (!envSection) {
  console.error(`build:check: wrangler.toml has no [env.${env}] section (README "Going to production")`);
  process.exit(1);
}
const missing = [...bindingNames(rawConfig as RawSection)].filter((name) => !bindingNames(envSection).has(name));
if (missing.length > 0) {
  console.error(`build:check: [env.${env}] in wrangler.toml lacks what the top level declares (environments do not inherit it):\n  ${missing.join("\n  ")}`);
  process.exit(1);
}

/** Builds the bundle into `outdir` and checks it; prints what it found, and whether every check passed. */
function checkBundle(outdir: string, metafile: string): boolean {
  const build = spawnSync("npx", ["wrangler", "deploy", "--dry-run", "--env", env, "--outdir", outdir, "--metafile", metafile], {
    encoding: "utf8",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  if (build.status !== 0) {
    process.stderr.write(`${build.stdout}${build.stderr}`);
    console.error(`build:check: wrangler deploy --dry-run --env ${env} failed (exit ${build.status})`);
    return false;
  }
  const modules = readdirSync(outdir).filter((name) => !name.endsWith(".map") && name !== "README.md");
  const contents = modules.map((name) => readFileSync(join(outdir, name)));
  const rawBytes = contents.reduce((sum, content) => sum + content.length, 0);
  const gzipBytes = gzipSync(Buffer.concat(contents)).length;
  const kib = (bytes: number) => `${(bytes / KIB).toFixed(1)} KiB`;
  console.log(
    `build:check: ${env} bundle, ${modules.length} module(s): ${kib(rawBytes)} raw, ${kib(gzipBytes)} gzip ` +
      `(${((gzipBytes / PAID_LIMIT_BYTES) * 100).toFixed(1)}% of the ${kib(PAID_LIMIT_BYTES)} Paid limit, ${((gzipBytes / FREE_LIMIT_BYTES) * 100).toFixed(1)}% of the ${kib(FREE_LIMIT_BYTES)} Free limit)`,
  );
  let passed = true;
  if (gzipBytes > PAID_LIMIT_BYTES) {
    console.error("build:check: the bundle exceeds the Workers Paid size limit; wrangler deploy would be refused");
    passed = false;
  } else if (gzipBytes > FREE_LIMIT_BYTES) {
    console.warn("build:check: warning: above the Free plan limit; deploying needs Workers Paid");
  }
  const unwanted = unwantedInputs(JSON.parse(readFileSync(metafile, "utf8")) as Metafile);
  if (unwanted.length > 0) {
    console.error(`build:check: the bundle carries what it should not:\n  ${unwanted.join("\n  ")}`);
    passed = false;
  }
  return passed;
}

const outdir = mkdtempSync(join(tmpdir(), "shaken-edge-bundle-"));
const metafile = `${outdir}.meta.json`;
try {
  if (!checkBundle(outdir, metafile)) process.exitCode = 1;
} finally {
  rmSync(outdir, { recursive: true, force: true });
  rmSync(metafile, { force: true });
}
