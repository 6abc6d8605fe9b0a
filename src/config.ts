import { diallingPlanFor, UnknownCountryError, type DiallingPlan } from "./numbers/telephone-number";
import { VELOCITY_COUNTERS, type ReplayPolicy, type VelocityCounterName, type VelocityLimit } from "./abuse/settings";
import { DEFAULT_DEPENDENCY_POLICY, DEFAULT_VERDICT_BUDGET_MS, DEPENDENCIES, type Dependency, type DependencyPolicy } from "./verdict/deadline";
import { CALLER_NAME_MODES, type CallerNameMode } from "./verdict/caller-name";
import { ACTIONS, ENFORCEMENT_MODES, type Action, type EnforcementMode } from "./verdict/verdict";

/**
 * Operator configuration read from the Worker's vars and secrets (wrangler.toml `[vars]`, `wrangler
 * secret put`). Every value has a production-safe default; an invalid value is a deployment error
 * that names the variable.
 */
export interface VerifierConfig {
  plan: DiallingPlan;
  freshnessSeconds: number;
  futureSkewSeconds: number;
  x5uAllowInsecureLoopback: boolean;
  x5uAllowedHosts: string[];
  x5uFetchTimeoutMs: number;
  x5uMaxBytes: number;
  /** How long a repository's failure is answered from memory (0: never). */
  x5uFailureCacheSeconds: number;
  /** New x5u fetches a second an isolate asks of one host (0: no bound). */
  x5uHostFetchesPerSecond: number;
  crlMode: "soft" | "hard";
  /** The CRL distribution points the scheduled refresh fetches (CRL_URLS); none: no refresh. */
  crlUrls: string[];
  crlFetchTimeoutMs: number;
  crlMaxBytes: number;
  strictProfile: boolean;
  trustRefreshSeconds: number;
  /** RFC 8688: where a caller blocked with 608 can seek redress (sent in Call-Info, purpose=jwscard). */
  jwscardUrl: string | null;
  /** Wall time a verdict may take, whatever its dependencies do (issue 5). */
  verdictBudgetMs: number;
  dependencyPolicy: DependencyPolicy;
  /** POLICY_MODE: `monitor` lists and counts what the policy and the rules ask for, without enforcing it (issue 20). */
  policyMode: EnforcementMode;
  /** CALLER_NAMES: when an allowed call keeps From's display name (src/verdict/caller-name.ts). */
  callerNames: CallerNameMode;
  replay: ReplayPolicy;
  /** Counters whose limit is `off` are absent. */
  velocity: Partial<Record<VelocityCounterName, VelocityLimit>>;
  /** How long one store call of background work (write-behind, velocity and metrics flushes) may take before it is abandoned (issue 22 item 5). */
  backgroundTimeoutMs: number;
}

/** How often an isolate re-reads the trust set (TRUST_REFRESH_SECONDS) unless configured. */
export const DEFAULT_TRUST_REFRESH_SECONDS = 30;

export class ConfigError extends Error {
  readonly code = "ERR_CONFIG";
}

type Vars = Partial<Record<string, unknown>>;

/** A setting's text, trimmed; undefined when unset or blank. Exported for the settings read outside readVerifierConfig (LOG_VERDICTS). */
export function settingText(vars: Vars, name: string): string | undefined {
  const value = vars[name];
  if (value === undefined || value === null) return undefined;
  // Wrangler hands a [vars] value written without quotes to the Worker as JSON: `STRICT_PROFILE = true`
  // is the boolean true, `FRESHNESS_SECONDS = 300` the number 300. Read as their text, not as unset.
  const written = typeof value === "number" || typeof value === "boolean" ? String(value) : value;
  if (typeof written !== "string") throw new ConfigError(`${name} must be text, a number or true/false, got ${JSON.stringify(written).slice(0, 64)}`);
  return written.trim() !== "" ? written.trim() : undefined;
}

function integer(vars: Vars, name: string, fallback: number, min: number, max: number): number {
  const raw = settingText(vars, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got '${raw}'`);
  return value;
}

/** An integer setting whose absence means "not set" (no default applies). */
function optionalInteger(vars: Vars, name: string, min: number, max: number): number | null {
  return settingText(vars, name) === undefined ? null : integer(vars, name, 0, min, max);
}

function flag(vars: Vars, name: string): boolean {
  const raw = settingText(vars, name);
  if (raw === undefined || raw === "false") return false;
  if (raw === "true") return true;
  throw new ConfigError(`${name} must be 'true' or 'false', got '${raw}'`);
}

function oneOf<T extends string>(vars: Vars, name: string, allowed: readonly T[], fallback: T): T {
  const raw = settingText(vars, name);
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) throw new ConfigError(`${name} must be one of ${allowed.join(", ")}, got '${raw}'`);
  return raw as T;
}

function httpsUrl(vars: Vars, name: string): string | null {
  const raw = settingText(vars, name);
  if (raw === undefined) return null;
  if (!URL.canParse(raw) || new URL(raw).protocol !== "https:" || /[<>\s]/.test(raw)) throw new ConfigError(`${name} must be an https URL, got '${raw}'`);
  return raw;
}

/**
 * HOME_COUNTRY's dialling plan, the code read in either case as the origin checks read it
 * (src/origin/deps.ts homeCountryOf): `kz` is KZ, not a deployment whose every verdict fails.
 */
function homePlan(vars: Vars, name: string): DiallingPlan {
  const raw = settingText(vars, name) ?? "KZ";
  try {
    return diallingPlanFor(raw.toUpperCase());
  } catch (error) {
    if (error instanceof UnknownCountryError) throw new ConfigError(`${name} must be an ISO 3166 alpha-2 country code, got '${raw}'`);
    throw error;
  }
}

const action = (vars: Vars, name: string, fallback: Action): Action => oneOf(vars, name, ACTIONS, fallback);

/** `DEPENDENCY_FAILURE_POLICY="x5u=block,replay=tag"`: only the dependencies it names change. */
function dependencyPolicy(vars: Vars, name: string): DependencyPolicy {
  const policy = { ...DEFAULT_DEPENDENCY_POLICY };
  for (const entry of (settingText(vars, name) ?? "").split(",").map((item) => item.trim()).filter(Boolean)) {
    const parts = entry.split("=").map((part) => part.trim());
    const [dependency, chosen] = parts;
    // `x5u=block=tag` has no one meaning: refused, not read as its first two parts.
    if (parts.length !== 2 || !DEPENDENCIES.includes(dependency as Dependency) || !ACTIONS.includes(chosen as Action)) {
      throw new ConfigError(`${name} entries must be <${DEPENDENCIES.join("|")}>=<${ACTIONS.join("|")}>, got '${entry}'`);
    }
    policy[dependency as Dependency] = chosen as Action;
  }
  return policy;
}

/** `"30/60:tag"`: more than 30 in any 60 s → tag; `off` disables the counter. */
function velocityLimit(vars: Vars, name: string, fallback: string): VelocityLimit | undefined {
  const raw = settingText(vars, name) ?? fallback;
  if (raw === "off") return undefined;
  const match = /^(\d{1,6})\/(\d{1,5}):([a-z]+)$/.exec(raw);
  const [threshold, windowSeconds, chosen] = match ? [Number(match[1]), Number(match[2]), match[3]!] : [0, 0, ""];
  if (!match || threshold < 1 || windowSeconds < 1 || windowSeconds > 86_400 || !ACTIONS.includes(chosen as Action)) {
    throw new ConfigError(`${name} must be <count>/<seconds>:<${ACTIONS.join("|")}> (seconds ≤ 86400) or 'off', got '${raw}'`);
  }
  return { threshold, windowMs: windowSeconds * 1000, action: chosen as Action };
}

export function readVerifierConfig(vars: Vars): VerifierConfig {
  // A deployment that still sets it expects replays to take that action: refused, not silently dropped.
  if (settingText(vars, "REPLAY_ACTION") !== undefined) {
    throw new ConfigError("REPLAY_ACTION is retired: a replayed PASSporT fails verification and takes the policy's stir.tn-validation-failed action (PUT /v1/admin/config/policy); remove the variable");
  }
  const freshnessSeconds = integer(vars, "FRESHNESS_SECONDS", 60, 1, 3600);
  return {
    plan: homePlan(vars, "HOME_COUNTRY"),
    freshnessSeconds,
    futureSkewSeconds: integer(vars, "FUTURE_SKEW_SECONDS", freshnessSeconds, 0, 3600),
    x5uAllowInsecureLoopback: flag(vars, "X5U_ALLOW_INSECURE_LOOPBACK"),
    x5uAllowedHosts: (settingText(vars, "X5U_ALLOWED_HOSTS") ?? "").split(",").map((host) => host.trim()).filter(Boolean),
    x5uFetchTimeoutMs: integer(vars, "X5U_FETCH_TIMEOUT_MS", 2000, 50, 10_000),
    x5uMaxBytes: integer(vars, "X5U_MAX_BYTES", 32_768, 1024, 1_048_576),
    x5uFailureCacheSeconds: integer(vars, "X5U_FAILURE_CACHE_SECONDS", 30, 0, 600),
    x5uHostFetchesPerSecond: integer(vars, "X5U_HOST_FETCHES_PER_SECOND", 5, 0, 1000),
    crlMode: oneOf(vars, "CRL_MODE", ["soft", "hard"] as const, "soft"),
    // Each URL is judged by the x5u SSRF policy when it is fetched, and a refused one is counted then.
    crlUrls: (settingText(vars, "CRL_URLS") ?? "").split(/[\s,]+/).filter(Boolean),
    crlFetchTimeoutMs: integer(vars, "CRL_FETCH_TIMEOUT_MS", 10_000, 100, 30_000),
    crlMaxBytes: integer(vars, "CRL_MAX_BYTES", 1_048_576, 1024, 10_485_760),
    strictProfile: flag(vars, "STRICT_PROFILE"),
    trustRefreshSeconds: integer(vars, "TRUST_REFRESH_SECONDS", DEFAULT_TRUST_REFRESH_SECONDS, 0, 3600),
    jwscardUrl: httpsUrl(vars, "JWSCARD_URL"),
    verdictBudgetMs: integer(vars, "VERDICT_BUDGET_MS", DEFAULT_VERDICT_BUDGET_MS, 20, 10_000),
    dependencyPolicy: dependencyPolicy(vars, "DEPENDENCY_FAILURE_POLICY"),
    policyMode: oneOf(vars, "POLICY_MODE", ENFORCEMENT_MODES, "enforce"),
    callerNames: oneOf(vars, "CALLER_NAMES", CALLER_NAME_MODES, "vouched"),
    replay: {
      forkAction: action(vars, "REPLAY_FORK_ACTION", "allow"),
      forkWindowMs: integer(vars, "REPLAY_FORK_WINDOW_SECONDS", 5, 0, 60) * 1000,
      atis: flag(vars, "ATIS_REPLAY_CHECK"),
    },
    velocity: Object.fromEntries(
      Object.entries(VELOCITY_COUNTERS).flatMap(([counter, { variable, defaultLimit }]) => {
        const limit = velocityLimit(vars, variable, defaultLimit);
        return limit ? [[counter, limit]] : [];
      }),
    ),
    backgroundTimeoutMs: integer(vars, "BACKGROUND_TIMEOUT_MS", 5_000, 10, 20_000),
  };
}

/**
 * How long stored data is kept (issue 22 item 8), applied by the hourly retention job
 * (src/stats/retention.ts). Statistics are rolled up from hours to days after `statsHourlyDays`; the
 * audit log and fraud reports are evidence, so they are kept forever unless the operator sets a
 * retention explicitly.
 */
export interface RetentionSettings {
  statsHourlyDays: number;
  /** null: the audit log is never pruned. */
  auditDays: number | null;
  /** null: fraud reports are never pruned. */
  reportsDays: number | null;
}

export function readRetentionSettings(vars: Vars): RetentionSettings {
  return {
    statsHourlyDays: integer(vars, "STATS_HOURLY_RETENTION_DAYS", 31, 1, 3660),
    auditDays: optionalInteger(vars, "AUDIT_RETENTION_DAYS", 1, 36_500),
    reportsDays: optionalInteger(vars, "REPORTS_RETENTION_DAYS", 1, 36_500),
  };
}
