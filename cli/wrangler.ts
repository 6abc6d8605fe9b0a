import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CliInputError, type CommandContext, booleanOption, stringOption } from "./command";
import { callAdminApi } from "./commands/rules";

export interface KvTarget {
  remote: boolean;
  env?: string;
  /** Local only: the state directory of `wrangler dev --persist-to` (default .wrangler/state). */
  persistTo?: string;
  /** Records the push in the deployment's audit log (`POST /v1/admin/trust/audit`), when `--url` names it. */
  recordPush: (() => Promise<unknown>) | null;
}

export const KV_TARGET_OPTIONS = {
  local: { type: "boolean", description: "use the local miniflare KV of wrangler dev (default)" },
  remote: { type: "boolean", description: "use the deployed Worker's KV namespace" },
  env: { type: "string", valueName: "name", description: "wrangler environment" },
  "persist-to": { type: "string", valueName: "dir", description: "local state directory (as wrangler dev --persist-to)" },
  url: { type: "string", valueName: "url", description: "the deployment's base URL: record the push in its audit log (an admin's token: --token or $SHAKEN_EDGE_ADMIN_TOKEN)" },
  token: { type: "string", valueName: "token", description: "admin token for --url (default: $SHAKEN_EDGE_ADMIN_TOKEN)" },
} as const;

/**
 * Where a trust document goes. The Worker cannot see who writes its KV (wrangler uses Cloudflare
 * credentials), so a push to a deployment is recorded through its admin API, which audits what KV
 * then holds under the operator's name (src/admin/trust-audit.ts).
 */
export function kvTarget(context: CommandContext, use: "read" | "write" = "write"): KvTarget {
  if (booleanOption(context, "local") && booleanOption(context, "remote")) throw new CliInputError("--local and --remote exclude each other");
  const remote = booleanOption(context, "remote");
  const persistTo = stringOption(context, "persist-to");
  if (persistTo !== undefined && remote) throw new CliInputError("--persist-to is for local state; it does not go with --remote");
  const recorded = stringOption(context, "url") !== undefined;
  if (use === "write" && remote && !recorded) context.warn("the push is not in the deployment's audit log: give --url (and an admin token) to record it");
  return {
    remote,
    env: stringOption(context, "env"),
    persistTo,
    recordPush: recorded ? () => callAdminApi(context, "POST", "/v1/admin/trust/audit", {}) : null,
  };
}

const targetArgs = (target: KvTarget): string[] => [
  target.remote ? "--remote" : "--local",
  ...(target.env ? ["--env", target.env] : []),
  ...(target.persistTo ? ["--persist-to", target.persistTo] : []),
];

/** Runs `npx wrangler <args>`, quietly; its stdout, or a one-line CliInputError naming what failed. */
async function runWrangler(args: string[], what: string): Promise<string> {
  const { code, stdout, output } = await new Promise<{ code: number | null; stdout: string; output: string }>((resolve, reject) => {
    const child = spawn("npx", ["wrangler", ...args], { env: { ...process.env, WRANGLER_SEND_METRICS: "false" }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let collected = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      collected += chunk;
    });
    child.stderr.on("data", (chunk) => (collected += chunk));
    child.on("error", reject);
    child.on("close", (exitCode) => resolve({ code: exitCode, stdout, output: collected }));
  });
  if (code !== 0) throw new CliInputError(`${what} failed: ${output.trim().split("\n").slice(-1)[0] ?? `exit ${code}`}`);
  return stdout;
}

/** `wrangler kv key put --binding TRUST <key> --path <file>`: the Worker reads the document on its next refresh. */
export async function putTrustDocument(key: string, document: unknown, target: KvTarget): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "shaken-edge-"));
  const path = join(dir, `${key}.json`);
  try {
    await writeFile(path, JSON.stringify(document));
    const args = ["kv", "key", "put", "--binding", "TRUST", key, "--path", path, ...targetArgs(target)];
    await runWrangler(args, `wrangler kv key put ${key}`);
    await recordPush(target, key);
    return `npx wrangler ${args.join(" ").replace(path, `<${key}.json>`)}`;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `wrangler kv key get --binding TRUST <key>`: the document as the Worker reads it, or null when none was ever written. */
export async function getTrustDocument(key: string, target: KvTarget): Promise<string | null> {
  const value = (await runWrangler(["kv", "key", "get", "--binding", "TRUST", key, "--text", ...targetArgs(target)], `wrangler kv key get ${key}`)).trim();
  // Wrangler answers a missing key with this text on stdout and exit 0; every document is a JSON object.
  return value === "Value not found" ? null : value;
}

/** Tells the deployment a trust document was written, so its audit log names who wrote it. */
async function recordPush(target: KvTarget, key: string): Promise<void> {
  if (!target.recordPush) return;
  await target.recordPush().catch((error: unknown) => {
    throw new CliInputError(`${key} was written, but the push is not recorded in the audit log: ${error instanceof Error ? error.message : String(error)}`);
  });
}
