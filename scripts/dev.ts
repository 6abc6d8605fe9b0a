import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { createServer } from "node:net";
import { parseArgs } from "node:util";
import { runCli } from "../cli/main";
import { DEFAULT_PATHS } from "../cli/inputs";
import { startCertificateRepository } from "../cli/repository";
import { getTrustDocument, putTrustDocument, type KvTarget } from "../cli/wrangler";
import { CRLS_KEY, TRUST_ANCHORS_KEY } from "../src/certificate/trust-format";

/**
 * `npm run dev [-- --reset] [-- --port N --repository-port N --persist-to DIR]`: the verifier with the
 * development PKI (certs/README.md). Serves certs/repo as the x5u repository and runs wrangler dev;
 * Ctrl-C stops both. Local state (.wrangler/state, or --persist-to) is kept across starts: the trust
 * anchors are pushed only when none are held, and the development CRL joins the CRL set without
 * replacing a newer one; `--reset` pushes the development anchors and CRL set afresh. The ports are
 * checked before anything else, so a second start changes nothing and says what holds the port.
 */
const USAGE = "usage: npm run dev [-- --reset] [-- --port 8787] [-- --repository-port 8788] [-- --persist-to <dir>]";

function readOptions() {
  try {
    const { values } = parseArgs({
      options: {
        reset: { type: "boolean", default: false },
        port: { type: "string", default: "8787" },
        "repository-port": { type: "string", default: "8788" },
        "persist-to": { type: "string" },
      },
    });
    const port = (name: "port" | "repository-port") => {
      const value = Number(values[name]);
      if (!Number.isInteger(value) || value < 1 || value > 65_535) throw new Error(`--${name} must be a TCP port, got '${values[name]}'`);
      return value;
    };
    return { reset: values.reset === true, workerPort: port("port"), repositoryPort: port("repository-port"), persistTo: values["persist-to"] };
  } catch (error) {
    console.error(`npm run dev: ${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    process.exit(2);
  }
}

/** Whether something already listens on 127.0.0.1:port (binding it is the one portable test). */
function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(true));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(false)));
  });
}

/** `pid 1234 (node …/wrangler dev)`: who listens on the port, from /proc on Linux or lsof elsewhere. */
function portOwner(port: number): string {
  const described = (pid: string, command: string) => `pid ${pid} (${command.replace(/\0/g, " ").trim().slice(0, 160)})`;
  try {
    const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
    const inodes = new Set(
      ["/proc/net/tcp", "/proc/net/tcp6"]
        .flatMap((table) => readFileSync(table, "utf8").split("\n").slice(1))
        .map((line) => line.trim().split(/\s+/))
        .filter((fields) => fields[1]?.endsWith(`:${hexPort}`) && fields[3] === "0A") // 0A: LISTEN
        .map((fields) => `socket:[${fields[9]}]`),
    );
    for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
      let descriptors: string[];
      try {
        descriptors = readdirSync(`/proc/${pid}/fd`);
      } catch {
        continue; // another user's process
      }
      for (const descriptor of descriptors) {
        let target = "";
        try {
          target = readlinkSync(`/proc/${pid}/fd/${descriptor}`);
        } catch {
          continue;
        }
        if (inodes.has(target)) return described(pid, readFileSync(`/proc/${pid}/cmdline`, "utf8"));
      }
    }
  } catch {
    // no /proc: ask lsof
  }
  try {
    const fields = execFileSync("lsof", ["-nP", `-iTCP:${port}`, "-sTCP:LISTEN", "-Fpc"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).split("\n");
    const pid = fields.find((field) => field.startsWith("p"))?.slice(1);
    if (pid) return described(pid, fields.find((field) => field.startsWith("c"))?.slice(1) ?? "?");
  } catch {
    // no lsof either
  }
  return "another process (which one could not be read)";
}

const options = readOptions();
for (const [port, role, flag] of [
  [options.workerPort, "the Worker", "--port"],
  [options.repositoryPort, "the certificate repository", "--repository-port"],
] as const) {
  if (await portInUse(port)) {
    console.error(`npm run dev: port ${port} (${role}) is in use by ${portOwner(port)}; stop it or start with ${flag} <another port>. Nothing was changed.`);
    process.exit(1);
  }
}

const sha256Hex = (text: string) => createHash("sha256").update(text).digest("hex");
const persistArgs = options.persistTo ? ["--persist-to", options.persistTo] : [];
const kv: KvTarget = { remote: false, persistTo: options.persistTo, recordPush: null };
const cli = async (...argv: string[]) => {
  if ((await runCli([...argv, "--local", ...persistArgs])) !== 0) process.exit(1);
};

// Rules, reports and operator configuration live in D1: bring the local database to the latest schema.
const migrations = spawnSync("npx", ["wrangler", "d1", "migrations", "apply", "DB", "--local", ...persistArgs], {
  stdio: "inherit",
  env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" },
});
if (migrations.status !== 0) process.exit(1);
if (options.reset || (await getTrustDocument(TRUST_ANCHORS_KEY, kv)) === null) await cli("trust", "push");
else console.log("trust anchors: keeping those local state holds (npm run dev -- --reset pushes the development ones)");
if (options.reset) await putTrustDocument(CRLS_KEY, { version: 1, updated: new Date().toISOString(), crls: [] }, kv);
await cli("crl", "push");

const repository = await startCertificateRepository({ dir: DEFAULT_PATHS.repoDir, port: options.repositoryPort, host: "127.0.0.1" }).catch((error: unknown) => {
  console.error(`npm run dev: the certificate repository cannot listen on port ${options.repositoryPort}: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
console.log(`certificate repository: ${repository.url}/sp.pem`);

const worker: ChildProcess = spawn(
  "npx",
  [
    "wrangler", "dev", "--ip", "127.0.0.1", "--port", String(options.workerPort), ...persistArgs,
    // Development only: the repository above is plain http on loopback (spec §5).
    "--var", "X5U_ALLOW_INSECURE_LOOPBACK:true",
    "--var", `SBC_API_KEYS_SHA256:${sha256Hex("dev-sbc-key")}`,
    // Named development tokens, one per role (README "Quick start"); the audit log shows the name.
    "--var", `ADMIN_TOKENS:${[["dev-admin", "admin"], ["dev-analyst", "analyst"], ["dev-viewer", "viewer"]].map(([name, role]) => `${name}:${role}:${sha256Hex(`${name}-token`)}`).join(",")}`,
  ],
  // Its own process group: npx, the shell and wrangler under it are stopped together (killing npx alone left wrangler serving).
  { stdio: "inherit", env: { ...process.env, WRANGLER_SEND_METRICS: "false" }, detached: true },
);

let stopping = false;
async function stop(exitCode: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  if (worker.exitCode === null && worker.pid !== undefined) process.kill(-worker.pid, "SIGTERM");
  await repository.close();
  process.exit(exitCode);
}
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void stop(0));
worker.once("exit", (code) => void stop(code ?? 0));
