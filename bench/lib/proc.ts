import { readFileSync, readdirSync, readlinkSync, statSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join } from "node:path";

/** Kernel clock ticks per second (utime/stime in /proc/<pid>/stat are counted in these). */
const CLOCK_TICKS = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;

/** CPU time a process (all its threads) has used so far, in milliseconds: utime + stime. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

/** Resident set size now and its high-water mark, in KiB (VmRSS, VmHWM of /proc/<pid>/status). */
export function memoryKiB(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rss: field("VmRSS"), hwm: field("VmHWM") };
}

/**
 * The local stores' data on disk: every SQLite database (and its write-ahead log) under the storage
 * directories a process holds files open in. For workerd under Miniflare that is its temporary
 * directory, with the local D1 database and each Durable Object's storage, whether or not the object
 * is loaded now.
 */
export function localStoreBytes(pid: number): { databases: number; bytes: number; walBytes: number } {
  const roots = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const root = /^(.*\/miniflare-[0-9a-f]+)\//.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (root) roots.add(root[1]!);
    } catch {
      // closed between the listing and the read
    }
  }
  let databases = 0;
  let bytes = 0;
  let walBytes = 0;
  for (const root of roots) {
    for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !/\.sqlite(?:-wal)?$/.test(entry.name)) continue;
      try {
        const size = statSync(join(entry.parentPath, entry.name)).size;
        bytes += size;
        if (entry.name.endsWith(".sqlite")) databases++;
        else walBytes += size;
      } catch {
        // deleted since the listing
      }
    }
  }
  return { databases, bytes, walBytes };
}

/** Direct children of `parent` whose executable name is `name`. */
export function childProcesses(parent: number, name: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === parent && comm === name) found.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

/** Socket inodes the process holds open. */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const match = /^socket:\[(\d+)\]$/.exec(target);
      if (match) inodes.add(match[1]!);
    } catch {
      // fd closed meanwhile
    }
  }
  return inodes;
}

/**
 * Does `pid` itself own the listening TCP socket on `port`? This is how the bench proves that load
 * goes straight to workerd's socket, with no Node proxy (wrangler dev's) in between.
 */
export function ownsListeningSocket(pid: number, port: number): boolean {
  const inodes = socketInodes(pid);
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const columns = line.trim().split(/\s+/);
      if (columns.length < 10) continue;
      const localPort = parseInt(columns[1]!.split(":")[1]!, 16);
      const listening = columns[3] === "0A";
      if (listening && localPort === port && inodes.has(columns[9]!)) return true;
    }
  }
  return false;
}

/** Samples a process's RSS at a fixed interval; `stop()` returns the samples taken. */
export function sampleRss(pid: number, intervalMs: number): { stop(): { atMs: number; rssKiB: number }[] } {
  const samples: { atMs: number; rssKiB: number }[] = [];
  const started = Date.now();
  const take = () => {
    try {
      samples.push({ atMs: Date.now() - started, rssKiB: memoryKiB(pid).rss });
    } catch {
      // process gone
    }
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return samples;
    },
  };
}

/** Busy and total CPU time of the whole machine so far, in ms (the first line of /proc/stat). */
export function machineCpuMs(): { busy: number; total: number } {
  const [, ...values] = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/);
  const ticks = values.map(Number);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  const total = ticks.slice(0, 8).reduce((sum, n) => sum + n, 0);
  return { busy: ((total - idle) * 1000) / CLOCK_TICKS, total: (total * 1000) / CLOCK_TICKS };
}

/**
 * Waits until the processes outside `ours` use less than `maxCores` of CPU (sampled over 2 s), for
 * at most `timeoutMs`. The machine is shared; a run disturbed anyway says so in its report.
 */
export async function waitForQuiet(ours: number[], maxCores: number, timeoutMs: number): Promise<{ otherCores: number; waitedMs: number }> {
  const started = Date.now();
  const oursCpu = () => {
    const own = process.cpuUsage();
    let total = (own.user + own.system) / 1000;
    for (const pid of ours) {
      try {
        total += cpuMs(pid);
      } catch {
        // ended
      }
    }
    return total;
  };
  for (;;) {
    const machine = machineCpuMs().busy;
    const mine = oursCpu();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const otherCores = Math.max(0, machineCpuMs().busy - machine - (oursCpu() - mine)) / 2_000;
    if (otherCores <= maxCores || Date.now() - started >= timeoutMs) return { otherCores, waitedMs: Date.now() - started };
  }
}
