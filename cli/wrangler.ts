import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CliInputError, type CommandContext, booleanOption, stringOption } from "./command";

export interface KvTarget {
  remote: boolean;
  env?: string;
}

export const KV_TARGET_OPTIONS = {
  local: { type: "boolean", description: "write to the local miniflare KV used by wrangler dev (default)" },
  remote: { type: "boolean", description: "write to the deployed Worker's KV namespace" },
  env: { type: "string", valueName: "name", description: "wrangler environment" },
} as const;

export function kvTarget(context: CommandContext): KvTarget {
  if (booleanOption(context, "local") && booleanOption(context, "remote")) throw new CliInputError("--local and --remote exclude each other");
  return { remote: booleanOption(context, "remote"), env: stringOption(context, "env") };
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
    return `npx ${args.join(" ").replace(path, `<${key}.json>`)}`;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
