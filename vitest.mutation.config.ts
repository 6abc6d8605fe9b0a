import { defineConfig, type TestProjectConfiguration, type TestProjectInlineConfiguration } from "vitest/config";
import base from "./vitest.config";

/**
 * The Vitest configuration the mutation runs use (stryker.config.json, scripts/named-mutants.ts): the
 * worker project of vitest.config.ts, inside workerd as ever, limited to the tests that judge the trust
 * core, so that each mutant costs a few test files rather than the whole suite.
 */
const MUTATION_TESTS = [
  "test/worker/verification/**/*.test.ts",
  "test/worker/certificate/**/*.test.ts",
  "test/worker/identity/**/*.test.ts",
  "test/worker/abuse/replay*.test.ts",
  "test/worker/rules/**/*.test.ts",
  "test/worker/admin/rules-api.test.ts",
  "test/worker/api/**/*.test.ts",
  "test/worker/security/{caller-id-smuggling,dependency-faults,peer-controlled-invite,repository-faults,ssrf}.test.ts",
];

const isWorkerProject = (project: TestProjectConfiguration): project is TestProjectInlineConfiguration =>
  typeof project === "object" && "test" in project && project.test?.name === "worker";

const worker = base.test?.projects?.find(isWorkerProject);
if (!worker) throw new Error("vitest.config.ts has no project named worker");

export default defineConfig({
  test: { projects: [{ ...worker, test: { ...worker.test, include: MUTATION_TESTS } }] },
});
