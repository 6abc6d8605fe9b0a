import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { sbcAuth } from "../support/auth";
import { appAt, CALLEE, CALLER, craftIdentity, IAT, installTrust, issueTestLeaf, postVerdict, serveChain, signedIdentity, verdictRequest } from "../support/stir";

beforeEach(() => installTrust());

function invite(identities: string[], extra = "") {
  return [
    `INVITE sip:+${CALLEE}@operator.example;user=phone SIP/2.0`,
    "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds",
    "Max-Forwards: 70",
    `From: "Caller" <sip:+${CALLER}@carrier.example;user=phone>;tag=1928301774`,
    `To: <sip:+${CALLEE}@operator.example;user=phone>`,
    "Call-ID: a84b4c76e66710@carrier.example",
    "CSeq: 314159 INVITE",
    "Contact: <sip:gw@192.0.2.10>",
    ...identities.map((identity) => `Identity: ${identity}`),
    extra,
    "Content-Length: 0",
    "",
    "",
  ]
    .filter((line, index, lines) => line !== "" || index >= lines.length - 2)
    .join("\r\n");
}

const postInvite = (app: ReturnType<typeof appAt>, body: string, query = "?trunk=domestic-1&international=false") =>
  app.request(`/v1/verdict${query}`, { method: "POST", headers: { ...sbcAuth, "Content-Type": "message/sip" }, body }, env);

describe("raw INVITE through /v1/verdict", () => {
  it("verifies a signed INVITE and takes the ingress from the query", async () => {
    const { identity } = await signedIdentity();
    const response = await postInvite(appAt(), invite([identity]), "?trunk=intl-7&carrier=TransitCo&international=true");
    expect(response.status).toBe(200);
    const { verdict } = (await response.json()) as any;
    expect(verdict).toMatchObject({ verstat: "TN-Validation-Passed", attest: "A", cli: { tn: CALLER, source: "from" } });
  });

  it("matches orig against P-Asserted-Identity when present", async () => {
    const { identity } = await signedIdentity();
    const response = await postInvite(appAt(), invite([identity], `P-Asserted-Identity: <tel:+${CALLER}>, <sip:+${CALLER}@carrier.example>`).replace(`+${CALLER}@carrier.example;user=phone>;tag`, "anonymous@anonymous.invalid>;tag"));
    const { verdict } = (await response.json()) as any;
    expect(verdict).toMatchObject({ verstat: "TN-Validation-Passed", cli: { source: "pai", tn: CALLER } });
  });

  it("accepts bare LF line endings", async () => {
    const { identity } = await signedIdentity();
    const response = await postInvite(appAt(), invite([identity]).replace(/\r\n/g, "\n"));
    expect(((await response.json()) as any).verdict.verstat).toBe("TN-Validation-Passed");
  });

  it("answers 428 for an INVITE with no Identity header", async () => {
    const response = await postInvite(appAt(), invite([]));
    const { verdict } = (await response.json()) as any;
    expect(verdict.stir).toMatchObject({ verstat: "No-TN-Validation", reasoncode: 428, failedCheck: "identity.present" });
  });

  it("answers 413 for an INVITE over 64 KiB, as for any body too large, before parsing it", async () => {
    const big = invite([], `X-Padding: ${"a".repeat(70_000)}`);
    const response = await postInvite(appAt(), big);
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: { code: "ERR_BODY_TOO_LARGE", message: expect.stringContaining("65536") } });
  });

  it("refuses an ingress query parameter given twice, whose meaning would be whichever the route read", async () => {
    const response = await postInvite(appAt(), invite([]), "?trunk=intl-7&international=true&international=false");
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: "ERR_VALIDATION", field: "international", message: "query parameter 'international' is given more than once" } });
  });

  it("refuses a query that is not a boolean", async () => {
    const response = await postInvite(appAt(), invite([]), "?international=maybe");
    expect(response.status).toBe(400);
    expect(((await response.json()) as any).error.field).toBe("international");
  });
});

describe("dest names the number the call is routed to (RFC 8224 §6.2.2)", () => {
  const ELSEWHERE = "77019998877";

  it("a PASSporT signed for the callee To names does not verify a call whose Request-URI routes it to another number", async () => {
    const { identity } = await signedIdentity({ dest: [CALLEE] });
    const response = await postVerdict(appAt(), verdictRequest([identity], { to: `<sip:+${CALLEE}@operator.example>`, ruri: `sip:+${ELSEWHERE}@operator.example` }));
    const { verdict } = (await response.json()) as any;
    expect(verdict).toMatchObject({ verstat: "No-TN-Validation", attest: null, stir: { failedCheck: "passport.dest" } });
  });

  it("nor does a captured PASSporT with its Call-ID copied, presented again towards another number: no fork, a mismatch", async () => {
    const { identity } = await signedIdentity({ dest: [CALLEE] });
    const app = appAt();
    const first = await postVerdict(app, verdictRequest([identity], { callId: "victim-call-1" }));
    expect(((await first.json()) as any).verdict.verstat).toBe("TN-Validation-Passed");
    const again = await postVerdict(app, verdictRequest([identity], { callId: "victim-call-1", to: `<sip:+${CALLEE}@operator.example>`, ruri: `sip:+${ELSEWHERE}@operator.example` }));
    expect(((await again.json()) as any).verdict).toMatchObject({ verstat: "No-TN-Validation", stir: { failedCheck: "passport.dest" } });
  });

  it("a Request-URI that holds no number leaves To to name the callee", async () => {
    const { identity } = await signedIdentity({ dest: [CALLEE] });
    const response = await postVerdict(appAt(), verdictRequest([identity], { to: `<sip:+${CALLEE}@operator.example>`, ruri: "sip:voicemail@operator.example" }));
    expect(((await response.json()) as any).verdict.verstat).toBe("TN-Validation-Passed");
  });
});

describe("div PASSporTs (RFC 8946)", () => {
  const FORWARDED_TO = "77015550000";

  it("verifies a forwarded call: shaken for the original callee, div from it to the new one", async () => {
    const shaken = await signedIdentity({ dest: [CALLEE] });
    const div = await signedIdentity({ ppt: "div", orig: CALLER, dest: [FORWARDED_TO], div: CALLEE });
    const response = await postVerdict(appAt(), verdictRequest([shaken.identity, div.identity], { to: `<sip:+${FORWARDED_TO}@operator.example>`, ruri: `sip:+${FORWARDED_TO}@operator.example` }));
    const { verdict } = (await response.json()) as any;
    expect(verdict.verstat).toBe("TN-Validation-Passed");
    expect(verdict.identities.map((identity: any) => [identity.ppt, identity.outcome])).toEqual([["shaken", "verified"], ["div", "verified"]]);
    expect(verdict.checks).toContainEqual(expect.objectContaining({ id: "passport.div-chain", result: "pass" }));
  });

  it("without the div, the retargeted call's shaken PASSporT does not match the callee", async () => {
    const shaken = await signedIdentity({ dest: [CALLEE] });
    const response = await postVerdict(appAt(), verdictRequest([shaken.identity], { to: `<sip:+${FORWARDED_TO}@operator.example>`, ruri: `sip:+${FORWARDED_TO}@operator.example` }));
    expect(((await response.json()) as any).verdict.stir.failedCheck).toBe("passport.dest");
  });

  it("a retargeted call keeps the original callee in To: its div names the Request-URI's new one", async () => {
    const shaken = await signedIdentity({ dest: [CALLEE] });
    const div = await signedIdentity({ ppt: "div", orig: CALLER, dest: [FORWARDED_TO], div: CALLEE });
    const response = await postVerdict(appAt(), verdictRequest([shaken.identity, div.identity], { to: `<sip:+${CALLEE}@operator.example>`, ruri: `sip:+${FORWARDED_TO}@operator.example` }));
    expect(((await response.json()) as any).verdict.verstat).toBe("TN-Validation-Passed");
  });

  it("fails a div whose orig is not the shaken orig", async () => {
    const shaken = await signedIdentity({ dest: [CALLEE] });
    const div = await signedIdentity({ ppt: "div", orig: "77272500000", dest: [FORWARDED_TO], div: CALLEE });
    const response = await postVerdict(
      appAt(),
      verdictRequest([shaken.identity, div.identity], { from: "+77272500000", to: `+${FORWARDED_TO}`, ruri: `+${FORWARDED_TO}` }),
    );
    const { verdict } = (await response.json()) as any;
    expect(verdict.identities[1]).toMatchObject({ ppt: "div", outcome: "failed" });
    expect(verdict.verstat).not.toBe("TN-Validation-Passed");
  });

  describe("a div's signer vouches for the number that diverted the call, not the caller's (RFC 8946 §3)", () => {
    /** A div signed with a delegate certificate (RFC 9060) whose TNAuthList names only `tn`. */
    const divSignedByHolderOf = async (tn: string, claims: { div?: string } = {}) => {
      const leaf = await issueTestLeaf({ deviations: { tnAuthList: [{ tn }] } });
      return signedIdentity({ ppt: "div", orig: CALLER, dest: [FORWARDED_TO], div: CALLEE, ...claims, x5u: await serveChain(leaf.pem), key: leaf.keyPkcs8 });
    };
    const forwarded = async (div: { identity: string }) => {
      const shaken = await signedIdentity({ dest: [CALLEE] });
      const response = await postVerdict(appAt(), verdictRequest([shaken.identity, div.identity], { to: `<sip:+${CALLEE}@operator.example>`, ruri: `sip:+${FORWARDED_TO}@operator.example` }));
      return ((await response.json()) as any).verdict;
    };

    it("verifies a div signed by the holder of the diverting number's delegate certificate", async () => {
      const verdict = await forwarded(await divSignedByHolderOf(CALLEE));
      expect(verdict.identities.map((identity: any) => [identity.ppt, identity.outcome])).toEqual([["shaken", "verified"], ["div", "verified"]]);
      expect(verdict.verstat).toBe("TN-Validation-Passed");
    });

    it("fails a div signed by the holder of the caller's number alone: it holds no authority over the callee's calls", async () => {
      const verdict = await forwarded(await divSignedByHolderOf(CALLER));
      expect(verdict.identities[1]).toMatchObject({ ppt: "div", outcome: "failed", failedCheck: "certificate.tnauthlist", reasoncode: 437 });
      expect(verdict.identities[1].reasondesc).toContain(`signed div ${CALLEE} is not among the 1 number`);
      expect(verdict.verstat).not.toBe("TN-Validation-Passed");
    });

    it("fails a div naming a URI as the diverting party when its signer is authorised for numbers only", async () => {
      const leaf = await issueTestLeaf({ deviations: { tnAuthList: [{ tn: CALLEE }] } });
      const x5u = await serveChain(leaf.pem);
      const identity = await craftIdentity({
        header: { alg: "ES256", ppt: "div", typ: "passport", x5u },
        claims: { dest: { tn: [FORWARDED_TO] }, div: { uri: `sip:+${CALLEE}@operator.example` }, iat: IAT, orig: { tn: CALLER } },
        x5u,
        key: leaf.keyPkcs8,
      });
      const verdict = await forwarded({ identity });
      expect(verdict.identities[1]).toMatchObject({ ppt: "div", outcome: "failed", failedCheck: "certificate.tnauthlist" });
      expect(verdict.identities[1].reasondesc).toContain("signed div is a URI");
    });
  });

  it("evaluates every Identity header and reports each", async () => {
    const good = await signedIdentity();
    const response = await postVerdict(appAt(), verdictRequest(["garbage;info=<https://a.example/x.pem>", good.identity]));
    const { verdict } = (await response.json()) as any;
    expect(verdict.verstat).toBe("TN-Validation-Passed");
    expect(verdict.identities.map((identity: any) => identity.outcome)).toEqual(["failed", "verified"]);
  });
});
