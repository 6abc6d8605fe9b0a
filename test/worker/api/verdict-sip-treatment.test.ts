import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { markIsolateSnapshotsStale } from "../../../src/origin/snapshot";
import { adminAuth, sbcAuth } from "../support/auth";
import { appAt, installTrust, signedIdentity, verdictRequest } from "../support/stir";

beforeEach(() => installTrust());

const INTERNATIONAL = { trunk: "intl-9", carrier: "TransitCo", international: true };

async function verdictFor(body: unknown, bindings: object = env) {
  const response = await appAt().request("/v1/verdict", { method: "POST", headers: { ...sbcAuth, "Content-Type": "application/json" }, body: JSON.stringify(body) }, bindings);
  expect(response.status).toBe(200);
  return ((await response.json()) as { verdict: any }).verdict;
}

describe("what the SBC is told to apply", () => {
  it("block with 608 carries Reason and, when configured, the jwscard redress link (RFC 8688)", async () => {
    const verdict = await verdictFor({ from: "+77272501234", to: "+77012345678", ingress: INTERNATIONAL }, { ...env, JWSCARD_URL: "https://redress.operator.example/jwscard" });
    expect(verdict).toMatchObject({ action: "block", sip: { code: 608, reason: "Rejected" }, decidedBy: "origin.national-on-international" });
    expect(verdict.headers).toEqual([
      { name: "Reason", value: expect.stringMatching(/^SIP ;cause=608 ;text="/) },
      { name: "Call-Info", value: "<https://redress.operator.example/jwscard>;purpose=jwscard" },
    ]);
  });

  it("tag after a failed verification: verstat on P-Asserted-Identity and a Reason naming the failure (RFC 8224 §6.2.2)", async () => {
    const { identity } = await signedIdentity({ orig: "77272509999" });
    const verdict = await verdictFor(verdictRequest([identity]));
    expect(verdict).toMatchObject({ action: "tag", sip: null, verstat: "No-TN-Validation", decidedBy: "passport.orig", label: "Unverified caller ID" });
    expect(verdict.headers).toEqual([
      { name: "P-Asserted-Identity", value: "<tel:+77272501234;verstat=No-TN-Validation>" },
      { name: "Reason", value: 'SIP ;cause=438 ;text="Invalid Identity Header"' },
    ]);
  });

  it("withhold: the call proceeds with privacy requested", async () => {
    const verdict = await verdictFor({ from: "+77502345678", to: "+77012345678", ingress: INTERNATIONAL });
    expect(verdict.action).toBe("withhold");
    expect(verdict.sip).toBeNull();
    expect(verdict.headers).toContainEqual({ name: "Privacy", value: "id" });
  });

  it("allow: verstat passed downstream, nothing else", async () => {
    const { identity } = await signedIdentity();
    const verdict = await verdictFor(verdictRequest([identity]));
    expect(verdict).toMatchObject({ action: "allow", sip: null, decidedBy: null });
    expect(verdict.headers).toEqual([{ name: "P-Asserted-Identity", value: "<tel:+77272501234;verstat=TN-Validation-Passed>" }]);
  });

  it("a call presenting no caller ID at all is blocked by check 1 (608), with no P-Asserted-Identity to pass on", async () => {
    const verdict = await verdictFor({ to: "+77012345678", ingress: INTERNATIONAL });
    expect(verdict).toMatchObject({ action: "block", sip: { code: 608 }, decidedBy: "cli.format" });
    expect(verdict.checks).toContainEqual(expect.objectContaining({ id: "cli.format", result: "fail", evidence: { problem: "missing" } }));
  });

  it("a call naming neither a callee nor a Request-URI is still judged", async () => {
    const verdict = await verdictFor({ from: "+77272501234", ingress: INTERNATIONAL });
    expect(verdict).toMatchObject({ action: "block", sip: { code: 608 }, decidedBy: "origin.national-on-international" });
  });

  it("refuses a JWSCARD_URL that is not https as a configuration error", async () => {
    const response = await appAt().request("/v1/verdict", { method: "POST", headers: { ...sbcAuth, "Content-Type": "application/json" }, body: "{}" }, { ...env, JWSCARD_URL: "http://x" });
    expect(response.status).toBe(500);
    expect(((await response.json()) as any).error).toEqual({ code: "ERR_CONFIG", message: "JWSCARD_URL must be an https URL, got 'http://x'" });
  });
});

describe("the STIR/SHAKEN entries of the operator's policy table", () => {
  it("an operator can block calls whose PASSporT cannot be used instead of tagging them, without a redeploy", async () => {
    const { identity } = await signedIdentity();
    const tampered = identity.replace(/\.([A-Za-z0-9_-])/, (_match, first: string) => `.${first === "A" ? "B" : "A"}`);
    expect((await verdictFor(verdictRequest([tampered]))).action).toBe("tag");

    const put = await appAt().request(
      "/v1/admin/config/policy",
      {
        method: "PUT",
        headers: { ...adminAuth, "Content-Type": "application/json" },
        body: JSON.stringify({ document: { outcomes: { "stir.no-tn-validation": { action: "block", sipCode: 603 } } }, version: 0 }),
      },
      env,
    );
    expect(put.status).toBe(200);
    markIsolateSnapshotsStale();
    const verdict = await verdictFor(verdictRequest([tampered]));
    expect(verdict).toMatchObject({ action: "block", sip: { code: 603, reason: "Decline" }, decidedBy: "passport.claims" });
  });
});
