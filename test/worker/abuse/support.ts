import type { CallerName } from "../../../src/verdict/caller-name";
import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { expect } from "vitest";
import type { createApp } from "../../../src/app";
import type { Check } from "../../../src/verdict/check";
import type { SipHeader } from "../../../src/verdict/verdict";
import { sbcAuth } from "../support/auth";

type App = ReturnType<typeof createApp>;

export interface VerdictBody {
  action: string;
  verstat: string;
  attest: string | null;
  sip: { code: number; reason: string } | null;
  headers: SipHeader[];
  decidedBy: string | null;
  label: string | null;
  callerName: CallerName | null;
  checks: Check[];
  deadline: { budgetMs: number; elapsedMs: number };
  stir: { verstat: string; reasoncode: number | null; reasontext: string | null; reasondesc: string | null; failedCheck: string | null };
  identities: {
    ppt: string | null;
    outcome: string;
    verstat: string;
    reasoncode: number | null;
    reasondesc: string | null;
    failedCheck: string | null;
    attest: string | null;
    origid: string | null;
    orig: string | null;
    dest: string[];
  }[];
}

/**
 * Posts a JSON call to `/v1/verdict` with an execution context, and (by default) waits for the work
 * the verdict left to `waitUntil` — counter batches, late certificate fetches — before returning, so
 * the next call sees its effect without any sleep.
 */
export async function verdictVia(app: App, body: unknown, bindings: object = env, options: { settle?: boolean } = {}): Promise<VerdictBody> {
  const context = createExecutionContext();
  const response = await app.request("/v1/verdict", { method: "POST", headers: { ...sbcAuth, "Content-Type": "application/json" }, body: JSON.stringify(body) }, bindings, context);
  if (options.settle !== false) await waitOnExecutionContext(context);
  expect(response.status).toBe(200);
  return ((await response.json()) as { verdict: VerdictBody }).verdict;
}

export const checkOf = (verdict: VerdictBody, id: string): Check | undefined => verdict.checks.find((check) => check.id === id);


/**
 * Reads the verdict's own account of its wall time — the only timing a test may read (issue 5): it
 * answered sooner than `dependencyMs`, what the slow or stuck dependency would have made it wait.
 */
export const answeredBefore = (verdict: VerdictBody, dependencyMs: number): boolean => verdict.deadline.elapsedMs < dependencyMs;
