import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../../src/app";
import { renderExposition } from "../../../src/metrics/exposition";
import { observeHistogram } from "../../../src/metrics/isolate-counters";
import { recordCertificateCacheLookup, recordVerdictMetrics, timeX5uFetch } from "../../../src/metrics/record";
import { addToMetricSums } from "../../../src/metrics/store";
import { fail, pass } from "../../../src/verdict/check";
import { adminAuth, sbcAuth } from "../support/auth";
import { appAt, atisRequest, installTrust, postAtis, signedIdentity } from "../support/stir";
import { DOMESTIC, INTERNATIONAL, growthDuring, postVerdictAndSettle, sha256Hex, unsignedCall } from "./support";

describe("GET /metrics authentication", () => {
  it.each([
    ["no token", {}, 401],
    ["an SBC key", sbcAuth, 401],
    ["a metrics token", { Authorization: "Bearer test-metrics-token" }, 200],
    ["an admin token", adminAuth, 200],
  ])("%s → %i", async (_, headers, status) => {
    const scraperEnv = { ...env, METRICS_TOKENS_SHA256: await sha256Hex("test-metrics-token") };
    expect((await createApp().request("/metrics", { headers }, scraperEnv)).status).toBe(status);
  });
});

describe("the exposition", () => {
  it("is Prometheus text format 0.0.4, listing every family with HELP and TYPE", async () => {
    const response = await createApp().request("/metrics", { headers: adminAuth }, env);
    expect(response.headers.get("Content-Type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = await response.text();
    for (const family of ["shaken_verdicts_total", "shaken_verifications_total", "shaken_certificate_cache_hits_total", "shaken_x5u_fetch_duration_seconds", "shaken_roaming_lookup_timeouts_total", "shaken_verdict_budget_overruns_total"]) {
      expect(text).toContain(`# HELP ${family} `);
      expect(text).toMatch(new RegExp(`^# TYPE ${family} (counter|histogram)$`, "m"));
    }
  });

  it("prints histogram buckets cumulative and in ascending order, and escapes label values", () => {
    const text = renderExposition([
      { name: "shaken_x5u_fetch_duration_seconds_bucket", labels: 'le="+Inf"', value: 3 },
      { name: "shaken_x5u_fetch_duration_seconds_bucket", labels: 'le="0.5"', value: 2 },
      { name: "shaken_x5u_fetch_duration_seconds_bucket", labels: 'le="0.05"', value: 1 },
      { name: "shaken_x5u_fetch_duration_seconds_count", labels: "", value: 3 },
      { name: "shaken_verdicts_total", labels: 'action="a\\"b"', value: 1 },
    ]);
    const lines = text.split("\n").filter((line) => line.startsWith("shaken_x5u_fetch_duration_seconds"));
    expect(lines).toEqual([
      'shaken_x5u_fetch_duration_seconds_bucket{le="0.05"} 1',
      'shaken_x5u_fetch_duration_seconds_bucket{le="0.5"} 2',
      'shaken_x5u_fetch_duration_seconds_bucket{le="+Inf"} 3',
      "shaken_x5u_fetch_duration_seconds_count 3",
    ]);
    expect(text).toContain('shaken_verdicts_total{action="a\\"b"} 1');
  });
});

describe("verdicts and verifications", () => {
  it("counts verdicts by action and failed check, and verification outcomes by reason code", async () => {
    const increase = await growthDuring(async (app) => {
      await postVerdictAndSettle(app, unsignedCall("+77272501234", INTERNATIONAL));
      await postVerdictAndSettle(app, unsignedCall("+77272501234", INTERNATIONAL));
      await postVerdictAndSettle(app, unsignedCall("+77272501234", DOMESTIC));
    });

    expect(increase('shaken_verdicts_total{action="block"}')).toBe(2);
    expect(increase('shaken_verdicts_total{action="allow"}')).toBe(1);
    expect(increase('shaken_verdict_failed_checks_total{check="origin.national-on-international"}')).toBe(2);
    expect(increase('shaken_verifications_total{endpoint="verdict",reasoncode="428",verstat="No-TN-Validation"}')).toBe(3);
    expect(increase("shaken_verdict_duration_seconds_count")).toBe(3);
  });

  it("counts the ATIS endpoint's verifications under their own endpoint label", async () => {
    await installTrust();
    const { identity } = await signedIdentity();
    const increase = await growthDuring(() => postAtis(appAt(5), atisRequest(identity)));
    expect(increase('shaken_verifications_total{endpoint="atis",reasoncode="none",verstat="TN-Validation-Passed"}')).toBe(1);
  });

  it("adds what other isolates flushed to this isolate's own counts", async () => {
    const increase = await growthDuring(async (app) => {
      // Another isolate's flush, as it lands in D1.
      await addToMetricSums(env.DB, [{ name: "shaken_verdicts_total", labels: 'action="withhold"', value: 5 }]);
      await postVerdictAndSettle(app, unsignedCall("+77501234567", INTERNATIONAL));
    });
    expect(increase('shaken_verdicts_total{action="withhold"}')).toBe(6);
  });

  it("counts the display names the callee is shown and those removed, and nothing for a call without one", async () => {
    const increase = await growthDuring(async (app) => {
      await postVerdictAndSettle(app, { from: '"Halyk Bank" <sip:+4930123456789@gw.example>;tag=1', to: "+77012345678", ingress: INTERNATIONAL });
      await postVerdictAndSettle(app, { from: '"Almaty Office" <sip:+77272501234@gw.example>;tag=1', to: "+77012345678", ingress: { trunk: "domestic-1", international: false } });
      await postVerdictAndSettle(app, unsignedCall("+4930123456789", INTERNATIONAL));
    });
    expect(increase('shaken_caller_names_total{presentation="removed"}')).toBe(1);
    expect(increase('shaken_caller_names_total{presentation="shown"}')).toBe(1);
  });

  it("counts a dependency cut off by the verdict budget as an overrun, and one that failed as an error", async () => {
    const increase = await growthDuring(async (app) => {
      recordVerdictMetrics({
        action: "tag",
        elapsedMs: 250,
        checks: [
          fail("deadline.x5u", "x5u: no answer within the 250 ms verdict budget", { dependency: "x5u", problem: "timeout" }),
          { id: "store.rules", result: "warn", detail: "rules: D1 unavailable", evidence: { dependency: "rules", problem: "error" } },
          fail("origin.roaming", "unknown", { status: "unknown" }),
          pass("passport.signature"),
        ],
      });
    });
    expect(increase('shaken_verdict_budget_overruns_total{dependency="x5u"}')).toBe(1);
    expect(increase('shaken_dependency_errors_total{dependency="rules"}')).toBe(1);
    expect(increase('shaken_roaming_lookups_total{status="unknown"}')).toBe(1);
  });
});

describe("certificate hooks", () => {
  it("count cache hits and misses, and time repository fetches, counting the failed ones", async () => {
    const increase = await growthDuring(async (app) => {
      recordCertificateCacheLookup(true);
      recordCertificateCacheLookup(true);
      recordCertificateCacheLookup(false);
      await timeX5uFetch(async () => "chain");
      await expect(timeX5uFetch(() => Promise.reject(new Error("repository answered HTTP 500")))).rejects.toThrow("HTTP 500");
    });
    expect(increase("shaken_certificate_cache_hits_total")).toBe(2);
    expect(increase("shaken_certificate_cache_misses_total")).toBe(1);
    expect(increase("shaken_x5u_fetch_duration_seconds_count")).toBe(2);
    expect(increase('shaken_x5u_fetch_duration_seconds_bucket{le="+Inf"}')).toBe(2);
    expect(increase("shaken_x5u_fetch_errors_total")).toBe(1);
  });
});

describe("histograms", () => {
  it("count an observation in its own bucket and every larger one", async () => {
    const increase = await growthDuring(async (app) => {
      observeHistogram("shaken_verdict_duration_seconds", 0.03);
    });
    expect(increase('shaken_verdict_duration_seconds_bucket{le="0.025"}')).toBe(0);
    expect(increase('shaken_verdict_duration_seconds_bucket{le="0.05"}')).toBe(1);
    expect(increase('shaken_verdict_duration_seconds_bucket{le="5"}')).toBe(1);
    expect(increase('shaken_verdict_duration_seconds_bucket{le="+Inf"}')).toBe(1);
    expect(increase("shaken_verdict_duration_seconds_sum")).toBeCloseTo(0.03);
  });

  it("count an observation equal to a bound in that bucket (le: less than or equal), every time it is observed", async () => {
    const increase = await growthDuring(async () => {
      observeHistogram("shaken_verdict_duration_seconds", 0.05);
      observeHistogram("shaken_verdict_duration_seconds", 0.05);
    });
    expect(increase('shaken_verdict_duration_seconds_bucket{le="0.025"}')).toBe(0);
    expect(increase('shaken_verdict_duration_seconds_bucket{le="0.05"}')).toBe(2);
    expect(increase('shaken_verdict_duration_seconds_bucket{le="+Inf"}')).toBe(2);
    expect(increase("shaken_verdict_duration_seconds_count")).toBe(2);
  });
});
