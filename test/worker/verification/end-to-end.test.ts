import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { appAt, atisRequest, CALLEE, hits, installTrust, postAtis, postVerdict, signedIdentity, verdictRequest } from "../support/stir";

beforeEach(() => installTrust());

describe("a signed call that passes (root → intermediate → leaf from a local repository)", () => {
  it("passes through the ATIS-1000082 endpoint", async () => {
    const { identity } = await signedIdentity();
    const response = await postAtis(appAt(5), atisRequest(identity));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ verificationResponse: { verstat: "TN-Validation-Passed" } });
  });

  it("passes through the native verdict endpoint, with the evidence", async () => {
    const { identity, x5u } = await signedIdentity({ attest: "B" });
    const response = await postVerdict(appAt(5), verdictRequest([identity]));
    expect(response.status).toBe(200);
    const { verdict } = (await response.json()) as { verdict: any };
    expect(verdict).toMatchObject({ action: "allow", verstat: "TN-Validation-Passed", attest: "B", sip: null, decidedBy: null });
    expect(verdict.headers).toContainEqual({ name: "P-Asserted-Identity", value: "<tel:+77272501234;verstat=TN-Validation-Passed>" });
    expect(verdict.identities[0]).toMatchObject({ ppt: "shaken", outcome: "verified", attest: "B", x5u, signer: { spc: "818H" } });
    expect(verdict.checks.filter((check: any) => check.result === "fail")).toEqual([]);
    expect(verdict.checks.map((check: any) => check.id)).toEqual(expect.arrayContaining(["passport.signature", "certificate.chain", "passport.freshness"]));
    expect(await hits(x5u)).toBe(1);
  });
});
