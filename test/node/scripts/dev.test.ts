import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { createServer, type AddressInfo, type Server } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { temporaryDirectory } from "../cli/support";

const ROOT = join(import.meta.dirname, "../../..");

function listen(port = 0): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}
const portOf = (server: Server) => (server.address() as AddressInfo).port;

/** A port nobody listens on (bound, then released). */
async function freePort(): Promise<number> {
  const server = await listen();
  const port = portOf(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function runDev(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("npx", ["tsx", "scripts/dev.ts", ...args], { cwd: ROOT, env: { ...process.env, WRANGLER_SEND_METRICS: "false" }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const held: Server[] = [];
afterEach(async () => {
  await Promise.all(held.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

describe("npm run dev checks its ports before it touches any state", () => {
  it.each(["--port", "--repository-port"])("a busy %s: one line naming the process in the way, exit 1, local state untouched", { timeout: 120_000 }, async (busyFlag) => {
    const busy = await listen();
    held.push(busy);
    const other = await freePort();
    const ports = busyFlag === "--port" ? ["--port", String(portOf(busy)), "--repository-port", String(other)] : ["--port", String(other), "--repository-port", String(portOf(busy))];
    const state = temporaryDirectory();

    const run = await runDev([...ports, "--persist-to", state]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^npm run dev: port ${portOf(busy)} \\(the (Worker|certificate repository)\\) is in use by pid ${process.pid} \\([^)]*\\); stop it or start with ${busyFlag} <another port>\\. Nothing was changed\\.\\n$`));
    expect(run.stdout).toBe("");
    expect(readdirSync(state)).toEqual([]);
  });
});
