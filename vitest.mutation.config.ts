import { defineConfig, type TestProjectConfiguration, type TestProjectInlineConfiguration } from "vitest/config";
import base from "./vitest.config";

/**
 * The Vitest configuration the mutation runs use (stryker.config.json, scripts/mutate-scope.ts,
 * scripts/named-mutants.ts): the projects of vitest.config.ts limited to the tests that judge the trust
 * core, so that each mutant costs a few test files rather than the whole suite.
 *
 * A run over one part of the core (`npm run mutate:scope -- rules`) goes in two passes:
 * - `MUTATION_PASS=unit`: the first, cheap pass. Only the tests that need no Workers binding run, all in
 *   Node, where a mutant costs milliseconds instead of workerd isolates.
 * - `MUTATION_SCOPE=<scope>`: the full pass, over what the first left alive (scripts/mutate-scope.ts names
 *   each of those mutants by its exact span). The worker tests run inside workerd as ever, narrowed to those
 *   that judge the scope: a mutant of the rule matcher is covered by every test that asks for a verdict,
 *   and in a rules run only the rules' own tests run against it, which is what makes the run affordable.
 *   Each survivor is then applied by hand: a test written for it must go red, or it is explained as
 *   equivalent (docs/mutation.md).
 * Without either variable, every scope's worker tests and the Node tests run (`npm run mutate`).
 */
const WORKER_TESTS = {
  verification: [
    "test/worker/verification/**/*.test.ts",
    "test/worker/identity/**/*.test.ts",
    "test/worker/api/**/*.test.ts",
    "test/worker/security/{caller-id-smuggling,dependency-faults,peer-controlled-invite,repository-faults,ssrf,trust-anchor-bounds}.test.ts",
  ],
  passport: ["test/worker/verification/**/*.test.ts", "test/worker/identity/**/*.test.ts"],
  replay: ["test/worker/abuse/{replay*,presentation-ledger}.test.ts", "test/worker/verification/call-level.test.ts"],
  certificate: [
    "test/worker/certificate/**/*.test.ts",
    "test/worker/verification/{path-validation,trust-and-revocation,tn-scoped-certificates,certificate-repository,identity-reporting,e164-claims}.test.ts",
    "test/worker/admin/trust-audit.test.ts",
    "test/worker/security/{dependency-faults,repository-faults,ssrf,trust-anchor-bounds}.test.ts",
  ],
  rules: [
    "test/worker/rules/**/*.test.ts",
    "test/worker/admin/{rules-api,rule-preview,rule-hits,number-spellings,idempotency,query-validation}.test.ts",
    "test/worker/origin/{checks,snapshot}.test.ts",
    "test/worker/api/monitor-mode.test.ts",
  ],
  // The unsigned-call trust decisions (checks 1–9, the policy table) and the verdict policy: the tests
  // that ask for a verdict's action, SIP code, checks or evidence on a call the origin checks judge.
  origin: [
    "test/worker/origin/**/*.test.ts",
    "test/worker/security/{attestation-vouching,caller-id-smuggling,presented-numbers,unreadable-request-uri,number-spellings,config-outage,camara-hosts,peer-controlled-invite,sip-free-text}.test.ts",
    "test/worker/api/{monitor-mode,verdict-sip-treatment}.test.ts",
    "test/worker/admin/{config-prefixes,ingress-config,roaming-config,roaming-table}.test.ts",
  ],
  // The origin scope's tests that judge the roaming sources (check 6, the roaming settings and table): a
  // full pass over src/origin/roaming alone runs these (MUTATION_WORKER_SCOPE=origin-roaming), a quarter of
  // the origin scope's files, which is what makes its ~225 mutants affordable on two cores.
  // Which number a call presents, and whether the callee may see From's name: the SIP readers, the
  // call's normalisation and the caller-name decision (src/sip, src/call, src/numbers, src/verdict/caller-name.ts),
  // judged through the verdicts that read a hostile From, P-Asserted-Identity, Request-URI or INVITE.
  call: [
    "test/worker/security/{caller-id-smuggling,caller-name,presented-numbers,number-spellings,peer-controlled-invite,sip-free-text,unreadable-request-uri,peer-text-bounds}.test.ts",
    "test/worker/api/{verdict-sip-treatment,verdict-privacy,verdict-request-errors,body}.test.ts",
    "test/worker/verification/invite-and-div.test.ts",
  ],
  // Between the SBC and the trust core (src/identity/identity-header.ts, src/api/{auth,authenticate,
  // cloudflare-access,body,atis,verdict-route}.ts, src/verdict/{verdict,sip-label,finding,check,deadline}.ts):
  // who may call which route, the ATIS-1000082 and /v1/verdict requests and responses, a dependency held
  // to the verdict's budget.
  edge: [
    "test/worker/identity/identity-header.test.ts",
    "test/worker/api/{atis-errors,atis-request,body,responses,verdict-request-errors,verdict-route,verdict-sip-treatment}.test.ts",
    "test/worker/security/{auth-matrix,authentication-first,cloudflare-access,credentials,roles,dependency-faults,duplicate-members}.test.ts",
    "test/worker/verification/outcomes.test.ts",
  ],
  // The edge scope's tests that judge who may call the API (src/api/{auth,authenticate,cloudflare-access}.ts):
  // every request passes the authentication, so every test covers those mutants; a full pass over those
  // files alone runs these (MUTATION_WORKER_SCOPE=edge-auth).
  "edge-auth": ["test/worker/security/{auth-matrix,authentication-first,cloudflare-access,credentials,roles}.test.ts"],
  // The edge scope's tests that judge the ATIS-1000082 endpoint's reading of a request and its answer
  // (src/api/atis.ts): a full pass over that file alone runs these (MUTATION_WORKER_SCOPE=edge-atis).
  "edge-atis": ["test/worker/api/{atis-errors,atis-request}.test.ts", "test/worker/security/duplicate-members.test.ts"],
  // The number patterns (src/numbering) and the velocity counters (src/abuse/velocity*): the pattern index
  // and classification, the rules that match patterns, the plan's checks (format, type, DNO, spellings)
  // and every velocity test but load.test.ts (a minute per run, and its counts are the ones velocity.test.ts pins).
  numbering: [
    "test/worker/numbering/**/*.test.ts",
    "test/worker/abuse/{velocity,velocity-storage,saves-after-storage-faults}.test.ts",
    "test/worker/rules/{matcher,criteria-combined,rule-schema}.test.ts",
    "test/worker/origin/{checks,verdict-kazakh}.test.ts",
    "test/worker/security/{number-spellings,presented-numbers}.test.ts",
    "test/worker/admin/{number-spellings,config-prefixes}.test.ts",
  ],
  // What analysts write (src/admin/{routes,http,idempotency,audit-log,trust-audit}.ts, src/reports): each
  // write validated, replayed under its Idempotency-Key, audited with its actor, paged, and conditioned on
  // the version read. Only the admin routes' and reports' own tests: every admin test covers http.ts.
  operator: [
    "test/worker/admin/{idempotency,audit-identity,reports-and-stats,reports-api,conditional-writes,rules-api,rules-paging,trust-audit,query-validation,roaming-table}.test.ts",
  ],
  "origin-roaming": [
    "test/worker/origin/{roaming,roaming-timeouts,checks,verdict-kazakh}.test.ts",
    "test/worker/security/camara-hosts.test.ts",
    "test/worker/admin/{roaming-config,roaming-table}.test.ts",
  ],
  // The tests that judge how the operator's configuration reaches a verdict (src/origin/snapshot.ts,
  // saved-snapshot.ts, deps.ts, ingress.ts): the snapshot cache's reloads, the copy saved in KV, D1 slow
  // or down, the keyed reads, the ingress map. A full pass over those files alone runs these
  // (MUTATION_WORKER_SCOPE=origin-snapshot).
  "origin-snapshot": [
    "test/worker/origin/{snapshot,saved-snapshot,deps,checks,roaming,verdict-kazakh}.test.ts",
    "test/worker/security/{snapshot-recovery,stuck-stores,config-outage,dependency-faults,camara-hosts}.test.ts",
    "test/worker/rules/keyed-reads.test.ts",
    "test/worker/admin/ingress-config.test.ts",
  ],
  // The operator's configuration (src/config.ts, src/abuse/{settings,shard}.ts) and the wiring that hands
  // it to the runtime (src/runtime.ts, src/api/request-id.ts): the tests that set a variable and read what
  // it changes (freshness, x5u hosts and limits, CRL mode, strict profile, the trust refresh, replay,
  // velocity, policy mode, caller names, the budget and dependency policy, retention), refuse an invalid
  // one with ERR_CONFIG naming it, or read X-RequestID.
  config: [
    "test/worker/verification/{freshness,certificate-repository,trust-and-revocation,identity-reporting}.test.ts",
    "test/worker/abuse/{replay,replay-judgement,velocity,shard}.test.ts",
    "test/worker/api/{monitor-mode,verdict-sip-treatment,responses,atis-errors}.test.ts",
    "test/worker/security/{caller-name,authentication-first,config-outage,ssrf,x5u-amplification,dependency-faults,stuck-background,shared-cache-keys}.test.ts",
    "test/worker/admin/stats-retention.test.ts",
    "test/worker/certificate/crl-refresh.test.ts",
  ],
  // The stores failing (src/lib/{write-behind,background-writes,durable-storage,timeout,storage-rows,
  // strict-json}.ts, src/dashboard/recent-verdicts.ts, src/stats/{record,retention}.ts): D1 or a Durable
  // Object refusing, slow or never answering, what is kept for the next flush and what is dropped and
  // counted, the rows each store reports, the recent verdicts' pages and the statistics' retention.
  stores: [
    "test/worker/security/{stuck-stores,stuck-background,busy-flush,slow-stats-flush,store-outage,peer-text-bounds}.test.ts",
    "test/worker/metrics/{loss-bounds,store-rows}.test.ts",
    "test/worker/dashboard/recent-verdicts-storage.test.ts",
    "test/worker/admin/{stats-pages,stats-retention}.test.ts",
    "test/worker/abuse/saves-after-storage-faults.test.ts",
    "test/worker/lib/{timeout,durable-storage}.test.ts",
    "test/worker/identity/strict-json.test.ts",
  ],
} as const satisfies Record<string, readonly string[]>;

/** The trust core's unit tests that run in Node. */
const NODE_TESTS = ["test/node/pki/{tnauthlist,lint,lint-*,sign-passport}.test.ts", "test/node/cli/lint.test.ts", "test/node/realworld/{lint,paths}.test.ts"];

/** The worker tests also able to run in Node: they import the trust core's pure modules and no binding. */
const PURE_WORKER_TESTS = ["test/worker/rules/{matcher,criteria-combined,keyed-index,time-window,rule-schema}.test.ts", "test/worker/abuse/{presentation-ledger,replay-check}.test.ts", "test/worker/origin/checks.test.ts", "test/worker/verdict/decide.test.ts", "test/worker/certificate/{x5u-policy,path-validity,path-search,distinguished-name,revocation,pem-chain,trust-format,trust-source,crl-refresh-unit,fetch-bounded,certificate-cache}.test.ts"];

/**
 * The unit pass of a call run: the SIP readers' and the call's own Node tests (grammar cross-checks and
 * fuzzing included), the telephone-number canonicalisation, and the real INVITEs. The trust core's other
 * Node tests read no SIP; they would only lengthen the dry run. compiled-grammar.test.ts compares the
 * generated grammar with its file byte for byte, which Stryker's sandbox changes (`// @ts-nocheck`).
 */
const CALL_UNIT_TESTS = ["test/node/sip/{address,invite,privacy}.test.ts", "test/node/call/**/*.test.ts", "test/node/verdict/**/*.test.ts", "test/node/fuzz/parsers.test.ts", "test/node/realworld/invites.test.ts", "test/worker/numbers/telephone-number.test.ts"];

/**
 * The unit pass of an edge run: the tests of the scope's pure modules (the Identity header's parser, the
 * body reader, the verdict's decision and deadline) and the parser fuzzing. Bearer keys are compared with
 * workerd's `crypto.subtle.timingSafeEqual`, which Node lacks: authentication is judged in the full pass.
 */
const EDGE_UNIT_TESTS = ["test/worker/identity/identity-header.test.ts", "test/node/fuzz/parsers.test.ts", "test/worker/verdict/decide.test.ts", "test/worker/api/body.test.ts", "test/node/verdict/{deadline,sip-label}.test.ts"];

function workerTests(scope: string | undefined): string[] {
  if (scope === undefined || scope === "") return [...new Set(Object.values(WORKER_TESTS).flat())];
  if (!Object.hasOwn(WORKER_TESTS, scope)) throw new Error(`MUTATION_SCOPE=${scope}: expected one of ${Object.keys(WORKER_TESTS).join(", ")}`);
  return [...WORKER_TESTS[scope as keyof typeof WORKER_TESTS]];
}

/** The project of vitest.config.ts named `name`, running only `include`. */
function limited(name: string, include: string[]): TestProjectInlineConfiguration {
  const project = base.test?.projects?.find((candidate: TestProjectConfiguration): candidate is TestProjectInlineConfiguration => typeof candidate === "object" && "test" in candidate && candidate.test?.name === name);
  if (!project) throw new Error(`vitest.config.ts has no project named ${name}`);
  return { ...project, test: { ...project.test, include } };
}

/**
 * The unit pass of an origin run leaves out the certificate tests: they judge certificates, not origin, and
 * with the roaming sources instrumented Stryker's dry run timed fetch-bounded.test.ts's "waits past the
 * timeout" out at 30 s (it passes in plain Vitest), which stopped the run before it began.
 */
const pureWorkerTests = process.env.MUTATION_SCOPE === "origin" ? PURE_WORKER_TESTS.filter((glob) => !glob.startsWith("test/worker/certificate/")) : PURE_WORKER_TESTS;

/**
 * The unit pass of a numbering run: the pure tests that read number patterns, classify numbers or count
 * velocity (the PKI's Node tests read no number pattern; they would only lengthen the dry run).
 */
const NUMBERING_UNIT_TESTS = ["test/worker/numbering/**/*.test.ts", "test/worker/rules/{matcher,criteria-combined,rule-schema}.test.ts", "test/worker/origin/checks.test.ts", "test/node/abuse/**/*.test.ts"];

/**
 * The unit pass of an operator run: every file of the scope reads or writes D1, so no Node test judges
 * it; one small pure test keeps the pass running (Vitest refuses a run with no test file), and every
 * mutant goes on to the full pass.
 */
const OPERATOR_UNIT_TESTS = ["test/node/verdict/sip-label.test.ts"];

/**
 * The unit pass of a stores run: the pure tests of the write-behind, the cache writes' bound, withTimeout,
 * the strict JSON reader, and the velocity tracker's write-behind against a store that answers what a test says.
 */
const STORES_UNIT_TESTS = ["test/node/lib/{background-writes,write-behind}.test.ts", "test/worker/lib/timeout.test.ts", "test/worker/identity/strict-json.test.ts", "test/node/abuse/velocity-tracker.test.ts"];

/**
 * The unit pass of a config run: the configuration's own Node tests (test/node/config), the shards' and
 * X-RequestID's, and the CLI's `calls replay` and `passport verify`, which read the same variables with
 * readVerifierConfig in Node. src/runtime.ts builds the Workers bindings' clients: judged in the full pass.
 */
const CONFIG_UNIT_TESTS = ["test/node/config/**/*.test.ts", "test/node/abuse/shard.test.ts", "test/node/api/request-id.test.ts", "test/node/cli/{calls-replay,passport}.test.ts"];

const UNIT_TESTS: Record<string, string[]> = { call: CALL_UNIT_TESTS, config: CONFIG_UNIT_TESTS, edge: EDGE_UNIT_TESTS, numbering: NUMBERING_UNIT_TESTS, operator: OPERATOR_UNIT_TESTS, stores: STORES_UNIT_TESTS };
const unitTests = UNIT_TESTS[process.env.MUTATION_SCOPE ?? ""] ?? [...NODE_TESTS, ...pureWorkerTests];
const nodeOnly = defineConfig({ test: { include: unitTests, environment: "node", testTimeout: 30_000 } });

export default process.env.MUTATION_PASS === "unit"
  ? nodeOnly
  : defineConfig({ test: { projects: [limited("worker", workerTests(process.env.MUTATION_SCOPE)), limited("node", NODE_TESTS)] } });
