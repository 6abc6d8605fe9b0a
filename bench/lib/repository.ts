import { spawn } from "node:child_process";
import { join } from "node:path";

export interface RepositoryStats {
  /** Distinct x5u paths fetched. */
  paths: number;
  hits: number;
  maxHitsPerPath: number;
}

export interface BenchRepository {
  url: string;
  pid: number;
  /** Fetches counted since the last reset, of the paths starting with `prefix` (all by default). */
  stats(prefix?: string): Promise<RepositoryStats>;
  reset(): Promise<void>;
  close(): void;
}

/** Starts bench/lib/repository-server.ts in its own Node process, serving `chainPem` on 127.0.0.1. */
export async function startBenchRepository(chainPem: string): Promise<BenchRepository> {
  const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "repository-server.ts")], {
    env: { ...process.env, BENCH_CHAIN_PEM: chainPem },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`bench repository exited (${code}) before listening`)));
    child.stdout.once("data", (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    pid: child.pid!,
    stats: async (prefix = "/") => (await (await fetch(`${url}/__stats?prefix=${encodeURIComponent(prefix)}`)).json()) as RepositoryStats,
    reset: async () => void (await fetch(`${url}/__reset`, { method: "POST" })),
    close: () => void child.kill("SIGTERM"),
  };
}
