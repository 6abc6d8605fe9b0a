/**
 * A check is one question the verifier asks of a call, answered with a stable id.
 * Every stage of the pipeline (STIR/SHAKEN verification, origin consistency, operator rules)
 * reports what it looked at as checks; the policy turns the failed ones into one verdict.
 */
export type CheckResult = "pass" | "fail" | "skip" | "warn";

export interface Check {
  /** Stable, machine-readable id, e.g. `passport.signature` or `origin.national-fixed-on-international`. */
  id: string;
  result: CheckResult;
  /** One sentence an analyst can read: what was found. */
  detail?: string;
  /** The facts behind the result (numbers compared, counts, certificate issuer, matched rule…). */
  evidence?: Record<string, unknown>;
}

/** How much a result says against the call: a failure most, then a warning, a pass, and a check not run least. */
const WEIGHT: Record<CheckResult, number> = { fail: 3, warn: 2, pass: 1, skip: 0 };

/** Whether `check` says more against the call than `other` (of the same question, about another number). */
export const outweighs = (check: Check, other: Check): boolean => WEIGHT[check.result] > WEIGHT[other.result];

export const pass = (id: string, detail?: string, evidence?: Record<string, unknown>): Check => ({ id, result: "pass", detail, evidence });
export const fail = (id: string, detail: string, evidence?: Record<string, unknown>): Check => ({ id, result: "fail", detail, evidence });
export const skip = (id: string, detail: string, evidence?: Record<string, unknown>): Check => ({ id, result: "skip", detail, evidence });
export const warn = (id: string, detail: string, evidence?: Record<string, unknown>): Check => ({ id, result: "warn", detail, evidence });
