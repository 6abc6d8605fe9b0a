import type { FixturePki } from "../setup/pki-fixtures";

// What test/setup/global-setup.ts provides to the worker tests.
declare module "vitest" {
  export interface ProvidedContext {
    pki: FixturePki;
    repositoryUrl: string;
  }
}
