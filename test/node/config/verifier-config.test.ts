import { describe, expect, it } from "vitest";
import { ConfigError, readRetentionSettings, readVerifierConfig } from "../../../src/config";

/**
 * The operator's variables as the Worker reads them (README "Configuration"): each default as the README
 * gives it, each bound accepted at its edge and refused one past it, and every refusal an ERR_CONFIG that
 * names the variable. A value read wrongly is a trust decision gone wrong, silently.
 */
const refusal = (read: () => unknown): ConfigError => {
  try {
    read();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("accepted");
};
const refusesNaming = (variable: string, value: string) => {
  const error = refusal(() => readVerifierConfig({ [variable]: value }));
  expect(error.code).toBe("ERR_CONFIG");
  expect(error.message).toContain(variable);
  expect(error.message).toContain(`'${value}'`);
};

describe("a deployment that sets nothing", () => {
  it("reads every default the README gives", () => {
    const config = readVerifierConfig({});
    expect(config).toEqual({
      plan: expect.objectContaining({ country: "KZ", countryCode: "7" }),
      freshnessSeconds: 60,
      futureSkewSeconds: 60,
      x5uAllowInsecureLoopback: false,
      x5uAllowedHosts: [],
      x5uFetchTimeoutMs: 2000,
      x5uMaxBytes: 32_768,
      x5uFailureCacheSeconds: 30,
      x5uHostFetchesPerSecond: 5,
      crlMode: "soft",
      crlUrls: [],
      crlFetchTimeoutMs: 10_000,
      crlMaxBytes: 1_048_576,
      strictProfile: false,
      trustRefreshSeconds: 30,
      jwscardUrl: null,
      verdictBudgetMs: 250,
      dependencyPolicy: { x5u: "tag", roaming: "allow", trust: "allow", rules: "allow", replay: "allow", velocity: "allow" },
      policyMode: "enforce",
      callerNames: "vouched",
      replay: { forkAction: "allow", forkWindowMs: 5000, atis: false },
      velocity: {
        "calls-per-cli": { threshold: 100, windowMs: 60_000, action: "tag" },
        "destinations-per-cli": { threshold: 50, windowMs: 300_000, action: "tag" },
        "clis-per-trunk": { threshold: 1000, windowMs: 300_000, action: "tag" },
      },
      backgroundTimeoutMs: 5000,
    });
  });

  it("reads an empty or blank variable as unset", () => {
    expect(readVerifierConfig({ FRESHNESS_SECONDS: "", STRICT_PROFILE: "  ", POLICY_MODE: "\t", JWSCARD_URL: " " })).toMatchObject({ freshnessSeconds: 60, strictProfile: false, policyMode: "enforce", jwscardUrl: null });
  });

  it("reads the retention defaults: statistics hourly for 31 days, the audit log and fraud reports kept forever", () => {
    expect(readRetentionSettings({})).toEqual({ statsHourlyDays: 31, auditDays: null, reportsDays: null });
  });
});

describe("an integer variable", () => {
  it.each([
    ["FRESHNESS_SECONDS", "freshnessSeconds", 1, 3600],
    ["FUTURE_SKEW_SECONDS", "futureSkewSeconds", 0, 3600],
    ["X5U_FETCH_TIMEOUT_MS", "x5uFetchTimeoutMs", 50, 10_000],
    ["X5U_MAX_BYTES", "x5uMaxBytes", 1024, 1_048_576],
    ["X5U_FAILURE_CACHE_SECONDS", "x5uFailureCacheSeconds", 0, 600],
    ["X5U_HOST_FETCHES_PER_SECOND", "x5uHostFetchesPerSecond", 0, 1000],
    ["CRL_FETCH_TIMEOUT_MS", "crlFetchTimeoutMs", 100, 30_000],
    ["CRL_MAX_BYTES", "crlMaxBytes", 1024, 10_485_760],
    ["TRUST_REFRESH_SECONDS", "trustRefreshSeconds", 0, 3600],
    ["VERDICT_BUDGET_MS", "verdictBudgetMs", 20, 10_000],
    ["BACKGROUND_TIMEOUT_MS", "backgroundTimeoutMs", 10, 20_000],
  ] as const)("%s (%s) is read from %d to %d and refused one past either end, naming itself", (variable, field, min, max) => {
    expect(readVerifierConfig({ [variable]: String(min) })[field]).toBe(min);
    expect(readVerifierConfig({ [variable]: ` ${max} ` })[field]).toBe(max);
    refusesNaming(variable, String(min - 1));
    refusesNaming(variable, String(max + 1));
    refusesNaming(variable, "1.5");
    refusesNaming(variable, "ten");
    expect(refusal(() => readVerifierConfig({ [variable]: String(max + 1) })).message).toBe(`${variable} must be an integer from ${min} to ${max}, got '${max + 1}'`);
  });

  it("REPLAY_FORK_WINDOW_SECONDS is read from 0 to 60 seconds, in milliseconds", () => {
    expect(readVerifierConfig({ REPLAY_FORK_WINDOW_SECONDS: "0" }).replay.forkWindowMs).toBe(0);
    expect(readVerifierConfig({ REPLAY_FORK_WINDOW_SECONDS: "60" }).replay.forkWindowMs).toBe(60_000);
    refusesNaming("REPLAY_FORK_WINDOW_SECONDS", "-1");
    refusesNaming("REPLAY_FORK_WINDOW_SECONDS", "61");
  });

  it("FUTURE_SKEW_SECONDS defaults to FRESHNESS_SECONDS, and is read apart from it", () => {
    expect(readVerifierConfig({ FRESHNESS_SECONDS: "120" })).toMatchObject({ freshnessSeconds: 120, futureSkewSeconds: 120 });
    expect(readVerifierConfig({ FRESHNESS_SECONDS: "120", FUTURE_SKEW_SECONDS: "0" })).toMatchObject({ freshnessSeconds: 120, futureSkewSeconds: 0 });
  });

  it.each([
    ["STATS_HOURLY_RETENTION_DAYS", "statsHourlyDays", 1, 3660],
    ["AUDIT_RETENTION_DAYS", "auditDays", 1, 36_500],
    ["REPORTS_RETENTION_DAYS", "reportsDays", 1, 36_500],
  ] as const)("%s (%s) is read from %d to %d and refused one past either end, naming itself", (variable, field, min, max) => {
    expect(readRetentionSettings({ [variable]: String(min) })[field]).toBe(min);
    expect(readRetentionSettings({ [variable]: String(max) })[field]).toBe(max);
    for (const value of [String(min - 1), String(max + 1), "7.5", "week"]) {
      const error = refusal(() => readRetentionSettings({ [variable]: value }));
      expect(error.message).toBe(`${variable} must be an integer from ${min} to ${max}, got '${value}'`);
    }
  });
});

describe("a true/false variable", () => {
  it.each([
    ["X5U_ALLOW_INSECURE_LOOPBACK", (config: ReturnType<typeof readVerifierConfig>) => config.x5uAllowInsecureLoopback],
    ["STRICT_PROFILE", (config: ReturnType<typeof readVerifierConfig>) => config.strictProfile],
    ["ATIS_REPLAY_CHECK", (config: ReturnType<typeof readVerifierConfig>) => config.replay.atis],
  ] as const)("%s: 'true' is true, 'false' is false, anything else refused naming it", (variable, read) => {
    expect(read(readVerifierConfig({ [variable]: "true" }))).toBe(true);
    expect(read(readVerifierConfig({ [variable]: " true " }))).toBe(true);
    expect(read(readVerifierConfig({ [variable]: "false" }))).toBe(false);
    for (const value of ["yes", "1", "TRUE", "False"]) refusesNaming(variable, value);
    expect(refusal(() => readVerifierConfig({ [variable]: "yes" })).message).toBe(`${variable} must be 'true' or 'false', got 'yes'`);
  });
});

describe("a variable of named values", () => {
  it.each([
    ["CRL_MODE", "crlMode", ["soft", "hard"], "soft, hard"],
    ["POLICY_MODE", "policyMode", ["enforce", "monitor"], "enforce, monitor"],
    ["CALLER_NAMES", "callerNames", ["vouched", "peer"], "vouched, peer"],
  ] as const)("%s reads each of its values and refuses another, listing them", (variable, field, values, listed) => {
    for (const value of values) expect(readVerifierConfig({ [variable]: value })[field]).toBe(value);
    expect(refusal(() => readVerifierConfig({ [variable]: "Hard" })).message).toBe(`${variable} must be one of ${listed}, got 'Hard'`);
  });

  it("REPLAY_FORK_ACTION reads each action and refuses another", () => {
    for (const action of ["allow", "tag", "withhold", "block"]) expect(readVerifierConfig({ REPLAY_FORK_ACTION: action }).replay.forkAction).toBe(action);
    refusesNaming("REPLAY_FORK_ACTION", "reject");
  });

  it("REPLAY_ACTION is retired: refused whatever its value, naming the policy entry that decides now", () => {
    const error = refusal(() => readVerifierConfig({ REPLAY_ACTION: "block" }));
    expect(error.message).toMatch(/^REPLAY_ACTION is retired: .*stir\.tn-validation-failed/);
  });
});

describe("lists", () => {
  it("X5U_ALLOWED_HOSTS: comma-separated, each host trimmed, empty entries dropped", () => {
    expect(readVerifierConfig({ X5U_ALLOWED_HOSTS: "cr.sti-ca.example, .certs.operator.example,, " }).x5uAllowedHosts).toEqual(["cr.sti-ca.example", ".certs.operator.example"]);
  });

  it("CRL_URLS: comma- or space-separated", () => {
    expect(readVerifierConfig({ CRL_URLS: "https://a.example/1.crl, https://b.example/2.crl\nhttps://c.example/3.crl" }).crlUrls).toEqual(["https://a.example/1.crl", "https://b.example/2.crl", "https://c.example/3.crl"]);
  });
});

describe("JWSCARD_URL", () => {
  it("reads an https URL as given", () => {
    expect(readVerifierConfig({ JWSCARD_URL: "https://redress.operator.example/card?n=1" }).jwscardUrl).toBe("https://redress.operator.example/card?n=1");
  });

  it.each(["http://redress.operator.example/", "redress.operator.example", "https://redress.operator.example/<script>", "https://a.example/x y"])("refuses %j, naming the variable", (value) => {
    expect(refusal(() => readVerifierConfig({ JWSCARD_URL: value })).message).toBe(`JWSCARD_URL must be an https URL, got '${value}'`);
  });
});

describe("DEPENDENCY_FAILURE_POLICY", () => {
  it("changes only the dependencies it names, each entry trimmed, empty and blank entries skipped", () => {
    expect(readVerifierConfig({ DEPENDENCY_FAILURE_POLICY: " x5u = block , replay=tag,, ," }).dependencyPolicy).toEqual({ x5u: "block", roaming: "allow", trust: "allow", rules: "allow", replay: "tag", velocity: "allow" });
  });

  it.each(["dns=block", "x5u=reject", "x5u", "x5u=block=tag", "=block"])("refuses the entry %j, naming the variable and the entry", (entry) => {
    const error = refusal(() => readVerifierConfig({ DEPENDENCY_FAILURE_POLICY: `roaming=tag,${entry}` }));
    expect(error.message).toBe(`DEPENDENCY_FAILURE_POLICY entries must be <x5u|roaming|trust|rules|replay|velocity>=<allow|tag|withhold|block>, got '${entry}'`);
  });
});

describe("a velocity limit", () => {
  it("reads <count>/<seconds>:<action>, the window in milliseconds", () => {
    expect(readVerifierConfig({ VELOCITY_CALLS_PER_CLI: "30/86400:block" }).velocity["calls-per-cli"]).toEqual({ threshold: 30, windowMs: 86_400_000, action: "block" });
    expect(readVerifierConfig({ VELOCITY_CLIS_PER_TRUNK: "1/1:withhold" }).velocity["clis-per-trunk"]).toEqual({ threshold: 1, windowMs: 1000, action: "withhold" });
  });

  it("'off' disables that counter alone", () => {
    expect(Object.keys(readVerifierConfig({ VELOCITY_DESTINATIONS_PER_CLI: "off" }).velocity)).toEqual(["calls-per-cli", "clis-per-trunk"]);
  });

  it.each(["0/60:tag", "10/0:tag", "10/86401:tag", "10/60:drop", "10/60", "10/60:tag,5/1:block", "1234567/60:tag", "10 / 60:tag", "x10/60:tag", "10/60:tagx"])("refuses %j, naming the variable", (value) => {
    expect(refusal(() => readVerifierConfig({ VELOCITY_CLIS_PER_TRUNK: value })).message).toBe(`VELOCITY_CLIS_PER_TRUNK must be <count>/<seconds>:<allow|tag|withhold|block> (seconds ≤ 86400) or 'off', got '${value}'`);
  });
});

describe("a variable written without quotes in wrangler.toml", () => {
  // Wrangler hands a [vars] value that is no string to the Worker as a JSON binding: `STRICT_PROFILE = true`
  // arrives as the boolean true, `FRESHNESS_SECONDS = 300` as the number 300.
  it("reads a number or a boolean as its text, never as unset", () => {
    expect(readVerifierConfig({ STRICT_PROFILE: true, ATIS_REPLAY_CHECK: true, X5U_ALLOW_INSECURE_LOOPBACK: false, FRESHNESS_SECONDS: 300, VERDICT_BUDGET_MS: 500 })).toMatchObject({
      strictProfile: true,
      replay: expect.objectContaining({ atis: true }),
      x5uAllowInsecureLoopback: false,
      freshnessSeconds: 300,
      futureSkewSeconds: 300,
      verdictBudgetMs: 500,
    });
    expect(readRetentionSettings({ AUDIT_RETENTION_DAYS: 365 }).auditDays).toBe(365);
  });

  it("reads null (wrangler.jsonc can write it) as unset", () => {
    expect(readVerifierConfig({ FRESHNESS_SECONDS: null, STRICT_PROFILE: null })).toMatchObject({ freshnessSeconds: 60, strictProfile: false });
  });

  it("refuses one out of bounds as it refuses the text", () => {
    expect(refusal(() => readVerifierConfig({ FRESHNESS_SECONDS: 0 })).message).toBe("FRESHNESS_SECONDS must be an integer from 1 to 3600, got '0'");
  });

  it("refuses a table or a list, naming the variable", () => {
    expect(refusal(() => readVerifierConfig({ X5U_ALLOWED_HOSTS: ["cr.sti-ca.example"] })).message).toMatch(/^X5U_ALLOWED_HOSTS must be /);
    expect(refusal(() => readVerifierConfig({ POLICY_MODE: { mode: "monitor" } })).message).toMatch(/^POLICY_MODE must be /);
    // The value shown is kept short: a table pasted whole does not flood the error response.
    expect(refusal(() => readVerifierConfig({ POLICY_MODE: { mode: "m".repeat(200) } })).message).toBe(`POLICY_MODE must be text, a number or true/false, got {"mode":"${"m".repeat(55)}`);
  });
});

describe("HOME_COUNTRY", () => {
  it("reads an ISO 3166 code in either case, as the origin checks read it", () => {
    expect(readVerifierConfig({ HOME_COUNTRY: "de" }).plan).toMatchObject({ country: "DE", countryCode: "49" });
    expect(readVerifierConfig({ HOME_COUNTRY: " kz " }).plan).toMatchObject({ country: "KZ", countryCode: "7" });
  });

  it("refuses a code libphonenumber does not know with ERR_CONFIG, naming the variable", () => {
    expect(refusal(() => readVerifierConfig({ HOME_COUNTRY: "XX" })).message).toBe("HOME_COUNTRY must be an ISO 3166 alpha-2 country code, got 'XX'");
  });
});
