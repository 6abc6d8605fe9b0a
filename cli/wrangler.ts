import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CliInputError, type CommandContext, booleanOption, stringOption } from "./command";
import { callAdminApi } from "./commands/rules";

export interface KvTarget {
  remote: boolean;
  env?: string;
  /** Records the push in the deployment's audit log (`POST /v1/admin/trust/audit`), when `--url` names it. */
  recordPush: (() => Promise<unknown>) | null;
}

export const KV_TARGET_OPTIONS = {
  local: { type: "boolean", description: "write to the local miniflare KV used by wrangler dev (default)" },
  remote: { type: "boolean", description: "write to the deployed Worker's KV namespace" },
  env: { type: "string", valueName: "name", description: "wrangler environment" },
  url: { type: "string", valueName: "url", description: "the deployment's base URL: record the push in its audit log (an admin's token: --token or $SHAKEN_EDGE_ADMIN_TOKEN)" },
  token: { type: "string", valueName: "token", description: "admin token for --url (default: $SHAKEN_EDGE_ADMIN_TOKEN)" },
} as const;

/**
 * Where a trust document goes. The Worker cannot see who writes its KV (wrangler uses Cloudflare
 * credentials), so a push to a deployment is recorded through its admin API, which audits what KV
 * then holds under the operator's name (src/admin/trust-audit.ts).
 */
export function kvTarget(context: CommandContext): KvTarget {
  if (booleanOption(context, "local") && booleanOption(context, "remote")) throw new CliInputError("--local and --remote exclude each other");
  const remote = booleanOption(context, "remote");
  const recorded = stringOption(context, "url") !== undefined;
  if (remote && !recorded) context.warn("the push is not in the deployment's audit log: give --url (and an admin token) to record it");
  return { remote, env: stringOption(context, "env"), recordPush: recorded ? () => callAdminApi(context, "POST", "/v1/admin/trust/audit", {}) : null };
}

/** `wrangler kv key put --binding TRUST <key> --path <file>`: the Worker reads the document on its next refresh. */
export async function putTrustDocument(key: string, document: unknown, target: KvTarget): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "shaken-edge-"));
  const path = join(dir, `${key}.json`);
  try {
    await writeFile(path, JSON.stringify(document));
    const args = ["wrangler", "kv", "key", "put", "--binding", "TRUST", key, "--path", path, target.remote ? "--remote" : "--local", ...(target.env ? ["--env", target.env] : [])];
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const child = spawn("npx", args, { env: { ...process.env, WRANGLER_SEND_METRICS: "false" }, stdio: ["ignore", "pipe", "pipe"] });
      let collected = "";
      child.stdout.on("data", (chunk) => (collected += chunk));
      child.stderr.on("data", (chunk) => (collected += chunk));
      child.on("error", reject);
      child.on("close", (exitCode) => resolve({ code: exitCode, output: collected }));
    });
    if (code !== 0) throw new CliInputError(`wrangler kv key put ${key} failed: ${output.trim().split("\n").slice(-1)[0] ?? `exit ${code}`}`);
    if (target.recordPush) {
      await target.recordPush().catch((error: unknown) => {
        throw new CliInputError(`${key} was written, but the push is not recorded in the audit log: ${error instanceof Error ? error.message : String(error)}`);
      });
    }
    return `npx ${args.join(" ").replace(path, `<${key}.json>`)}`;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
