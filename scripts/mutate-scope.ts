import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { matchesGlob, resolve } from "node:path";

/**
 * `npm run mutate:scope -- <scope> [--mutate <files>]`: StrykerJS over one part of the trust core in
 * the two passes vitest.mutation.config.ts describes.
 *
 * 1. The unit pass mutates the scope's files and runs only the Node tests (reports/mutation/<scope>-unit.json).
 * 2. The full pass mutates only what the unit pass left alive, each mutant named by its exact span
 *    (Stryker's `file:line:column-line:column` form; a span also holds whatever mutants nest inside it),
 *    and runs the scope's workerd tests (reports/mutation/<scope>-full.json).
 * 3. The two are merged into reports/mutation/<scope>.json: every mutant of the unit pass, those it
 *    left alive with the full pass's verdict. `npm run mutate:survivors -- reports/mutation/<scope>.json`
 *    prints the score per file and lists what survived.
 *
 * `--mutate` narrows the run to some of the scope's files (comma-separated, no braces: Stryker splits
 * its list on commas). Each pass keeps its own incremental file, so a rerun after a change in the tests
 * reruns only what the change can affect.
 */
const SCOPES: Record<string, string> = {
  certificate: "src/certificate/**/*.ts",
  verification: "src/verification/**/*.ts",
  passport: "src/passport/**/*.ts",
  replay: "src/abuse/replay*.ts,src/abuse/presentation-ledger.ts",
  rules: "src/rules/**/*.ts",
  origin: "src/origin/**/*.ts,src/verdict/evaluate.ts,src/verdict/policy.ts",
  // Not src/sip/grammar: generated from sip.js's grammar (test/node/sip/compiled-grammar.test.ts holds it to sip.js).
  // How a rule's or the plan's number pattern is read and what it covers; what a number is; the velocity counters.
  numbering: "src/numbering/number-pattern.ts,src/numbering/pattern-index.ts,src/numbering/classify.ts,src/numbering/number-type.ts,src/numbering/home-plan.ts,src/abuse/velocity.ts,src/abuse/velocity-window.ts,src/abuse/velocity-counter.ts",
  call: "src/call/normalize.ts,src/call/reading-checks.ts,src/sip/address.ts,src/sip/invite.ts,src/sip/privacy.ts,src/numbers/telephone-number.ts,src/verdict/caller-name.ts",
  // What analysts write: the admin API's routes, body validation, Idempotency-Key and audit log, and fraud reports.
  operator: "src/admin/routes.ts,src/admin/http.ts,src/admin/idempotency.ts,src/admin/audit-log.ts,src/admin/trust-audit.ts,src/reports/report.ts,src/reports/routes.ts,src/reports/store.ts",
  // What happens when the stores fail (issue 12): the write-behind and its bound, the cache writes no
  // request waits for, a Durable Object's metered storage and saves, the recent verdicts and traceback
  // statistics buffered for D1 and their retention, and the strict JSON reader the PASSporT decoder uses.
  stores: "src/lib/write-behind.ts,src/lib/background-writes.ts,src/lib/durable-storage.ts,src/lib/timeout.ts,src/lib/storage-rows.ts,src/lib/strict-json.ts,src/dashboard/recent-verdicts.ts,src/stats/record.ts,src/stats/retention.ts",
  // Between the SBC and the trust core: who may call the API, the Identity header as the INVITE gave it,
  // the ATIS and /v1/verdict request and response, and the verdict's shared vocabulary and deadline.
  // The operator's configuration as the Worker reads it (a value read wrongly is a trust decision gone
  // wrong) and the wiring that hands it to the runtime: the settings' vocabulary, the Durable Object
  // shards, the request id. src/call/call.ts holds types only (no mutant). src/app.ts is left out: every
  // route's tests cover its middleware and error handler, so a full pass over it would run the suite per mutant.
  config: "src/config.ts,src/abuse/settings.ts,src/abuse/shard.ts,src/runtime.ts,src/api/request-id.ts,src/call/call.ts",
  edge: "src/identity/identity-header.ts,src/api/auth.ts,src/api/authenticate.ts,src/api/cloudflare-access.ts,src/api/body.ts,src/api/atis.ts,src/api/verdict-route.ts,src/verdict/verdict.ts,src/verdict/sip-label.ts,src/verdict/finding.ts,src/verdict/check.ts,src/verdict/deadline.ts",
};

interface Position {
  line: number;
  column: number;
}
interface Mutant {
  id: string;
  mutatorName: string;
  replacement?: string;
  status: string;
  statusReason?: string;
  killedBy?: string[];
  coveredBy?: string[];
  location: { start: Position; end: Position };
}
interface Report {
  files: Record<string, { mutants: Mutant[] }>;
  testFiles?: Record<string, { tests: { id: string }[] }>;
}

const args = process.argv.slice(2);
const mutateAt = args.indexOf("--mutate");
const narrowed = mutateAt >= 0 ? args.splice(mutateAt, 2)[1] : undefined;
// `--concurrency <n>`: Stryker's own option, for a machine whose cores another run shares (the config says 2).
const concurrencyAt = args.indexOf("--concurrency");
const concurrency = concurrencyAt >= 0 ? args.splice(concurrencyAt, 2)[1] : undefined;
const scope = args[0];
if (scope === undefined || !Object.hasOwn(SCOPES, scope) || args.length > 1) {
  console.error(`usage: npm run mutate:scope -- <${Object.keys(SCOPES).join("|")}> [--mutate <files>] [--concurrency <n>]`);
  process.exit(2);
}

const REPORTS = "reports/mutation";
const ALIVE = new Set(["Survived", "NoCoverage"]);
const readReport = (path: string) => JSON.parse(readFileSync(path, "utf8")) as Report;

function stryker(pass: "unit" | "full", mutate: string[], env: Record<string, string>): Report {
  const started = Date.now();
  const run = spawnSync("npx", ["stryker", "run", "--mutate", mutate.join(","), "--incrementalFile", `${REPORTS}/${scope}-${pass}-incremental.json`, ...(concurrency === undefined ? [] : ["--concurrency", concurrency])], { stdio: "inherit", env: { ...process.env, ...env } });
  console.log(`mutate:scope ${scope}: ${pass} pass ${run.status === 0 ? "done" : `failed (exit ${run.status})`} in ${((Date.now() - started) / 60_000).toFixed(1)} min`);
  if (run.status !== 0) process.exit(1);
  copyFileSync(`${REPORTS}/mutation.json`, `${REPORTS}/${scope}-${pass}.json`);
  return readReport(`${REPORTS}/${scope}-${pass}.json`);
}

/** A mutant's identity across two runs over the same source: where it is and what it makes of it. */
const keyOf = (file: string, { mutatorName, replacement, location: { start, end } }: Mutant) => `${file}:${start.line}:${start.column}-${end.line}:${end.column}:${mutatorName}:${replacement ?? ""}`;

// The real-world material (test/node/realworld) sits beside the repository, where Stryker's sandbox
// cannot see it: named absolutely, its lint pins and real paths judge the mutants too.
const realworld = process.env.SHAKEN_REALWORLD_DIR ?? resolve("../shared/realworld");
if (!existsSync(realworld)) console.warn(`mutate:scope: no real-world material at ${realworld} (set SHAKEN_REALWORLD_DIR): its tests will skip`);
const patterns = (narrowed ?? SCOPES[scope]!).split(",");
const unit = stryker("unit", patterns, { MUTATION_PASS: "unit", MUTATION_SCOPE: scope, SHAKEN_REALWORLD_DIR: realworld });
// The report also carries what earlier runs left in the incremental file: only this run's files go on.
for (const file of Object.keys(unit.files)) if (!patterns.some((pattern) => matchesGlob(file, pattern))) delete unit.files[file];
// Stryker's range columns count from 0, the report's from 1.
const spans = new Set(Object.entries(unit.files).flatMap(([file, { mutants }]) => mutants.filter(({ status }) => ALIVE.has(status)).map(({ location: { start, end } }) => `${file}:${start.line}:${start.column - 1}-${end.line}:${end.column - 1}`)));
if (spans.size === 0) {
  writeFileSync(`${REPORTS}/${scope}.json`, JSON.stringify(unit));
} else {
  // MUTATION_WORKER_SCOPE narrows the full pass to another of vitest.mutation.config.ts's test lists (e.g.
  // origin-roaming for a run over src/origin/roaming alone).
  const full = stryker("full", [...spans], { MUTATION_SCOPE: process.env.MUTATION_WORKER_SCOPE ?? scope, SHAKEN_REALWORLD_DIR: realworld });
  const verdicts = new Map(Object.entries(full.files).flatMap(([file, { mutants }]) => mutants.map((mutant) => [keyOf(file, mutant), mutant] as const)));
  // Test ids are per report: the merged report prefixes them with their pass.
  const prefixed = (ids: string[] | undefined, pass: string) => ids?.map((id) => `${pass}:${id}`);
  for (const [file, { mutants }] of Object.entries(unit.files)) {
    for (const mutant of mutants) {
      const verdict = ALIVE.has(mutant.status) ? verdicts.get(keyOf(file, mutant)) : undefined;
      if (verdict === undefined) {
        Object.assign(mutant, { killedBy: prefixed(mutant.killedBy, "unit"), coveredBy: prefixed(mutant.coveredBy, "unit") });
        if (ALIVE.has(mutant.status)) console.warn(`mutate:scope: the full pass did not test ${keyOf(file, mutant)}; kept as the unit pass left it`);
      } else {
        Object.assign(mutant, { status: verdict.status, statusReason: verdict.statusReason, killedBy: prefixed(verdict.killedBy, "full"), coveredBy: prefixed(verdict.coveredBy, "full") });
      }
    }
  }
  const testFiles: NonNullable<Report["testFiles"]> = {};
  for (const [pass, report] of [["unit", unit], ["full", full]] as const) {
    for (const [file, { tests, ...rest }] of Object.entries(report.testFiles ?? {})) {
      testFiles[file] = { ...rest, tests: [...(testFiles[file]?.tests ?? []), ...tests.map((test) => ({ ...test, id: `${pass}:${test.id}` }))] };
    }
  }
  writeFileSync(`${REPORTS}/${scope}.json`, JSON.stringify({ ...unit, testFiles }));
}
console.log(`mutate:scope ${scope}: report in ${REPORTS}/${scope}.json (npm run mutate:survivors -- ${REPORTS}/${scope}.json)`);
