import { defineConfig, type TestProjectConfiguration, type TestProjectInlineConfiguration } from "vitest/config";
import base from "./vitest.config";

/**
 * The Vitest configuration the mutation runs use (stryker.config.json, scripts/named-mutants.ts): the
 * projects of vitest.config.ts limited to the tests that judge the trust core, so that each mutant costs
 * a few test files rather than the whole suite. The worker tests run inside workerd as ever; the node
 * project contributes the certificate readers' own tests (TNAuthList encodings, the profile linter).
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

const NODE_TESTS = ["test/node/pki/tnauthlist.test.ts", "test/node/pki/lint.test.ts", "test/node/pki/sign-passport.test.ts"];

/** The project of vitest.config.ts named `name`, running only `include`. */
function limited(name: string, include: string[]): TestProjectInlineConfiguration {
  const project = base.test?.projects?.find((candidate: TestProjectConfiguration): candidate is TestProjectInlineConfiguration => typeof candidate === "object" && "test" in candidate && candidate.test?.name === name);
  if (!project) throw new Error(`vitest.config.ts has no project named ${name}`);
  return { ...project, test: { ...project.test, include } };
}

export default defineConfig({
  test: { projects: [limited("worker", WORKER_TESTS), limited("node", NODE_TESTS)] },
});
