import type { ChildProcess } from "node:child_process";
import { createServer } from "node:net";

/**
 * What the end-to-end scripts share: a free loopback port for the Worker (and the repository), and
 * waiting until the Worker answers.
 */
export const wranglerEnv = { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" };

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once `${baseUrl}/healthz` answers 200; rejects when `server` exits first or after `timeoutMs`. */
export async function waitForHealth(baseUrl: string, server: ChildProcess, what: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`${what} exited with ${server.exitCode}`);
    try {
      if ((await fetch(`${baseUrl}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${what} did not become healthy within ${timeoutMs / 1000} s`);
}
