import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";

export interface MachineDescription {
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  node: string;
  workerd: string;
  miniflare: string;
  wrangler: string;
  autocannon: string;
}

const ROOT = join(import.meta.dirname, "..", "..");
const packageVersion = (name: string) => (JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;

export function describeMachine(): MachineDescription {
  const model = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? cpus()[0]?.model ?? "unknown";
  return {
    nproc: Number(execFileSync("nproc").toString().trim()),
    cpuModel: model.trim(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: execFileSync("uname", ["-r"]).toString().trim(),
    node: process.version,
    workerd: execFileSync(join(ROOT, "node_modules", ".bin", "workerd"), ["--version"]).toString().trim(),
    miniflare: packageVersion("miniflare"),
    wrangler: packageVersion("wrangler"),
    autocannon: packageVersion("autocannon"),
  };
}
