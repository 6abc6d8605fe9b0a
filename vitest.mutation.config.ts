import { defineConfig, type TestProjectConfiguration, type TestProjectInlineConfiguration } from "vitest/config";
import base from "./vitest.config";

/**
 * The Vitest configuration the mutation runs use (stryker.config.json, scripts/named-mutants.ts): the
 * projects of vitest.config.ts limited to the tests that judge the trust core, so that each mutant costs
 * a few test files rather than the whole suite. The worker tests run inside workerd as ever; the node
 * project contributes the certificate readers' own tests (TNAuthList encodings, the profile linter).
 *
 * Unlike `npm test`, the worker tests share one workerd across test files (`isolate: false`): a fresh
 * workerd and module graph per file was most of each mutant's cost (95 tests in six files: 46.6 s
 * isolated, 20.3 s shared). The files that depend on a fresh isolate — they read state an isolate keeps
 * between requests (the last good trust set, the policy table, exact-number rule hits) — run isolated
 * as ever. A survivor is always re-checked by applying it by hand and running its tests under
 * `npm test`'s own isolation (docs/mutation.md), so state shared between files can hide nothing.
 */
const WORKER_TESTS = [
  "test/worker/verification/**/*.test.ts",
  "test/worker/certificate/**/*.test.ts",
  "test/worker/identity/**/*.test.ts",
  "test/worker/abuse/replay*.test.ts",
  "test/worker/rules/**/*.test.ts",
  "test/worker/admin/rules-api.test.ts",
  "test/worker/api/**/*.test.ts",
  "test/worker/security/{caller-id-smuggling,dependency-faults,peer-controlled-invite,repository-faults,ssrf}.test.ts",
];

/** Test files that need an isolate of their own: they fail when an earlier file warmed its caches. */
const NEEDS_OWN_ISOLATE = [
  "test/worker/api/verdict-sip-treatment.test.ts",
  "test/worker/rules/keyed-reads.test.ts",
  "test/worker/security/dependency-faults.test.ts",
];

const NODE_TESTS = ["test/node/pki/tnauthlist.test.ts", "test/node/pki/lint.test.ts", "test/node/pki/sign-passport.test.ts"];

/** The project of vitest.config.ts named `name`, running only `include`. */
function limited(name: string, include: string[], test: { name?: string; exclude?: string[]; isolate?: boolean } = {}): TestProjectInlineConfiguration {
  const project = base.test?.projects?.find((candidate: TestProjectConfiguration): candidate is TestProjectInlineConfiguration => typeof candidate === "object" && "test" in candidate && candidate.test?.name === name);
  if (!project) throw new Error(`vitest.config.ts has no project named ${name}`);
  return { ...project, test: { ...project.test, include, ...test, exclude: [...(project.test?.exclude ?? ["**/node_modules/**", "**/.git/**"]), ...(test.exclude ?? [])] } };
}

export default defineConfig({
  test: {
    projects: [
      limited("worker", WORKER_TESTS, { isolate: false, exclude: NEEDS_OWN_ISOLATE }),
      limited("worker", NEEDS_OWN_ISOLATE, { name: "worker-isolated" }),
      limited("node", NODE_TESTS),
    ],
  },
});
