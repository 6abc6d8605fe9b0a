import { execFile, spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { freePort, waitForHealth, wranglerEnv } from "./support";

/**
 * `npm run test:e2e`, first part: the README's quick start as a newcomer follows it (issue 23 item 7).
 * Starts `npm run dev` on free ports with its state in a fresh directory, then runs every ```sh block
 * of the "Quick start" section with bash, the ports 8787 and 8788 replaced by the free ones, twice in a
 * row, and compares what each block prints with its `# → ` lines: a JSON answer must hold the members
 * shown, with those values (`…` in an object stands for its other members); text must match line by
 * line (`…` stands for any text within a line, or, alone on a line, for any lines).
 */
const ROOT = path.resolve(import.meta.dirname, "../..");
const README_PORTS = { worker: 8787, repository: 8788 } as const;
const EXPECTED_PREFIX = "# → ";
const ELIDED = "…";
const PASSES = 2;
const BLOCK_TIMEOUT_MS = 60_000;

interface Example {
  title: string;
  script: string;
  expected: string;
}

/** The ```sh blocks between "## Quick start" and the next section. */
function quickStartExamples(readme: string): Example[] {
  const start = readme.indexOf("\n## Quick start\n");
  const end = readme.indexOf("\n## ", start + 1);
  if (start < 0 || end < 0) throw new Error('README.md has no "## Quick start" section');
  return [...readme.slice(start, end).matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map(([, block]) => {
    const lines = block!.trimEnd().split("\n");
    const expected = lines.filter((line) => line.startsWith(EXPECTED_PREFIX)).map((line) => line.slice(EXPECTED_PREFIX.length));
    const title = lines[0]!.replace(/^#\s*/, "");
    if (expected.length === 0) throw new Error(`README quick start: "${title}" shows no output (# → lines)`);
    return { title, script: lines.filter((line) => !line.startsWith(EXPECTED_PREFIX)).join("\n"), expected: expected.join("\n") };
  });
}

/** The README's ports replaced by this run's. */
const onPorts = (text: string, ports: { worker: number; repository: number }) =>
  text.replaceAll(`127.0.0.1:${README_PORTS.worker}`, `127.0.0.1:${ports.worker}`).replaceAll(`127.0.0.1:${README_PORTS.repository}`, `127.0.0.1:${ports.repository}`);

/** `{"a":1,…}` → `{"a":1,"…":true}`: JSON whose objects may say that they show only some members. */
const parseElidedJson = (text: string): unknown => JSON.parse(text.replace(/([{,])\s*…\s*(?=[,}])/g, `$1"${ELIDED}":true`));

function jsonMatches(actual: unknown, expected: unknown): boolean {
  if (Array.isArray(expected)) return Array.isArray(actual) && actual.length === expected.length && expected.every((item, index) => jsonMatches(actual[index], item));
  if (expected === null || typeof expected !== "object") return Object.is(actual, expected);
  if (actual === null || typeof actual !== "object" || Array.isArray(actual)) return false;
  const shown = Object.keys(expected).filter((key) => key !== ELIDED);
  if (!(ELIDED in expected) && Object.keys(actual).length !== shown.length) return false;
  return shown.every((key) => Object.hasOwn(actual, key) && jsonMatches((actual as Record<string, unknown>)[key], (expected as Record<string, unknown>)[key]));
}

function textMatches(actual: string, expected: string): boolean {
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const pattern = expected
    .split("\n")
    .map((line) => (line === ELIDED ? "(?:[^\\n]*\\n)*?" : `${line.split(ELIDED).map(escape).join("[^\\n]*")}\\n`))
    .join("");
  return new RegExp(`^${pattern}$`).test(`${actual}\n`);
}

const matches = (actual: string, expected: string): boolean => {
  if (!expected.startsWith("{")) return textMatches(actual, expected);
  try {
    return jsonMatches(JSON.parse(actual), parseElidedJson(expected));
  } catch {
    return false;
  }
};

const run = promisify(execFile);

/** One block as a person pastes it into a fresh terminal: bash in the repository, no admin token in the environment. */
async function runExample(example: Example, ports: { worker: number; repository: number }): Promise<string | null> {
  const { SHAKEN_EDGE_ADMIN_TOKEN: _token, ...environment } = process.env;
  let stdout: string;
  try {
    ({ stdout } = await run("bash", ["-e", "-o", "pipefail", "-c", onPorts(example.script, ports)], { cwd: ROOT, env: environment, timeout: BLOCK_TIMEOUT_MS, encoding: "utf8" }));
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return `exited with ${failed.code}\n${failed.stdout ?? ""}${failed.stderr ?? ""}`;
  }
  const actual = stdout.trimEnd();
  const expected = onPorts(example.expected, ports);
  return matches(actual, expected) ? null : `printed:\n${actual}\nwhere the README shows:\n${expected}`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const EXAMPLE_CALLS = path.join(ROOT, "examples", "calls.csv");

/**
 * The README's "Rolling out" replay, checked against the running Worker (issue 20): the configuration
 * is written through the admin API (a rule, a roaming entry), exported with `config export`, and
 * `calls replay --at now` must give each line of examples/calls.csv the action and deciding check that
 * `/v1/verdict` gives the same call over HTTP. The file's columns are read here on their own (the
 * example has no quoted fields), so the CLI's reading of them is checked too.
 */
async function replayMatchesVerdicts(ports: { worker: number }, state: string): Promise<string | null> {
  const base = `http://127.0.0.1:${ports.worker}`;
  const admin = { Authorization: "Bearer dev-admin-token", "Content-Type": "application/json" };
  const written = await Promise.all([
    fetch(`${base}/v1/admin/rules`, { method: "POST", headers: admin, body: JSON.stringify({ criteria: { cli: { prefix: "+7727333" } }, action: "block", reason: "e2e: replay compared with /v1/verdict" }) }),
    fetch(`${base}/v1/admin/roaming/77051234567`, { method: "PUT", headers: admin, body: JSON.stringify({ status: "roaming", visitedCountry: "TR" }) }),
  ]);
  if (written.some((response) => !response.ok)) return `writing the configuration: HTTP ${written.map((response) => response.status).join(", ")}`;
  const exported = path.join(state, "export.json");
  const cli = (...args: string[]) => run("node", ["bin/shaken-edge.js", ...args], { cwd: ROOT, env: wranglerEnv, timeout: BLOCK_TIMEOUT_MS, encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
  await cli("config", "export", "--url", base, "--token", "dev-admin-token", "--out", exported);
  const at = new Date().toISOString();
  // Each line's answer: its action and deciding check, or "invalid" (a 400 from /v1/verdict).
  const replayed = new Map<number, string>();
  for (const text of (await cli("calls", "replay", "--input", EXAMPLE_CALLS, "--config", exported, "--at", at, "--json")).stdout.trim().split("\n")) {
    const line = JSON.parse(text) as { line?: number; action?: string; decidedBy?: string | null; invalid?: string };
    if (line.line !== undefined) replayed.set(line.line, line.invalid !== undefined ? "invalid" : `${line.action} ${line.decidedBy}`);
  }
  const problems: string[] = [];
  const lines = readFileSync(EXAMPLE_CALLS, "utf8").trimEnd().split("\n");
  for (const [index, text] of lines.entries()) {
    if (index === 0) continue;
    const [, from, to, trunk, carrier, international] = text.split(",").map((cell) => cell.trim() || undefined);
    const ingress = { trunk, carrier, international: international === undefined ? undefined : international === "true" };
    const body = { from, to, ...(Object.values(ingress).some((value) => value !== undefined) ? { ingress } : {}) };
    const response = await fetch(`${base}/v1/verdict`, { method: "POST", headers: { Authorization: "Bearer dev-sbc-key", "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const verdict = response.status === 400 ? null : ((await response.json()) as { verdict: { action: string; decidedBy: string | null } }).verdict;
    const overHttp = verdict === null ? "invalid" : `${verdict.action} ${verdict.decidedBy}`;
    if (replayed.get(index + 1) !== overHttp) problems.push(`examples/calls.csv line ${index + 1}: /v1/verdict gave ${overHttp} (HTTP ${response.status}), calls replay ${replayed.get(index + 1) ?? "nothing"}`);
  }
  return problems.length > 0 ? problems.join("\n") : null;
}

/**
 * Stops `npm run dev` as Ctrl-C does: SIGINT to its process group, on which scripts/dev.ts stops
 * wrangler dev (a process group of its own) and the repository. Answers what is left running, if anything.
 */
async function stopDev(dev: ChildProcess, workerPort: number): Promise<string | null> {
  const running = () => dev.exitCode === null && dev.signalCode === null;
  if (dev.pid !== undefined && running()) {
    const exited = new Promise((resolve) => dev.once("exit", resolve));
    process.kill(-dev.pid, "SIGINT");
    await Promise.race([exited, sleep(15_000)]);
    if (running()) process.kill(-dev.pid, "SIGKILL");
  }
  for (const deadline = Date.now() + 15_000; Date.now() < deadline; await sleep(250)) {
    if (!(await fetch(`http://127.0.0.1:${workerPort}/healthz`).then(() => true, () => false))) return null;
  }
  return `npm run dev left wrangler dev serving on port ${workerPort}`;
}

async function main(): Promise<number> {
  const examples = quickStartExamples(readFileSync(path.join(ROOT, "README.md"), "utf8"));
  const state = mkdtempSync(path.join(tmpdir(), "shaken-edge-readme-"));
  const logPath = path.join(state, "npm-run-dev.log");
  const log = openSync(logPath, "w");
  const ports = { worker: await freePort(), repository: await freePort() };
  // Its own process group, so that stopping it reaches npm, tsx and scripts/dev.ts alike.
  const dev = spawn("npm", ["run", "dev", "--", "--port", String(ports.worker), "--repository-port", String(ports.repository), "--persist-to", path.join(state, "wrangler")], {
    cwd: ROOT,
    stdio: ["ignore", log, log],
    env: wranglerEnv,
    detached: true,
  });
  const failures: string[] = [];
  try {
    // npm run dev runs wrangler four times before it serves (migrations, trust, CRLs, dev): minutes on a loaded machine.
    await waitForHealth(`http://127.0.0.1:${ports.worker}`, dev, "npm run dev", 300_000);
    for (let pass = 1; pass <= PASSES; pass += 1) {
      for (const example of examples) {
        const problem = await runExample(example, ports);
        if (problem) failures.push(`pass ${pass}, "${example.title}": ${problem}`);
      }
    }
    const replayProblem = await replayMatchesVerdicts(ports, state);
    if (replayProblem) failures.push(`calls replay of examples/calls.csv against /v1/verdict:\n${replayProblem}`);
  } catch (error) {
    failures.push(`${error instanceof Error ? error.message : String(error)}\n--- npm run dev:\n${readFileSync(logPath, "utf8").slice(-4000)}`);
  } finally {
    const leftRunning = await stopDev(dev, ports.worker);
    if (leftRunning) failures.push(leftRunning);
    closeSync(log);
    rmSync(state, { recursive: true, force: true });
  }
  if (failures.length > 0) {
    console.error(`FAILED: README quick start\n${failures.join("\n\n")}`);
    return 1;
  }
  console.log(`PASSED: README quick start, ${examples.length} examples, each run ${PASSES} times against npm run dev, printed what the README shows; calls replay of examples/calls.csv gave each line the answer /v1/verdict gave.`);
  return 0;
}

process.exit(await main());
