import { beforeEach, describe, expect, it } from "vitest";
import { appAt, atisRequest, installTrust, postAtis, postVerdict, signedIdentity, verdictRequest } from "../support/stir";

beforeEach(() => installTrust());

/**
 * The two answers an SBC parses on every call are built without Hono's `c.json()` (src/api/json-response.ts):
 * they must still say what they are and carry the request id the SBC correlates its logs with.
 */
describe("successful answers", () => {
  it("a verdict: 200, JSON, the SBC's X-RequestID", async () => {
    const { identity } = await signedIdentity();
    const response = await postVerdict(appAt(), verdictRequest([identity]), { "X-RequestID": "sbc-verdict-7" });
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("application/json");
    expect(response.headers.get("X-RequestID")).toBe("sbc-verdict-7");
    const { verdict } = (await response.json()) as { verdict: { action: string; stir: { verstat: string } } };
    expect(verdict.action).toBe("allow");
    expect(verdict.stir.verstat).toBe("TN-Validation-Passed");
  });

  it("an ATIS verification: 200, JSON, the SBC's X-RequestID", async () => {
    const { identity } = await signedIdentity();
    const response = await postAtis(appAt(), atisRequest(identity), { "X-RequestID": "sbc-atis-7" });
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("application/json");
    expect(response.headers.get("X-RequestID")).toBe("sbc-atis-7");
    expect(await response.json()).toEqual({ verificationResponse: { verstat: "TN-Validation-Passed" } });
  });
});
