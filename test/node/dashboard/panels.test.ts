import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";

/**
 * The dashboard's script as the browser runs it, with every DOM and storage object it touches while
 * loading standing in as a do-anything stub; the test reads the functions it declares.
 */
function loadDashboardScript(): { isRepositoryFailure: (check: string) => boolean } {
  const script = readFileSync(join(import.meta.dirname, "../../../src/dashboard/assets/dashboard.js"), "utf8");
  const anything: unknown = new Proxy(function stub() {}, { get: (_, key) => (key === Symbol.toPrimitive ? () => "" : anything), apply: () => anything, construct: () => anything as object });
  const context: Record<string, unknown> = { document: anything, sessionStorage: anything, window: anything, location: anything, fetch: anything, uPlot: anything };
  runInNewContext(`${script}\n;globalThis.exported = { isRepositoryFailure };`, context);
  return context.exported as { isRepositoryFailure: (check: string) => boolean };
}

describe('the dashboard\'s "Certificate repository failures" panel (issue 23 item 3)', () => {
  const { isRepositoryFailure } = loadDashboardScript();

  it("counts what the repository served and the credential in it", () => {
    for (const check of ["x5u.fetch", "x5u.policy", "x5u.content", "certificate.chain", "certificate.validity", "certificate.tnauthlist"]) expect(isRepositoryFailure(check)).toBe(true);
  });

  it("does not list revocation results, nor checks of other stages", () => {
    for (const check of ["certificate.revocation", "passport.signature", "store.trust", "origin.national-on-international"]) expect(isRepositoryFailure(check)).toBe(false);
  });
});
