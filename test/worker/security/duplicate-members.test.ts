import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { sbcAuth } from "../support/auth";
import { appAt, atisRequest, CALLEE, CALLER, installTrust, postAtis, signedIdentity, verdictRequest } from "../support/stir";

/**
 * A member given twice in a request body means whichever one the reader takes: JSON.parse takes the
 * last, other parsers (cJSON, many SBC and gateway libraries) the first. An SBC that writes what the
 * caller sent into its request (the Identity header's text, a display name) lets the caller append a
 * second `to` naming the callee of a captured PASSporT: the SBC routes and logs the first, the verifier
 * judged the last, and the call to another callee is told TN-Validation-Passed. Both verification
 * bodies refuse a member given twice, as they refuse one they do not define.
 */
beforeEach(() => installTrust());

const VICTIM = "77019998877";

describe("a member given twice in a verification request is refused, naming it", () => {
  it("ATIS: a second `to` naming the captured PASSporT's callee is SVC4005, not a verification of the last one", async () => {
    const { identity } = await signedIdentity({ dest: [CALLEE] });
    const body = JSON.stringify(atisRequest(identity, { to: { tn: [VICTIM] } })).replace(/}}$/, `,"to":{"tn":["${CALLEE}"]}}}`);
    const response = await postAtis(appAt(), body);
    expect(response.status).toBe(400);
    expect(((await response.json()) as any).requestError.serviceException).toMatchObject({ messageId: "SVC4005", variables: ["to", "given twice"] });
  });

  it("ATIS: a `tn` given twice inside `from` is refused the same way", async () => {
    const { identity } = await signedIdentity();
    const body = JSON.stringify(atisRequest(identity)).replace(`{"tn":"${CALLER}"}`, `{"tn":"77270000000","tn":"${CALLER}"}`);
    const response = await postAtis(appAt(), body);
    expect(response.status).toBe(400);
    expect(((await response.json()) as any).requestError.serviceException).toMatchObject({ messageId: "SVC4005", variables: ["tn", "given twice"] });
  });

  it("/v1/verdict: a second `ruri` is 400 ERR_VALIDATION naming it (README: a JSON member given twice), not a verdict on the last one", async () => {
    const { identity } = await signedIdentity({ dest: [CALLEE] });
    const body = JSON.stringify(verdictRequest([identity], { to: `<sip:+${VICTIM}@operator.example>`, ruri: `sip:+${VICTIM}@operator.example` })).replace(/}$/, `,"ruri":"sip:+${CALLEE}@operator.example"}`);
    const response = await appAt().request("/v1/verdict", { method: "POST", headers: { ...sbcAuth, "Content-Type": "application/json" }, body }, env);
    expect(response.status).toBe(400);
    expect(((await response.json()) as any).error).toMatchObject({ code: "ERR_VALIDATION", field: "ruri", message: "ruri: given twice" });
  });

  it("the same bodies with each member once still verify", async () => {
    const { identity } = await signedIdentity({ dest: [CALLEE] });
    const response = await postAtis(appAt(), atisRequest(identity));
    expect(await response.json()).toEqual({ verificationResponse: { verstat: "TN-Validation-Passed" } });
  });
});
