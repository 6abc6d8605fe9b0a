import type { NormalizedCall } from "../call/call";
import { calledNumber, otherPresentedCallers } from "../call/normalize";
import { keepRecentVerdict } from "../dashboard/recent-verdicts";
import type { BackgroundWork } from "../lib/timeout";
import { scheduleMetricsFlush } from "../metrics/isolate-counters";
import { recordVerdictMetrics, recordVerificationMetrics } from "../metrics/record";
import type { ClassifiedIngress } from "../origin/ingress";
import { UNKNOWN_CARRIER } from "../stats/record";
import type { CallVerification } from "../verification/verify-call";
import type { CallerName } from "../verdict/caller-name";
import type { Verdict } from "../verdict/verdict";
import { logVerdict, type VerdictLogEnv } from "./verdict-log";

export interface ObservedVerdict {
  call: NormalizedCall;
  verdict: Verdict;
  /** From's display name and whether the callee is shown it; null when From has none. */
  callerName?: CallerName | null;
  verification: CallVerification;
  ingress: ClassifiedIngress;
  atMs: number;
  elapsedMs: number;
}

export interface ObserverDeps extends BackgroundWork {
  env: VerdictLogEnv & { DB: D1Database };
}

/**
 * What operators see of a verdict once it is answered: its JSON log line, its Prometheus counters and
 * its row among the dashboard's recent verdicts. Counting is in memory; every write runs after the
 * response, so none of it adds to the call's post-dial delay.
 */
export function observeVerdict({ call, verdict, callerName, verification, ingress, atMs, elapsedMs }: ObservedVerdict, { env, waitUntil, timeoutMs }: ObserverDeps): void {
  const cli = call.cli?.tn ?? null;
  const destination = calledNumber(call);
  const carrier = ingress.carrierName ?? ingress.carrier ?? UNKNOWN_CARRIER;

  recordVerdictMetrics({ action: verdict.action, monitored: verdict.monitored, checks: verdict.checks, elapsedMs, callerName: callerName?.presentation ?? null });
  recordVerificationMetrics("verdict", verification);
  scheduleMetricsFlush(env.DB, { waitUntil, timeoutMs });

  // The monitored list is absent from a verdict with none (src/verdict/policy.ts), and so from what is kept of it.
  const monitored = verdict.monitored ? { monitored: verdict.monitored } : {};
  const others = otherPresentedCallers(call);
  const fromCli = others.find(({ presentedIn }) => presentedIn === "From")?.party.tn;
  const assertedCli = others.find(({ presentedIn }) => presentedIn === "P-Asserted-Identity")?.party.tn;
  const claimedClis = others.filter(({ presentedIn }) => presentedIn === "Remote-Party-ID" || presentedIn === "P-Preferred-Identity").map(({ party }) => party.tn);
  keepRecentVerdict(
    {
      requestId: verdict.requestId,
      atMs,
      cli,
      ...(fromCli ? { fromCli } : {}),
      ...(assertedCli ? { assertedCli } : {}),
      ...(claimedClis.length > 0 ? { claimedClis } : {}),
      // An analyst looks a reported "Halyk Bank" call up by what the callee was shown.
      ...(callerName ? { callerName: { presented: callerName.presented, presentation: callerName.presentation } } : {}),
      destination,
      action: verdict.action,
      verstat: verdict.verstat,
      signed: call.identity.length > 0,
      attest: verdict.attest,
      decidedBy: verdict.decidedBy,
      ...monitored,
      carrier,
      ingress: { trunk: ingress.trunk, carrier: ingress.carrier, carrierName: ingress.carrierName, international: ingress.kind === "international" },
      elapsedMs,
      checks: verdict.checks,
    },
    { db: env.DB, waitUntil, timeoutMs },
  );
  waitUntil(
    logVerdict(
      {
        requestId: verdict.requestId,
        cli,
        destination,
        action: verdict.action,
        verstat: verdict.verstat,
        attest: verdict.attest,
        decidedBy: verdict.decidedBy,
        ...monitored,
        failedChecks: verdict.checks.filter((check) => check.result === "fail").map((check) => check.id),
        ingressCarrier: ingress.carrierName ?? ingress.carrier,
        ingressTrunk: ingress.trunk,
        elapsedMs,
      },
      env,
    ),
  );
}
