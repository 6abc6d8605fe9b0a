import type { CertificateSource } from "../certificate/certificate-source";
import { unavailableTrust, type TrustMaterial, type TrustSource } from "../certificate/trust-store";
import { withTimeout } from "../lib/timeout";
import { findingFor } from "../origin/policy";
import { VerificationError } from "../verification/outcomes";
import type { VerifierOptions } from "../verification/verify-identity";
import { fail, warn, type Check } from "./check";
import type { Finding } from "./finding";
import type { Action } from "./verdict";

/**
 * The dependencies a verdict waits on, each with the check id its trouble is reported under:
 * `deadline.*` for the network services strangers or partners run (the certificate repository named
 * in x5u, the roaming source), `store.*` for our own storage (KV trust set, D1 rules, the replay and
 * velocity Durable Objects), which fail by being slow or by throwing.
 */
export const DEPENDENCY_CHECK_IDS = {
  x5u: "deadline.x5u",
  roaming: "deadline.roaming",
  trust: "store.trust",
  rules: "store.rules",
  replay: "store.replay",
  velocity: "store.velocity",
} as const;
export type Dependency = keyof typeof DEPENDENCY_CHECK_IDS;
export const DEPENDENCIES = Object.keys(DEPENDENCY_CHECK_IDS) as Dependency[];

/** What the operator wants done with a call whose verdict a dependency could not complete (fail-open: allow/tag; fail-closed: block). */
export type DependencyPolicy = Record<Dependency, Action>;

/**
 * Fail-open by default: a slow or broken dependency is reported, and the call goes through on what
 * the verdict still knows. A repository that does not answer in time leaves the call unverified, so it
 * is tagged, as the STIR policy tags any unverified call; the roaming source's own failure already
 * meets the `origin.roaming:unknown` entry of the policy table; a store outage degrades to the last
 * compiled rules and cached certificates, which is worth reporting but not worth penalising the caller.
 */
export const DEFAULT_DEPENDENCY_POLICY: DependencyPolicy = { x5u: "tag", roaming: "allow", trust: "allow", rules: "allow", replay: "allow", velocity: "allow" };

export interface DependencyTrouble {
  dependency: Dependency;
  problem: "timeout" | "error";
  detail: string;
  evidence?: Record<string, unknown>;
}

export type BackgroundTasks = (promise: Promise<unknown>) => void;

/** Issue 5: a verdict answers within 250 ms of wall time unless VERDICT_BUDGET_MS says otherwise. */
export const DEFAULT_VERDICT_BUDGET_MS = 250;

/**
 * One verdict's time budget (issue 5 "Deadlines and failure policy"): every dependency the verdict
 * waits on is raced against what is left of it, so the answer comes within the budget whatever the
 * dependencies do, and each dependency that was slow or down is remembered for the verdict to report.
 * Work that loses the race is not cancelled but handed to `waitUntil`: a certificate fetch or a rules
 * load that finishes late still fills its cache for the next call.
 */
export class Deadline {
  readonly troubles: DependencyTrouble[] = [];
  private readonly startedAt: number;
  private expired: Promise<"late"> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private waiting = 0;

  // Wall time, not the injected decision clock: the budget is about how long the SBC waits.
  constructor(
    readonly budgetMs: number,
    private readonly background: BackgroundTasks,
  ) {
    this.startedAt = performance.now();
  }

  elapsedMs(): number {
    return Math.max(0, Math.round(performance.now() - this.startedAt));
  }

  remainingMs(): number {
    return Math.max(0, this.budgetMs - (performance.now() - this.startedAt));
  }

  /**
   * The work's value when it settles within the remaining budget; otherwise what `fallback` makes of
   * the trouble (a stale value, or a thrown verification error). A rejection is a trouble too.
   * `atLeastMs` gives the work that long even when less of the budget is left: for a check whose skip
   * would let a call through, which what ran before it (a repository the caller named) must not starve.
   */
  async within<T>(dependency: Dependency, start: () => Promise<T>, fallback: (trouble: DependencyTrouble) => T, atLeastMs = 0): Promise<T> {
    // A binding that throws synchronously is a rejection too; `settled` never rejects, so work failing
    // after the race is lost is no unhandled rejection.
    const settled = new Promise<T>((resolve) => resolve(start())).then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    const pastBudget = this.remainingMs() < atLeastMs;
    // `settled` never rejects: the only rejection withTimeout can give is its own, the work being late.
    const outcome = pastBudget ? await withTimeout(settled, atLeastMs, dependency).catch(() => "late" as const) : await this.raceBudget(settled);
    let trouble: DependencyTrouble;
    if (outcome === "late") {
      this.background(settled);
      const detail = pastBudget ? `no answer within the ${atLeastMs} ms it is given whatever is left of the ${this.budgetMs} ms verdict budget` : `no answer within the ${this.budgetMs} ms verdict budget`;
      trouble = { dependency, problem: "timeout", detail, evidence: { budgetMs: this.budgetMs, elapsedMs: this.elapsedMs() } };
    } else if (outcome.ok) {
      return outcome.value;
    } else {
      trouble = { dependency, problem: "error", detail: describeError(outcome.error), evidence: { elapsedMs: this.elapsedMs() } };
    }
    this.report(trouble);
    return fallback(trouble);
  }

  private async raceBudget<T>(settled: Promise<T>): Promise<T | "late"> {
    this.waiting++;
    const outcome = await Promise.race([settled, this.expiry()]);
    if (--this.waiting === 0) this.disarm();
    return outcome;
  }

  /**
   * The moment the budget runs out: one timer shared by the dependencies the verdict waits on at the
   * same time (a timer per dependency was a measurable share of a warm verification's CPU), cleared
   * when none is waiting any more.
   */
  private expiry(): Promise<"late"> {
    this.expired ??= new Promise((resolve) => {
      this.timer = setTimeout(() => resolve("late"), this.remainingMs());
    });
    return this.expired;
  }

  private disarm(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.expired = null;
  }

  /** Records a dependency's trouble once per verdict (a call with two PASSporTs meets a dead store twice). */
  report(trouble: DependencyTrouble): void {
    if (!this.troubles.some((known) => known.dependency === trouble.dependency)) this.troubles.push(trouble);
  }
}

const DEGRADED_LABEL = "Caller ID checks incomplete";

/** The verdict's account of its dependencies: a check per trouble, and the finding its policy asks for. */
export function dependencyChecks(deadline: Deadline, policy: DependencyPolicy): { checks: Check[]; findings: Finding[] } {
  const checks: Check[] = [];
  const findings: Finding[] = [];
  for (const trouble of deadline.troubles) {
    const id = DEPENDENCY_CHECK_IDS[trouble.dependency];
    const action = policy[trouble.dependency];
    const evidence = { dependency: trouble.dependency, problem: trouble.problem, policy: action, ...trouble.evidence };
    const detail = `${trouble.dependency}: ${trouble.detail}`;
    checks.push(action === "allow" ? warn(id, detail, evidence) : fail(id, detail, evidence));
    const finding = findingFor(id, action, detail, { label: DEGRADED_LABEL });
    if (finding) findings.push(finding);
  }
  return { checks, findings };
}

export function describeError(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 200);
}

/** What a verdict falls back on when the store has not answered yet in this isolate: no trust set, so the credential is not judged. */
const NO_TRUST = unavailableTrust("trust store unavailable");
const lastTrust = new WeakMap<TrustSource, TrustMaterial>();

/**
 * The verifier's dependencies held to the verdict's deadline: the certificate repository (x5u) and the
 * trust set. The effective x5u timeout is min(X5U_FETCH_TIMEOUT_MS, what is left of the budget): the
 * fetch keeps its own timeout and, when the budget runs out first, finishes in the background and
 * fills the cache for the next call.
 */
export function boundVerifier(options: VerifierOptions, deadline: Deadline): VerifierOptions {
  const certificates: CertificateSource = {
    async credential(x5u, call) {
      // A credential already in the isolate's cache needs no race against the budget.
      const cached = options.certificates.cached?.(x5u);
      if (cached) return cached;
      // A repository that answered badly is the x5u.fetch outcome (436), not trouble with the dependency.
      const answered = () => options.certificates.credential(x5u, call).catch((error: unknown) => (error instanceof VerificationError ? error : Promise.reject(error)));
      const credential = await deadline.within("x5u", answered, (trouble) => {
        const detail = trouble.problem === "timeout" ? `repository did not answer within the ${deadline.budgetMs} ms verdict budget` : `certificate source failed: ${trouble.detail}`;
        return new VerificationError("X5U_FETCH_FAILED", detail, trouble.evidence);
      });
      if (credential instanceof VerificationError) throw credential;
      return credential;
    },
  };
  const trust: TrustSource = {
    async current() {
      const material = options.trust.fresh?.() ?? (await deadline.within("trust", () => options.trust.current(), () => lastTrust.get(options.trust) ?? NO_TRUST));
      if (material.staleBecause === null) lastTrust.set(options.trust, material);
      else deadline.report({ dependency: "trust", problem: "error", detail: material.staleBecause, evidence: { trustVersion: material.version } });
      return material;
    },
  };
  return { ...options, certificates, trust };
}
