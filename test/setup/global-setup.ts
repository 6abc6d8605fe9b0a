import type { TestProject } from "vitest/node";
import { buildFixturePki } from "./pki-fixtures";
import "../worker/provided-context";
import { startTestRepository } from "./test-repository";

/** Runs in Node before the worker tests: builds the fixture PKI with our own issuing code and starts a repository. */
export default async function setup(project: TestProject) {
  const [pki, repository] = await Promise.all([buildFixturePki(), startTestRepository()]);
  project.provide("pki", pki);
  project.provide("repositoryUrl", repository.url);
  return () => repository.close();
}
