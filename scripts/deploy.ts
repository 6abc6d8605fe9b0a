import { spawnSync } from "node:child_process";
import { parseArgs } from "node:util";
import { unstable_readConfig } from "wrangler";

/**
 * `npm run deploy [-- --env staging]`: runs build:check, applies the D1 migrations to the
 * environment's remote database, then deploys the Worker (README "Going to production"). Refuses an environment whose
 * wrangler.toml section still has the placeholder ids, and says which secrets are still unset.
 */
/** Each entry is satisfied by any one of its names: operators have named tokens, or the older digest-only ones. */
const REQUIRED_SECRETS = [["SBC_API_KEYS_SHA256"], ["ADMIN_TOKENS", "ADMIN_TOKENS_SHA256"]];
// What `wrangler kv namespace create` and `wrangler d1 create` print; wrangler.toml ships zeros.
const KV_ID = /^(?!0+$)[0-9a-f]{32}$/;
const D1_ID = /^(?![0-]+$)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const { values } = parseArgs({ options: { env: { type: "string", default: "production" } } });
const env = values.env!;

function wrangler(args: string[], capture = false): { status: number | null; stdout: string } {
  const result = spawnSync("npx", ["wrangler", ...args, "--env", env], {
    stdio: capture ? ["inherit", "pipe", "inherit"] : "inherit",
    encoding: "utf8",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  return { status: result.status, stdout: result.stdout ?? "" };
}

function fail(message: string): never {
  console.error(`deploy: ${message}`);
  process.exit(1);
}

// The environment exists, repeats every binding, and its bundle builds within the size limit.
const check = spawnSync("npx", ["tsx", "scripts/build-check.ts", "--env", env], { stdio: "inherit" });
if (check.status !== 0) fail("build:check failed; nothing deployed");

const config = unstable_readConfig({ config: "wrangler.toml", env }) as {
  kv_namespaces: { binding: string; id?: string }[];
  d1_databases: { binding: string; database_name?: string; database_id?: string }[];
};
const placeholders = [
  ...config.kv_namespaces.filter((namespace) => !KV_ID.test(namespace.id ?? "")).map((namespace) => `KV namespace ${namespace.binding}: run \`npx wrangler kv namespace create ${namespace.binding} --env ${env}\``),
  ...config.d1_databases.filter((database) => !D1_ID.test(database.database_id ?? "")).map((database) => `D1 database ${database.binding}: run \`npx wrangler d1 create ${database.database_name}\``),
];
if (placeholders.length > 0) fail(`[env.${env}] in wrangler.toml still has placeholder ids; paste the real ones:\n  ${placeholders.join("\n  ")}`);

if (wrangler(["d1", "migrations", "apply", "DB", "--remote"]).status !== 0) fail("D1 migrations failed; nothing deployed");
if (wrangler(["deploy"]).status !== 0) fail("wrangler deploy failed");

// Secrets take effect without a redeploy; until they are set the Worker refuses every call (fail closed).
const secrets = wrangler(["secret", "list", "--format", "json"], true);
try {
  const names = new Set((JSON.parse(secrets.stdout) as { name: string }[]).map((secret) => secret.name));
  const unset = REQUIRED_SECRETS.filter((any) => !any.some((name) => names.has(name))).map((any) => any.join(" or "));
  if (unset.length > 0) console.warn(`deploy: secrets not set yet: ${unset.join(", ")} — set them with \`npx wrangler secret put <NAME> --env ${env}\` (README "Going to production")`);
} catch {
  console.warn(`deploy: could not list secrets; check ${REQUIRED_SECRETS.map((any) => any.join(" or ")).join(", ")} with \`npx wrangler secret list --env ${env}\``);
}
