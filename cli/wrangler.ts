import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CliInputError, type CommandContext, booleanOption, stringOption } from "./command";

export interface KvTarget {
  remote: boolean;
  env?: string;
  /** Local only: the state directory of `wrangler dev --persist-to` (default .wrangler/state). */
  persistTo?: string;
}

export const KV_TARGET_OPTIONS = {
  local: { type: "boolean", description: "use the local miniflare KV of wrangler dev (default)" },
  remote: { type: "boolean", description: "use the deployed Worker's KV namespace" },
  env: { type: "string", valueName: "name", description: "wrangler environment" },
  "persist-to": { type: "string", valueName: "dir", description: "local state directory (as wrangler dev --persist-to)" },
} as const;

export function kvTarget(context: CommandContext): KvTarget {
  if (booleanOption(context, "local") && booleanOption(context, "remote")) throw new CliInputError("--local and --remote exclude each other");
  const persistTo = stringOption(context, "persist-to");
  if (persistTo !== undefined && booleanOption(context, "remote")) throw new CliInputError("--persist-to is for local state; it does not go with --remote");
  return { remote: booleanOption(context, "remote"), env: stringOption(context, "env"), persistTo };
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
