import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../../../src/app";
import { INTERNATIONAL, postVerdictAndSettle, unsignedCall } from "./support";

afterEach(() => vi.restoreAllMocks());

/** The test configuration turns verdict logging off (vitest.config.ts); these tests turn it back on, as production has it. */
const LOGGING = { LOG_VERDICTS: "true" };

/** Posts one verdict with `bindings`, which is answered whatever the logging settings, and returns the structured log lines it wrote. */
async function verdictLogLines(bindings: Record<string, unknown>): Promise<Record<string, unknown>[]> {
  const log = vi.spyOn(console, "log").mockImplementation(() => {});
  const response = await postVerdictAndSettle(createApp(), unsignedCall("+77272501234", INTERNATIONAL), { ...env, ...LOGGING, ...bindings });
  expect(response.status).toBe(200);
  return log.mock.calls.map(([line]) => JSON.parse(String(line)) as Record<string, unknown>).filter((line) => line.event === "verdict");
}

async function verdictLogLine(bindings: Record<string, unknown>): Promise<Record<string, unknown>> {
  const lines = await verdictLogLines(bindings);
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

async function hmacHex(key: string, text: string): Promise<string> {
  const encoder = new TextEncoder();
  const hmac = await crypto.subtle.importKey("raw", encoder.encode(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return [...new Uint8Array(await crypto.subtle.sign("HMAC", hmac, encoder.encode(text)))].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

describe("one JSON log line per verdict", () => {
  it("records the request id, numbers, outcome, failed checks, ingress and elapsed time", async () => {
    expect(await verdictLogLine({})).toEqual({
      level: "info",
      event: "verdict",
      requestId: expect.any(String),
      cli: "77272501234",
      destination: "77012345678",
      action: "block",
      verstat: "No-TN-Validation",
      attest: null,
      decidedBy: "origin.national-on-international",
      failedChecks: ["identity.present", "origin.national-on-international"],
      ingressCarrier: "TransitCo",
      ingressTrunk: "intl-1",
      elapsedMs: expect.any(Number),
    });
  });

  it("lists what monitored rules and policy entries would have done, when there is something (the line above has no monitored member)", async () => {
    expect(await verdictLogLine({ POLICY_MODE: "monitor" })).toMatchObject({ action: "allow", monitored: [{ by: "origin.national-on-international", action: "block", reason: expect.any(String) }] });
  });

  it("LOG_NUMBERS=hashed: numbers become a keyed hash (HMAC-SHA-256 under LOG_NUMBERS_KEY, 16 hex digits)", async () => {
    const line = await verdictLogLine({ LOG_NUMBERS: "hashed", LOG_NUMBERS_KEY: "log-pseudonym-key" });
    expect(line.cli).toBe((await hmacHex("log-pseudonym-key", "77272501234")).slice(0, 16));
    expect(line.destination).toBe((await hmacHex("log-pseudonym-key", "77012345678")).slice(0, 16));
  });

  it("LOG_NUMBERS=omit: no numbers at all", async () => {
    expect(await verdictLogLine({ LOG_NUMBERS: "omit" })).toMatchObject({ cli: null, destination: null, action: "block" });
  });

  it("LOG_NUMBERS=hashed without a key: the call is still answered, and the error names the missing secret", async () => {
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    const response = await postVerdictAndSettle(createApp(), unsignedCall("+77272501234", INTERNATIONAL), { ...env, ...LOGGING, LOG_NUMBERS: "hashed" });
    expect(response.status).toBe(200);
    expect(log.mock.calls.some(([line]) => String(line).includes('"event":"verdict"'))).toBe(false);
    expect(error.mock.calls.flat().join(" ")).toContain("LOG_NUMBERS_KEY");
  });
});

describe("LOG_VERDICTS", () => {
  it("is on unless set: production logs every verdict", async () => {
    expect(await verdictLogLines({ LOG_VERDICTS: undefined })).toHaveLength(1);
  });

  it("=false writes no verdict line (the test suite's setting)", async () => {
    expect(await verdictLogLines({ LOG_VERDICTS: "false" })).toEqual([]);
  });

  it("written without quotes in wrangler.toml (a JSON boolean binding) is read as its text, as every setting is", async () => {
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    expect(await verdictLogLines({ LOG_VERDICTS: false })).toEqual([]);
    expect(await verdictLogLines({ LOG_VERDICTS: true })).toHaveLength(1);
    expect(error).not.toHaveBeenCalled();
  });

  it("with another value: the call is still answered, and the error names the variable", async () => {
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    expect(await verdictLogLines({ LOG_VERDICTS: "quiet" })).toEqual([]);
    expect(error.mock.calls.flat().join(" ")).toContain("LOG_VERDICTS must be 'true' or 'false', got 'quiet'");
  });
});
