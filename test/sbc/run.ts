import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { createSocket } from "node:dgram";
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { CRLS_KEY, mergeCrls, TRUST_ANCHORS_KEY } from "../../src/certificate/trust-format";
import { DEFAULT_PATHS, loadCrl } from "../../cli/inputs";
import { startCertificateRepository, type RunningRepository } from "../../cli/repository";
import { listAnchors, trustAnchorDocument } from "../../cli/trust-directory";
import { CALLEE_HANGS_UP, headerValues, parseSippTrace, startLine, uacScenario, UAS_SCENARIO, type UacCall } from "./scenarios";

/**
 * `npm run test:sbc`: shaken-edge with a real SBC in the loop. Kamailio runs examples/kamailio/
 * unchanged (only its peer table and addresses differ), SIPp plays the interconnect peers and the
 * core; everything listens on loopback and is stopped at the end. The verifier is the Worker under
 * `wrangler dev`, as `npm run dev` runs it, but on free ports with its own local state, so it can run
 * beside a developer's `npm run dev`.
 *
 * Peers: 127.0.0.2 is a domestic trunk (Kazakhtelecom), 127.0.0.3 an international one (TransitCo);
 * 127.0.0.4 is nobody the SBC knows. The core is 127.0.0.1. A second Kamailio, with the same
 * configuration, asks a stub verifier on loopback that answers with hostile or broken verdicts.
 */
const ROOT = resolve(import.meta.dirname, "../..");
const DEADLINE_MS = 240_000;
const SBC_KEY = "dev-sbc-key";
const ADMIN_TOKEN = "dev-admin-token";
/** RFC 8688 redress URL: configured so that a 608 carries Call-Info, which the SBC must pass on. */
const JWSCARD_URL = "https://redress.example.net/shaken-edge";
const DOMESTIC_PEER = "127.0.0.2";
const INTERNATIONAL_PEER = "127.0.0.3";
const UNKNOWN_SOURCE = "127.0.0.4";
const CORE = "127.0.0.1";
const DEBIAN_PACKAGES = ["kamailio", "kamailio-utils-modules", "kamailio-extra-modules", "sip-tester"];
const KAMAILIO_MODULES = "/usr/lib/x86_64-linux-gnu/kamailio/modules";

const sha256Hex = (text: string) => createHash("sha256").update(text).digest("hex");
const log = (message: string) => process.stderr.write(`[test:sbc] ${message}\n`);
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

// ---------------------------------------------------------------------------------------------
// Processes: each in its own process group, so stopping it also stops what it started (wrangler → workerd).

const running: { name: string; child: ChildProcess }[] = [];
let repository: RunningRepository | undefined;
let stubVerifier: Server | undefined;
let workDir: string | undefined;

function start(name: string, command: string, args: string[], logFile: string): ChildProcess {
  const child = spawn(command, args, { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, WRANGLER_SEND_METRICS: "false" } });
  let output = "";
  const append = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout!.on("data", append);
  child.stderr!.on("data", append);
  child.on("exit", () => void writeFile(logFile, output).catch(() => {}));
  Object.assign(child, { output: () => output });
  running.push({ name, child });
  return child;
}
const outputOf = (child: ChildProcess): string => (child as ChildProcess & { output: () => string }).output();

/** The leader first, so that it can stop and reap its children; then whatever is left in its group. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.pid === undefined) return;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((done) => child.once("exit", done));
    child.kill("SIGTERM");
    if ((await Promise.race([exited.then(() => true), sleep(5000).then(() => false)])) === false) child.kill("SIGKILL");
  }
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    // the group is already empty
  }
}

async function stopAll(): Promise<void> {
  for (const { child } of running.reverse()) await stop(child);
  await repository?.close().catch(() => {});
  stubVerifier?.closeAllConnections();
  stubVerifier?.close();
}

/**
 * Runs a command to completion without blocking the event loop: the certificate repository that
 * the verifier fetches x5u chains from is served by this very process.
 */
function run(command: string, args: string[], timeoutMs: number): Promise<{ status: number | null; output: string }> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" } });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", fail);
    child.on("close", (status) => {
      clearTimeout(timer);
      done({ status, output });
    });
  });
}

async function runOrThrow(command: string, args: string[], timeoutMs: number): Promise<string> {
  const result = await run(command, args, timeoutMs);
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (${result.status}):\n${result.output.slice(-2000)}`);
  return result.output;
}

// ---------------------------------------------------------------------------------------------
// Set-up

async function ensureDebianPackages(): Promise<void> {
  const present = async (binary: string) => (await run("sh", ["-c", `command -v ${binary}`], 5000)).status === 0;
  const modules = ["http_client.so", "jansson.so", "uac.so"].every((module) => existsSync(join(KAMAILIO_MODULES, module)));
  if ((await present("kamailio")) && (await present("sipp")) && modules) return;
  if (process.getuid?.() !== 0) throw new Error(`Kamailio or SIPp missing: run as root, or install ${DEBIAN_PACKAGES.join(" ")}`);
  log(`installing ${DEBIAN_PACKAGES.join(" ")} from Debian`);
  await runOrThrow("apt-get", ["update", "-qq"], 300_000);
  await runOrThrow("sh", ["-c", `DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${DEBIAN_PACKAGES.join(" ")}`], 600_000);
}

async function freeTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

async function freeUdpPort(): Promise<number> {
  const socket = createSocket("udp4");
  await new Promise<void>((done) => socket.bind(0, "127.0.0.1", done));
  const { port } = socket.address();
  await new Promise<void>((done) => socket.close(done));
  return port;
}

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number, exited?: ChildProcess): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (exited && exited.exitCode !== null) throw new Error(`${what}: process exited (${exited.exitCode}):\n${outputOf(exited).slice(-3000)}`);
    if (await probe().catch(() => false)) return;
    await sleep(250);
  }
  throw new Error(`${what}: not ready after ${timeoutMs / 1000}s${exited ? `:\n${outputOf(exited).slice(-3000)}` : ""}`);
}

/** One OPTIONS over UDP; the SBC answers 200 once it is listening. */
function sipOptionsPing(port: number, from: string): Promise<boolean> {
  return new Promise((done) => {
    const socket = createSocket("udp4");
    const timer = setTimeout(() => (socket.close(), done(false)), 500);
    socket.on("message", (message) => {
      clearTimeout(timer);
      socket.close();
      done(message.toString().startsWith("SIP/2.0 200"));
    });
    socket.bind(0, from, () => {
      const { port: local } = socket.address();
      const request = [
        `OPTIONS sip:ping@127.0.0.1:${port} SIP/2.0`,
        `Via: SIP/2.0/UDP ${from}:${local};branch=z9hG4bK-ping-${Date.now()}`,
        `From: <sip:ping@${from}>;tag=ping`,
        `To: <sip:ping@127.0.0.1>`,
        `Call-ID: ping-${Date.now()}@${from}`,
        "CSeq: 1 OPTIONS",
        "Max-Forwards: 70",
        "Content-Length: 0",
        "",
        "",
      ].join("\r\n");
      socket.send(request, port, "127.0.0.1");
    });
  });
}

async function putKv(stateDir: string, key: string, document: unknown): Promise<void> {
  const file = join(workDir!, `${key}.json`);
  await writeFile(file, JSON.stringify(document));
  await runOrThrow("npx", ["wrangler", "kv", "key", "put", "--binding", "TRUST", key, "--path", file, "--local", "--persist-to", stateDir], 120_000);
}

async function startVerifier(stateDir: string): Promise<{ url: string; repositoryUrl: string; worker: ChildProcess }> {
  await runOrThrow("npx", ["wrangler", "d1", "migrations", "apply", "DB", "--local", "--persist-to", stateDir], 120_000);
  await putKv(stateDir, TRUST_ANCHORS_KEY, trustAnchorDocument(await listAnchors(join(ROOT, DEFAULT_PATHS.trustDir)), new Date()));
  await putKv(stateDir, CRLS_KEY, mergeCrls(null, [{ crl: await loadCrl(join(ROOT, DEFAULT_PATHS.crl)), source: "push" }], new Date()).document);
  repository = await startCertificateRepository({ dir: join(ROOT, DEFAULT_PATHS.repoDir), port: 0, host: "127.0.0.1" });

  const port = await freeTcpPort();
  const worker = start(
    "wrangler dev",
    join(ROOT, "node_modules/.bin/wrangler"),
    [
      "dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(await freeTcpPort()),
      "--persist-to", stateDir, "--show-interactive-dev-session=false",
      // As npm run dev: the repository above is plain http on loopback.
      "--var", "X5U_ALLOW_INSECURE_LOOPBACK:true",
      "--var", `SBC_API_KEYS_SHA256:${sha256Hex(SBC_KEY)}`,
      "--var", `ADMIN_TOKENS_SHA256:${sha256Hex(ADMIN_TOKEN)}`,
      "--var", `JWSCARD_URL:${JWSCARD_URL}`,
      // This test is about the SBC acting on verdicts, not about deadlines: a cold isolate on a busy
      // CI machine must not turn the first x5u fetch into a budget overrun.
      "--var", "VERDICT_BUDGET_MS:2000",
    ],
    join(workDir!, "wrangler.log"),
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor("wrangler dev", async () => (await fetch(`${url}/healthz`)).ok, 90_000, worker);
  return { url, repositoryUrl: repository.url, worker };
}

async function admin(url: string, method: string, path: string, body?: unknown): Promise<void> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${await response.text()}`);
}

/** The example configuration as shipped; only the source table (ingress.cfg) is the test's own. */
async function writeKamailioConfig(): Promise<void> {
  await copyFile(join(ROOT, "examples/kamailio/kamailio.cfg"), join(workDir!, "kamailio.cfg"));
  await writeFile(
    join(workDir!, "ingress.cfg"),
    `route[CLASSIFY_SOURCE] {
	switch ($si) {
		case "${DOMESTIC_PEER}":
			$var(source) = "peer"; $var(trunk) = "kt-1"; $var(carrier) = "Kazakhtelecom"; $var(international) = "false";
			break;
		case "${INTERNATIONAL_PEER}":
			$var(source) = "peer"; $var(trunk) = "intl-1"; $var(carrier) = "TransitCo"; $var(international) = "true";
			break;
		case "${CORE}":
			$var(source) = "core";
			break;
	}
}
`,
  );
}

/** One Kamailio on kamailio.cfg; instances differ only in their ports and VERIFIER_URL. */
async function startKamailio(name: string, verifierUrl: string, corePort: number): Promise<number> {
  const runtimeDir = join(workDir!, name);
  await mkdir(runtimeDir);
  const port = await freeUdpPort();
  const kamailio = start(
    name,
    "kamailio",
    [
      "-f", join(workDir!, "kamailio.cfg"), "-DD", "-E", "-m", "64", "-M", "8", "-Y", runtimeDir,
      "-A", `SIP_LISTEN=udp:127.0.0.1:${port}`,
      "-A", `CORE_URI="sip:${CORE}:${corePort}"`,
      "-A", `VERIFIER_URL="${verifierUrl}"`,
      "-A", `SBC_API_KEY="${SBC_KEY}"`,
    ],
    join(workDir!, `${name}.log`),
  );
  await waitFor(name, () => sipOptionsPing(port, DOMESTIC_PEER), 20_000, kamailio);
  return port;
}

// ---------------------------------------------------------------------------------------------
// A verifier gone wrong: hostile or broken answers, to show that the SBC never lets one write its
// reply's status line or headers, and falls back as its README says.

/** An HTTP answer, or none at all (the SBC's VERIFIER_TIMEOUT must end the wait). */
type StubAnswer = { status: number; body?: unknown } | "never";

const INJECTED = "X-Injected";
const withInjection = (text: string) => `${text}\r\n${INJECTED}: yes`;
const verdict = (fields: Record<string, unknown>) => ({ verdict: { requestId: "stub", verstat: "No-TN-Validation", attest: null, decidedBy: "stub", checks: [], ...fields } });
/** Headers no verdict may make the SBC send: a name off the allow-list, and line breaks in allowed ones. */
const hostileHeaders = [
  { name: INJECTED, value: "yes" },
  { name: withInjection("Reason"), value: "yes" },
  { name: "Reason", value: withInjection('SIP ;cause=608 ;text="stub"') },
  { name: "Call-Info", value: withInjection(`<${JWSCARD_URL}>;purpose=jwscard`) },
  { name: "P-Asserted-Identity", value: withInjection("<tel:+77272501234;verstat=TN-Validation-Passed>") },
];

/** What the stub answers, by call name (the Call-ID's prefix). */
const STUB_ANSWERS: Record<string, StubAnswer> = {
  "hostile-status-code": { status: 200, body: verdict({ action: "block", sip: { code: withInjection("608"), reason: "Rejected" }, headers: hostileHeaders }) },
  "hostile-reason-phrase": { status: 200, body: verdict({ action: "block", sip: { code: 608, reason: withInjection("Rejected") }, headers: hostileHeaders }) },
  "hostile-headers-on-allow": { status: 200, body: verdict({ action: "allow", sip: null, headers: hostileHeaders }) },
  "hostile-label": { status: 200, body: verdict({ action: "tag", sip: null, headers: [], label: withInjection('Bank" <sip:+77172590000@bank.example>') }) },
  "not-a-verdict": { status: 200, body: verdict({ action: "forward", sip: null, headers: [] }) },
  "verifier-5xx": { status: 503, body: { error: { code: "ERR_STORE_UNAVAILABLE", message: "stub" } } },
  "verifier-timeout": "never",
};

async function startStubVerifier(): Promise<string> {
  const server = createHttpServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      const callName = /^Call-ID:\s*(.+)-\d+-\d+@/im.exec(body)?.[1] ?? "";
      const answer = STUB_ANSWERS[callName] ?? { status: 400, body: { error: { code: "ERR_STUB", message: `no answer for ${callName}` } } };
      if (answer === "never") return;
      response.writeHead(answer.status, { "Content-Type": "application/json" }).end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  stubVerifier = server;
  return `http://127.0.0.1:${(server.address() as { port: number }).port}/v1/verdict`;
}

// ---------------------------------------------------------------------------------------------
// Calls

interface CallCase extends UacCall {
  peer: string;
  /** What the UAS (the core) must have received; null when the call must not reach it. */
  /** `pai: null`: no P-Asserted-Identity at all (the peer's, carrying its own verstat, removed). */
  delivered: null | { pai: string | null; reason?: RegExp; privacy?: string; from?: RegExp };
  /** Headers the rejection must carry (a pattern), or must not carry (null). */
  rejectionHeaders?: Record<string, RegExp | null>;
}

async function signIdentity(repositoryUrl: string, orig: string, dest: string): Promise<string> {
  const output = await runOrThrow(
    process.execPath,
    ["bin/shaken-edge.js", "passport", "sign", "--key", "certs/sp/sp.key.pem", "--cert", "certs/sp/sp.pem", "--x5u", `${repositoryUrl}/sp.pem`, "--orig", orig, "--dest", dest, "--attest", "A"],
    30_000,
  );
  return output.trim().split("\n").pop()!;
}

/** One changed character in the middle of the signature: still base64url, no longer the signature. */
function tamper(identity: string): string {
  const [jws, ...parameters] = identity.split(";");
  const [header, payload, signature] = jws!.split(".");
  const at = Math.floor(signature!.length / 2);
  const changed = signature![at] === "A" ? "B" : "A";
  return [`${header}.${payload}.${signature!.slice(0, at)}${changed}${signature!.slice(at + 1)}`, ...parameters].join(";");
}

interface CallResult {
  name: string;
  finalResponse: string | null;
  /** What the core saw of the verdict, for the log. */
  seen: string;
  failures: string[];
}

async function placeCall(call: CallCase, sbcPort: number, uasTrace: () => Promise<string>): Promise<CallResult> {
  const scenario = join(workDir!, `${call.name}.xml`);
  const trace = join(workDir!, `${call.name}.messages.log`);
  await writeFile(scenario, uacScenario(call));
  const sipp = await run(
    "sipp",
    [`127.0.0.1:${sbcPort}`, "-sf", scenario, "-i", call.peer, "-p", String(await freeUdpPort()), "-m", "1", "-cid_str", `${call.name}-%u-%p@%s`, "-nostdin", "-timeout", "20s", "-timeout_error", "-trace_msg", "-message_file", trace],
    30_000,
  );
  const failures: string[] = [];
  const received = (existsSync(trace) ? parseSippTrace(await readFile(trace, "utf8")) : []).filter((message) => message.direction === "received");
  const responses = received.filter((message) => message.text.startsWith("SIP/2.0"));
  const final = responses.map((message) => message.text).find((text) => !/^SIP\/2\.0 1\d\d/.test(text)) ?? null;
  if (sipp.status !== 0) failures.push(`sipp exited ${sipp.status}: ${sipp.output.trim().split("\n").slice(-3).join(" / ")}`);
  if (!final || !startLine(final).startsWith(`SIP/2.0 ${call.expectStatus} `)) failures.push(`expected a ${call.expectStatus}, got ${final ? startLine(final) : "no final response"}`);
  for (const [name, pattern] of Object.entries(call.rejectionHeaders ?? {})) {
    const values = final ? headerValues(final, name) : [];
    if (pattern === null ? values.length > 0 : !values.some((value) => pattern.test(value))) failures.push(`response ${name}: expected ${pattern ?? "none"}, got ${JSON.stringify(values)}`);
  }

  await sleep(200);
  const atCore = parseSippTrace(await uasTrace()).filter(
    (message) => message.direction === "received" && !message.text.startsWith("SIP/2.0") && headerValues(message.text, "Call-ID").some((id) => id.startsWith(`${call.name}-`)),
  );
  // Whatever the call: no header a verdict injected, on either side; no verstat in any From the core gets.
  for (const [side, messages] of [["the peer", received], ["the core", atCore]] as const) {
    if (messages.some((message) => headerValues(message.text, INJECTED).length > 0)) failures.push(`${side} received an ${INJECTED} header`);
  }
  for (const request of atCore) {
    const from = headerValues(request.text, "From");
    if (from.some((value) => /verstat/i.test(value))) failures.push(`core got ${startLine(request.text).split(" ")[0]} with From ${JSON.stringify(from)}`);
  }
  const invites = atCore.filter((message) => message.text.startsWith("INVITE "));
  const forwarded = invites[0]?.text;
  const seen = forwarded
    ? ["P-Asserted-Identity", "Reason", "Privacy", "From"].flatMap((name) => headerValues(forwarded, name).map((value) => `${name}: ${value}`)).join(" | ")
    : ["Reason", "Call-Info"].flatMap((name) => (final ? headerValues(final, name) : []).map((value) => `${name}: ${value}`)).join(" | ");
  if (call.delivered === null) {
    if (atCore.length > 0) failures.push(`the core received ${atCore.map((request) => startLine(request.text).split(" ")[0]).join(", ")}, and should have received nothing`);
  } else if (!forwarded) {
    failures.push("the core did not receive the INVITE");
  } else {
    const expectHeader = (name: string, check: (values: string[]) => boolean, expected: string) => {
      const values = headerValues(forwarded, name);
      if (!check(values)) failures.push(`core got ${name} ${JSON.stringify(values)}, expected ${expected}`);
    };
    // Whoever sent it, a call goes on to the core on the core's own routing: no Route header of the peer's.
    expectHeader("Route", (values) => values.length === 0, "none");
    // Nor does a caller identity the peer claimed in a header the core might read instead of the verifier's,
    // nor rich call data (RFC 9796 Call-Info: a logo, a name card) the verifier does not verify.
    for (const name of ["P-Preferred-Identity", "Remote-Party-ID", "Call-Info"]) expectHeader(name, (values) => values.length === 0, "none");
    const { pai, reason, privacy, from } = call.delivered;
    expectHeader("P-Asserted-Identity", (values) => (pai === null ? values.length === 0 : values.length === 1 && values[0] === pai), pai ?? "none");
    if (reason) expectHeader("Reason", (values) => values.some((value) => reason.test(value)), String(reason));
    else expectHeader("Reason", (values) => values.length === 0, "none");
    expectHeader("Privacy", (values) => (privacy ? values.includes(privacy) : values.length === 0), privacy ?? "none");
    if (from) expectHeader("From", (values) => values.some((value) => from.test(value)), String(from));
  }
  return { name: call.name, finalResponse: final ? startLine(final) : null, seen, failures };
}

// ---------------------------------------------------------------------------------------------

let deadline: NodeJS.Timeout | undefined;

async function main(): Promise<number> {
  await ensureDebianPackages();
  // The packages have their own time limits; the deadline bounds the test itself.
  deadline = setTimeout(() => {
    log(`deadline of ${DEADLINE_MS / 1000}s reached`);
    void stopAll().then(() => process.exit(1));
  }, DEADLINE_MS);
  workDir = await mkdtemp(join(tmpdir(), "shaken-edge-sbc-"));
  log(`work directory ${workDir}`);
  const { url, repositoryUrl, worker } = await startVerifier(join(workDir, "state"));
  log(`verifier ${url}, certificate repository ${repositoryUrl}`);
  await admin(url, "PUT", "/v1/admin/roaming/77051234567", { status: "roaming", visitedCountry: "TR", author: "test:sbc" });
  // What an analyst adds after "Jusan Bank called me": a rule on the name, whatever number it comes with.
  await admin(url, "POST", "/v1/admin/rules", { criteria: { name: "Jusan Bank" }, action: "block", reason: "bank name from abroad, test:sbc", author: "test:sbc" });

  const corePort = await freeUdpPort();
  const uasTraceFile = join(workDir, "core.messages.log");
  await writeFile(join(workDir, "core.xml"), UAS_SCENARIO);
  start("sipp UAS", "sipp", ["-sf", join(workDir, "core.xml"), "-i", CORE, "-p", String(corePort), "-nostdin", "-trace_msg", "-message_file", uasTraceFile], join(workDir, "core.log"));
  await writeKamailioConfig();
  const sbcPort = await startKamailio("kamailio", `${url}/v1/verdict`, corePort);
  const stubSbcPort = await startKamailio("kamailio-stub-verifier", await startStubVerifier(), corePort);
  log(`kamailio udp:127.0.0.1:${sbcPort} (and udp:127.0.0.1:${stubSbcPort}, asking a stub verifier) → core udp:${CORE}:${corePort}`);

  const signed = await signIdentity(repositoryUrl, "77272501234", "77012345678");
  // A PASSporT verifies on one call only (replay detection): the call that adds rich call data has its own.
  const signedAgain = await signIdentity(repositoryUrl, "77272501234", "77012345678");
  const peerClaim = "P-Asserted-Identity: <tel:+77272501234;verstat=TN-Validation-Passed>";
  /** An INVITE claiming to be inside a dialog (a To-tag, the core as its target, a Route through the SBC), with the peer's own verstat. */
  const inDialog = (routeParameters: string) => ({
    toTag: "forged",
    requestUri: `sip:+77012345678@${CORE}:${corePort}`,
    extraHeaders: [`Route: <sip:127.0.0.1:${sbcPort};lr${routeParameters}>`, peerClaim],
  });
  const calls: CallCase[] = [
    {
      name: "signed-passes", peer: DOMESTIC_PEER, from: "+77272501234", to: "+77012345678", identity: signed, expectStatus: 200,
      delivered: { pai: "<tel:+77272501234;verstat=TN-Validation-Passed>" },
    },
    {
      // The peer also claims a verstat of its own: the core must see only the verifier's.
      name: "signed-tampered", peer: DOMESTIC_PEER, from: "+77272501234", to: "+77012345678", identity: tamper(signed), expectStatus: 200,
      extraHeaders: [peerClaim],
      delivered: { pai: "<tel:+77272501234;verstat=TN-Validation-Failed>", reason: /^SIP ;cause=438 / },
    },
    {
      name: "unsigned-international-kz-fixed", peer: INTERNATIONAL_PEER, from: "+77272501234", to: "+77012345678", identity: null, expectStatus: 608,
      delivered: null, rejectionHeaders: { Reason: /^SIP ;cause=608 ;text="/, "Call-Info": new RegExp(`^<${JWSCARD_URL}>;purpose=jwscard$`) },
    },
    {
      // The same spoof behind a foreign P-Asserted-Identity: the SBC removes the peer's PAI and forwards
      // its From, so the verifier judges From's number too, and the spoof is rejected as without it.
      name: "kz-fixed-from-behind-foreign-pai", peer: INTERNATIONAL_PEER, from: "+77272501234", to: "+77012345678", identity: null, expectStatus: 608,
      extraHeaders: ["P-Asserted-Identity: <sip:+4930123456789@127.0.0.3;user=phone>"], delivered: null,
    },
    {
      // The same spoof with an unreadable Date: the verifier judges the call (the Date is the peer's to
      // write, so it is a check, never a request error), and the spoof is rejected as without it. Were
      // the verifier to answer 4xx, the SBC would reject with 500: the core receives nothing either way.
      name: "bad-date-spoof", peer: INTERNATIONAL_PEER, from: "+77272501234", to: "+77012345678", identity: null, expectStatus: 608,
      extraHeaders: ["Date: garbage"], delivered: null,
    },
    {
      // The same with a From over 1 KiB: a caller ID that cannot be read, judged as spoofing on an
      // international trunk. A doubled From never gets that far: Kamailio's own parser refuses it, and
      // the INVITE is dropped.
      name: "oversized-from-spoof", peer: INTERNATIONAL_PEER, from: "+77272501234", fromParameters: `;padding=${"x".repeat(1024)}`, to: "+77012345678", identity: null,
      expectStatus: 608, delivered: null,
    },
    {
      name: "roaming-mobile", peer: INTERNATIONAL_PEER, from: "+77051234567", to: "+77012345678", identity: null, expectStatus: 200,
      delivered: { pai: "<tel:+77051234567;verstat=No-TN-Validation>" },
    },
    {
      // With a verstat on From as well: the anonymous From carries none.
      name: "international-voip-withheld", peer: INTERNATIONAL_PEER, from: "+77501234567", fromParameters: ";verstat=TN-Validation-Passed", to: "+77012345678", identity: null, expectStatus: 200,
      delivered: { pai: "<tel:+77501234567;verstat=No-TN-Validation>", privacy: "id", from: /^"Anonymous" <sip:anonymous@anonymous\.invalid>;tag=[^;]+$/ },
    },
    {
      // A first P-Asserted-Identity without a verstat, a second with the peer's own.
      name: "second-pai", peer: DOMESTIC_PEER, from: "+77272501234", to: "+77012345678", identity: null, expectStatus: 200,
      extraHeaders: ["P-Asserted-Identity: <sip:+77272501234@127.0.0.2;user=phone>", peerClaim],
      delivered: { pai: "<tel:+77272501234;verstat=No-TN-Validation>" },
    },
    {
      // verstat as a parameter of From's URI (where TS 24.229 puts it) and of the header.
      name: "verstat-in-from", peer: DOMESTIC_PEER, from: "+77272501234;verstat=TN-Validation-Passed", fromParameters: ";verstat=TN-Validation-Passed", to: "+77012345678", identity: null, expectStatus: 200,
      delivered: { pai: "<tel:+77272501234;verstat=No-TN-Validation>", from: /^<sip:\+77272501234@127\.0\.0\.2>;tag=[^;]+$/ },
    },
    {
      // The identity headers other than P-Asserted-Identity, screened as the peer would have the core
      // believe: the verifier judges their numbers (a foreign one here, allowed), the core sees none of them.
      name: "other-identity-headers", peer: INTERNATIONAL_PEER, from: "+77051234567", to: "+77012345678", identity: null, expectStatus: 200,
      extraHeaders: ["P-Preferred-Identity: <sip:+4930123456789@127.0.0.3>", "Remote-Party-ID: <sip:+4930123456789@127.0.0.3>;party=calling;screen=yes;privacy=off"],
      delivered: { pai: "<tel:+77051234567;verstat=No-TN-Validation>" },
    },
    {
      // An Almaty landline in Remote-Party-ID beside a foreign From, from abroad: a core that reads
      // Remote-Party-ID would show the landline, so the verifier judges it, and the spoof is rejected.
      name: "kz-fixed-in-remote-party-id", peer: INTERNATIONAL_PEER, from: "+4930123456789", to: "+77012345678", identity: null, expectStatus: 608,
      extraHeaders: ["Remote-Party-ID: <sip:+77272501234@127.0.0.3>;party=calling;screen=yes;privacy=off"], delivered: null,
    },
    {
      // A bank's name as From's display name on a call whose PASSporT fails: the callee is shown the
      // verdict's label (what a tag is for), not the peer's name beside the number.
      name: "tagged-bank-display-name", peer: DOMESTIC_PEER, from: "+77272501234", fromDisplayName: "Halyk Bank", to: "+77012345678", identity: tamper(signed), expectStatus: 200,
      delivered: { pai: "<tel:+77272501234;verstat=TN-Validation-Failed>", reason: /^SIP ;cause=438 /, from: /^"Unverified caller ID" <sip:\+77272501234@127\.0\.0\.2>;tag=[^;]+$/ },
    },
    {
      // A bank's name beside a foreign number from abroad: the call is allowed (a foreign number may come
      // from abroad), but nothing answers for the name, so the callee sees the number alone.
      name: "foreign-number-bank-display-name", peer: INTERNATIONAL_PEER, from: "+4930123456789", fromDisplayName: "Halyk Bank", to: "+77012345678", identity: null, expectStatus: 200,
      delivered: { pai: "<tel:+4930123456789;verstat=No-TN-Validation>", from: /^<sip:\+4930123456789@127\.0\.0\.3>;tag=[^;]+$/ },
    },
    {
      // The name an analyst's rule names, spelt otherwise (capitals, a hyphen), beside a foreign number:
      // the rule blocks it with 603 and its Reason; the core receives nothing.
      name: "bank-name-rule", peer: INTERNATIONAL_PEER, from: "+4930123456780", fromDisplayName: "JUSAN-BANK", to: "+77012345678", identity: null, expectStatus: 603,
      delivered: null, rejectionHeaders: { Reason: /^SIP ;cause=603 / },
    },
    {
      // A national number on a domestic interconnect: its carrier answers for its subscriber's name, which stays.
      name: "domestic-display-name-kept", peer: DOMESTIC_PEER, from: "+77272501234", fromDisplayName: "Almaty Office", to: "+77012345678", identity: null, expectStatus: 200,
      delivered: { pai: "<tel:+77272501234;verstat=No-TN-Validation>", from: /^"Almaty Office" <sip:\+77272501234@127\.0\.0\.2>;tag=[^;]+$/ },
    },
    {
      // A verified caller ID, and beside it a bank's logo and name card of the peer's own (RFC 9796 rich
      // call data): the verifier verifies no rcd PASSporT, so the callee would see them vouched for.
      name: "signed-with-rich-call-data", peer: DOMESTIC_PEER, from: "+77272501234", to: "+77012345678", identity: signedAgain, expectStatus: 200,
      extraHeaders: ["Call-Info: <https://cdn.example.net/halyk-bank.png>;purpose=icon", "Call-Info: <https://cdn.example.net/halyk-bank.jcard>;purpose=jcard"],
      delivered: { pai: "<tel:+77272501234;verstat=TN-Validation-Passed>" },
    },
    {
      // A pre-loaded route set (RFC 3261 §8.1.2): past this SBC it would steer the call around the
      // core's routing, to a destination of the peer's choosing.
      name: "preloaded-route", peer: INTERNATIONAL_PEER, from: "+77051234567", to: "+77012345678", identity: null, expectStatus: 200,
      extraHeaders: ["Route: <sip:premium-rate.example:5060;lr>", "Route: <sip:198.51.100.7;lr;transport=udp>"],
      delivered: { pai: "<tel:+77051234567;verstat=No-TN-Validation>" },
    },
    {
      name: "unknown-source-in-dialog", peer: UNKNOWN_SOURCE, from: "+77272501234", to: "+77012345678", identity: null, expectStatus: 403,
      ...inDialog(";sbc=1.1"), delivered: null,
    },
    {
      name: "in-dialog-without-sbc-parameter", peer: DOMESTIC_PEER, from: "+77272501234", to: "+77012345678", identity: null, expectStatus: 403,
      ...inDialog(""), delivered: null,
    },
    {
      // The parameter's form, but no dialog of the SBC's behind it.
      name: "in-dialog-forged-sbc-parameter", peer: DOMESTIC_PEER, from: "+77272501234", to: "+77012345678", identity: null, expectStatus: 403,
      ...inDialog(";sbc=1.1"), delivered: null,
    },
    {
      // The core's own in-dialog request (the callee hangs up) still crosses the SBC.
      name: CALLEE_HANGS_UP, peer: DOMESTIC_PEER, from: "+77272501234", to: "+77012345678", identity: null, expectStatus: 200, calleeHangsUp: true,
      delivered: { pai: "<tel:+77272501234;verstat=No-TN-Validation>" },
    },
  ];
  // Through the second Kamailio: what the stub verifier answers is in STUB_ANSWERS.
  const stubCalls: CallCase[] = [
    {
      // A status code with a line break: the documented fallback for a block is 603 Decline.
      name: "hostile-status-code", peer: INTERNATIONAL_PEER, from: "+77272501234", to: "+77012345678", identity: null, expectStatus: 603,
      delivered: null, rejectionHeaders: { Reason: null, "Call-Info": null },
    },
    {
      name: "hostile-reason-phrase", peer: INTERNATIONAL_PEER, from: "+77272501234", to: "+77012345678", identity: null, expectStatus: 603,
      delivered: null, rejectionHeaders: { Reason: null, "Call-Info": null },
    },
    {
      // Every verdict header is refused, the P-Asserted-Identity with a line break too: no verstat at all.
      name: "hostile-headers-on-allow", peer: DOMESTIC_PEER, from: "+77272501234", to: "+77012345678", identity: null, expectStatus: 200,
      extraHeaders: [peerClaim], delivered: { pai: null },
    },
    {
      // A label that is no SIP-safe text: the peer's display name goes, and nothing of the label is shown.
      name: "hostile-label", peer: DOMESTIC_PEER, from: "+77272501234", fromDisplayName: "Halyk Bank", to: "+77012345678", identity: null, expectStatus: 200,
      delivered: { pai: null, from: /^<sip:\+77272501234@127\.0\.0\.2>;tag=[^;]+$/ },
    },
    {
      name: "not-a-verdict", peer: DOMESTIC_PEER, from: "+77272501234", to: "+77012345678", identity: null, expectStatus: 500,
      delivered: null,
    },
    {
      name: "verifier-5xx", peer: DOMESTIC_PEER, from: "+77272501234", to: "+77012345678", identity: null, expectStatus: 200,
      extraHeaders: [peerClaim], delivered: { pai: null },
    },
    {
      name: "verifier-timeout", peer: DOMESTIC_PEER, from: "+77272501234", to: "+77012345678", identity: null, expectStatus: 200,
      extraHeaders: [peerClaim], delivered: { pai: null },
    },
  ];

  const uasTrace = async () => (existsSync(uasTraceFile) ? readFile(uasTraceFile, "utf8") : "");
  const results: CallResult[] = [];
  const place = async (call: CallCase, port: number) => {
    const result = await placeCall(call, port, uasTrace);
    results.push(result);
    log(`${result.failures.length === 0 ? "ok  " : "FAIL"} ${call.name}: ${result.finalResponse ?? "no final response"}\n       ${result.seen}${result.failures.map((failure) => `\n       ${failure}`).join("")}`);
  };
  for (const call of calls) await place(call, sbcPort);
  for (const call of stubCalls) await place(call, stubSbcPort);

  // Last, with the verifier stopped: the SBC forwards unverified (fail open) and passes on no verstat.
  await stop(worker);
  await place(
    {
      name: "verifier-down-fails-open", peer: DOMESTIC_PEER, from: "+77272501234", to: "+77012345678", identity: signed, expectStatus: 200,
      extraHeaders: ["P-Asserted-Identity: <sip:+77272501234@127.0.0.2;user=phone>", peerClaim],
      delivered: { pai: null },
    },
    sbcPort,
  );

  const failed = results.filter((result) => result.failures.length > 0).length;
  if (failed > 0) log(`logs and SIP traces kept in ${workDir}`);
  console.log(`sbc: ${results.length - failed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void stopAll().then(() => process.exit(130)));

let exitCode = 1;
try {
  exitCode = await main();
} catch (error) {
  log(error instanceof Error ? (error.stack ?? error.message) : String(error));
  if (workDir) log(`logs kept in ${workDir}`);
} finally {
  clearTimeout(deadline);
  await stopAll();
  if (exitCode === 0 && workDir && !process.env.KEEP_SBC_LOGS) await rm(workDir, { recursive: true, force: true });
}
process.exit(exitCode);
