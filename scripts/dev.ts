import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { runCli } from "../cli/main";
import { DEFAULT_PATHS } from "../cli/inputs";
import { startCertificateRepository } from "../cli/repository";

/**
 * `npm run dev`: the verifier with the development PKI (certs/README.md). Pushes the dev trust anchors
 * into miniflare's KV, serves certs/repo as the x5u repository and runs wrangler dev; Ctrl-C stops all.
 */
const REPOSITORY_PORT = 8788;
const WORKER_PORT = 8787;
const sha256Hex = (text: string) => createHash("sha256").update(text).digest("hex");

// Rules, reports and operator configuration live in D1: bring the local database to the latest schema.
const migrations = spawnSync("npx", ["wrangler", "d1", "migrations", "apply", "DB", "--local"], {
  stdio: "inherit",
  env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" },
});
if (migrations.status !== 0) process.exit(1);
if ((await runCli(["trust", "push", "--local"])) !== 0) process.exit(1);
if ((await runCli(["crl", "push", "--local"])) !== 0) process.exit(1);
const repository = await startCertificateRepository({ dir: DEFAULT_PATHS.repoDir, port: REPOSITORY_PORT, host: "127.0.0.1" });
console.log(`certificate repository: ${repository.url}/sp.pem`);

const worker: ChildProcess = spawn(
  "npx",
  [
    "wrangler", "dev", "--ip", "127.0.0.1", "--port", String(WORKER_PORT),
    // Development only: the repository above is plain http on loopback (spec §5).
    "--var", "X5U_ALLOW_INSECURE_LOOPBACK:true",
    "--var", `SBC_API_KEYS_SHA256:${sha256Hex("dev-sbc-key")}`,
    // Named development tokens, one per role (README "Quick start"); the audit log shows the name.
    "--var", `ADMIN_TOKENS:${[["dev-admin", "admin"], ["dev-analyst", "analyst"], ["dev-viewer", "viewer"]].map(([name, role]) => `${name}:${role}:${sha256Hex(`${name}-token`)}`).join(",")}`,
  ],
  { stdio: "inherit", env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
);

let stopping = false;
async function stop(exitCode: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  if (worker.exitCode === null) worker.kill("SIGTERM");
  await repository.close();
  process.exit(exitCode);
}
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void stop(0));
worker.once("exit", (code) => void stop(code ?? 0));
