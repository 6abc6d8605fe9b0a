import { ConfigError, settingText } from "../config";
import type { Action, Attestation, MonitoredAction, Verstat } from "../verdict/verdict";
import { numberRenderer, type NumberLoggingEnv } from "./numbers";

export interface VerdictLogEnv extends NumberLoggingEnv {
  /** `true` (the default) or `false`: whether each verdict writes its log line. Written without quotes in wrangler.toml it is a boolean. */
  LOG_VERDICTS?: string | boolean;
}

function verdictLoggingOn(env: VerdictLogEnv): boolean {
  const setting = settingText(env as Record<string, unknown>, "LOG_VERDICTS") ?? "true";
  if (setting !== "true" && setting !== "false") throw new ConfigError(`LOG_VERDICTS must be 'true' or 'false', got '${setting}'`);
  return setting === "true";
}

/** What one verdict's log line records: enough to trace a call, with numbers as LOG_NUMBERS says. */
export interface VerdictLogEntry {
  requestId: string;
  cli: string | null;
  destination: string | null;
  action: Action;
  verstat: Verstat;
  attest: Attestation | null;
  decidedBy: string | null;
  /** What monitored rules and policy entries would have done; absent when nothing was monitored. */
  monitored?: MonitoredAction[];
  failedChecks: string[];
  ingressCarrier: string | null;
  ingressTrunk: string | null;
  elapsedMs: number;
}

/**
 * Writes the verdict's structured log line (one JSON object on one line, which Workers Logs and
 * Logpush index by field), unless LOG_VERDICTS=false (the test suite's setting: its thousands of
 * verdicts would bury the test report). Runs after the response: hashing numbers never delays the
 * call, and a logging misconfiguration is reported as an error line, never as a failed call.
 */
export async function logVerdict(entry: VerdictLogEntry, env: VerdictLogEnv): Promise<void> {
  try {
    if (!verdictLoggingOn(env)) return;
    const renderNumber = numberRenderer(env);
    const [cli, destination] = await Promise.all([renderNumber(entry.cli), renderNumber(entry.destination)]);
    console.log(JSON.stringify({ level: "info", event: "verdict", ...entry, cli, destination, elapsedMs: Math.round(entry.elapsedMs) }));
  } catch (error) {
    console.error(JSON.stringify({ level: "error", event: "verdict-log-failed", requestId: entry.requestId, error: String(error) }));
  }
}
