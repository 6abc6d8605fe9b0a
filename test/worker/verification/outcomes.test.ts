import { env } from "cloudflare:workers";
import { id_pe_JWTClaimConstraints } from "@peculiar/asn1-rfc8226";
import { Extension } from "@peculiar/x509";
import { CompactSign } from "jose";
import { beforeEach, describe, expect, it } from "vitest";
import type { RuntimeOverrides } from "../../../src/runtime";
import { OUTCOMES, type VerificationFailure } from "../../../src/verification/outcomes";
import {
  appAt,
  atisRequest,
  CALLEE,
  CALLER,
  claimConstraintsExtension,
  craftIdentity,
  IAT,
  installTrust,
  issueTestLeaf,
  pki,
  postAtis,
  postVerdict,
  register,
  serveChain,
  signedIdentity,
  uniquePath,
  verdictRequest,
} from "../support/stir";

beforeEach(() => installTrust());

interface OutcomeCase {
  /** Identity header values of the call (one unless the row is about several). */
  identities: () => Promise<string[]>;
  /** Seconds after IAT at which the verifier's clock reads. */
  at?: number;
  env?: Record<string, string>;
  /** Bindings that replace the test environment's (a store made to fail). */
  bindings?: Record<string, unknown>;
  /** A different trust set for this case. */
  trust?: () => Promise<void>;
  /** Presented once already: the case is the second presentation, which only /v1/verdict judges (the ATIS endpoint runs no replay guard). */
  presentedBefore?: boolean;
  overrides?: RuntimeOverrides;
}

const one = (build: () => Promise<string>) => async () => [await build()];

/** One case per row of the outcome table (spec digest §4); the test below insists every row has one. */
const CASES: Record<VerificationFailure, OutcomeCase> = {
  IDENTITY_MISSING: { identities: async () => [] },
  PPT_UNSUPPORTED: {
    identities: one(async () => {
      const x5u = await serveChain();
      return craftIdentity({ x5u, header: { alg: "ES256", ppt: "rcd", typ: "passport", x5u } });
    }),
  },
  IDENTITY_MALFORMED: { identities: one(async () => "not-a-passport;info=<https://cr.example.net/sp.pem>;alg=ES256;ppt=shaken") },
  IDENTITY_COMPACT_FORM: { identities: one(async () => `..${"A".repeat(86)};info=<https://cr.example.net/sp.pem>;alg=ES256;ppt=shaken`) },
  PPT_PARAMETER_MISMATCH: { identities: one(async () => (await signedIdentity()).identity.replace(";ppt=shaken", ";ppt=div")) },
  INFO_INVALID: { identities: one(async () => (await signedIdentity()).jws) },
  X5U_MISMATCH: { identities: one(async () => (await signedIdentity()).identity.replace(/info=<[^>]+>/, `info=<${await serveChain()}>`)) },
  X5U_POLICY: { identities: one(async () => (await signedIdentity({ x5u: "https://10.0.0.1/sp.pem" })).identity) },
  X5U_FETCH_FAILED: { identities: one(async () => (await signedIdentity({ x5u: await register({ path: uniquePath("missing"), status: 404 }) })).identity) },
  X5U_NOT_CERTIFICATE_CHAIN: { identities: one(async () => (await signedIdentity({ x5u: await register({ path: uniquePath("text"), body: "hello, not a PEM" }) })).identity) },
  PASSPORT_HEADER_INVALID: {
    identities: one(async () => {
      const x5u = await serveChain();
      return craftIdentity({ x5u, header: { alg: "ES256", crit: ["exp"], exp: 1, ppt: "shaken", typ: "passport", x5u } });
    }),
  },
  TYP_UNSUPPORTED: {
    identities: one(async () => {
      const x5u = await serveChain();
      return craftIdentity({ x5u, header: { alg: "ES256", ppt: "shaken", typ: "JWT", x5u } });
    }),
  },
  ALG_UNSUPPORTED: {
    identities: one(async () => {
      const x5u = await serveChain();
      return craftIdentity({ x5u, header: { alg: "none", ppt: "shaken", typ: "passport", x5u } });
    }),
  },
  CLAIMS_INVALID: {
    identities: one(() =>
      craftIdentity({ claims: { attest: "A", dest: { tn: [CALLEE] }, iat: String(IAT), orig: { tn: CALLER }, origid: "123e4567-e89b-12d3-a456-426655440000" } }),
    ),
  },
  ATTEST_INVALID: {
    identities: one(() => craftIdentity({ claims: { attest: "D", dest: { tn: [CALLEE] }, iat: IAT, orig: { tn: CALLER }, origid: "123e4567-e89b-12d3-a456-426655440000" } })),
  },
  ORIGID_MISSING: { identities: one(() => craftIdentity({ claims: { attest: "A", dest: { tn: [CALLEE] }, iat: IAT, orig: { tn: CALLER } } })) },
  STALE: { identities: one(async () => (await signedIdentity()).identity), at: 61 },
  ORIG_MISMATCH: { identities: one(async () => (await signedIdentity({ orig: "77272509999" })).identity) },
  DEST_MISMATCH: { identities: one(async () => (await signedIdentity({ dest: ["77019999999"] })).identity) },
  DIV_NOT_CHAINED: { identities: one(async () => (await signedIdentity({ ppt: "div", orig: CALLER, dest: [CALLEE], div: "77010000000" })).identity) },
  CHAIN_UNTRUSTED: { identities: one(async () => (await signedIdentity()).identity), trust: () => installTrust({ anchors: [pki.untrustedRoot] }) },
  CERTIFICATE_NOT_VALID_AT_IAT: {
    identities: one(async () => (await signedIdentity({ x5u: await serveChain(pki.expiredLeaf), key: pki.expiredLeafKeyPkcs8 })).identity),
  },
  CERTIFICATE_REVOKED: {
    identities: one(async () => (await signedIdentity({ x5u: await serveChain(pki.revokedLeaf), key: pki.revokedLeafKeyPkcs8 })).identity),
    trust: () => installTrust({ crls: [pki.crl] }),
  },
  REVOCATION_UNKNOWN: { identities: one(async () => (await signedIdentity()).identity), env: { CRL_MODE: "hard" } },
  TNAUTHLIST_MISSING: {
    identities: one(async () => (await signedIdentity({ x5u: await serveChain(pki.noTnAuthListLeaf), key: pki.noTnAuthListLeafKeyPkcs8 })).identity),
  },
  ORIG_NOT_AUTHORISED: {
    // A delegate certificate (RFC 9060) scoped to another number signs the caller's.
    identities: one(async () => {
      const leaf = await issueTestLeaf({ deviations: { tnAuthList: [{ tn: "77272509999" }] } });
      return (await signedIdentity({ x5u: await serveChain(leaf.pem), key: leaf.keyPkcs8 })).identity;
    }),
  },
  CLAIM_CONSTRAINTS_UNREADABLE: {
    identities: one(async () => {
      const leaf = await issueTestLeaf({ deviations: { extensions: [new Extension(id_pe_JWTClaimConstraints, false, new Uint8Array([0x30, 0x00]))] } });
      return (await signedIdentity({ x5u: await serveChain(leaf.pem), key: leaf.keyPkcs8 })).identity;
    }),
  },
  CLAIM_NOT_PERMITTED: {
    // RFC 8226 §8: a leaf permitted attest C signs attest A.
    identities: one(async () => {
      const leaf = await issueTestLeaf({ deviations: { extensions: [claimConstraintsExtension({ permittedValues: { attest: ["C"] } }, "rfc8226")] } });
      return (await signedIdentity({ x5u: await serveChain(leaf.pem), key: leaf.keyPkcs8, attest: "A" })).identity;
    }),
  },
  KEY_UNSUPPORTED: { identities: one(async () => craftIdentity({ x5u: await serveChain((await issueTestLeaf({ keyType: "P-384" })).pem) })) },
  CERTIFICATE_PROFILE: {
    // KeyUsage not critical is an error-level ATIS-1000080 finding: reported normally, fatal in strict mode.
    identities: one(async () => {
      const leaf = await issueTestLeaf({ deviations: { keyUsageNotCritical: true } });
      return (await signedIdentity({ x5u: await serveChain(leaf.pem), key: leaf.keyPkcs8 })).identity;
    }),
    env: { STRICT_PROFILE: "true" },
  },
  SIGNATURE_INVALID: {
    identities: one(async () => {
      const { identity } = await signedIdentity();
      const [jws, params] = [identity.slice(0, identity.indexOf(";")), identity.slice(identity.indexOf(";"))];
      const signatureStart = jws.lastIndexOf(".") + 1;
      const flipped = jws[signatureStart] === "A" ? "B" : "A";
      return `${jws.slice(0, signatureStart)}${flipped}${jws.slice(signatureStart + 1)}${params}`;
    }),
  },
  PASSPORT_REPLAYED: { identities: one(async () => (await signedIdentity()).identity), presentedBefore: true },
  // A cold isolate, KV down, no last good set kept; the trust policy made fail-closed so that store.trust is a failed check.
  TRUST_UNAVAILABLE: {
    identities: one(async () => (await signedIdentity()).identity),
    env: { DEPENDENCY_FAILURE_POLICY: "trust=block" },
    bindings: { TRUST: { get: () => Promise.reject(new Error("KV GET failed: 503")) } },
    overrides: { trustCache: null },
  },
};

/** The spec digest's §4 table, written out independently of the code's table. */
const SPEC_TABLE: Record<VerificationFailure, [number, string, string]> = {
  IDENTITY_MISSING: [428, "Use Identity Header", "No-TN-Validation"],
  PPT_UNSUPPORTED: [428, "Use Supported PASSporT Format", "No-TN-Validation"],
  IDENTITY_MALFORMED: [438, "Invalid Identity Header", "No-TN-Validation"],
  IDENTITY_COMPACT_FORM: [438, "Invalid Identity Header", "No-TN-Validation"],
  PPT_PARAMETER_MISMATCH: [438, "Invalid Identity Header", "No-TN-Validation"],
  INFO_INVALID: [436, "Bad Identity Info", "No-TN-Validation"],
  X5U_MISMATCH: [436, "Bad Identity Info", "No-TN-Validation"],
  X5U_POLICY: [436, "Bad Identity Info", "No-TN-Validation"],
  X5U_FETCH_FAILED: [436, "Bad Identity Info", "No-TN-Validation"],
  X5U_NOT_CERTIFICATE_CHAIN: [436, "Bad Identity Info", "No-TN-Validation"],
  PASSPORT_HEADER_INVALID: [438, "Invalid Identity Header", "No-TN-Validation"],
  TYP_UNSUPPORTED: [437, "Unsupported Credential", "No-TN-Validation"],
  ALG_UNSUPPORTED: [437, "Unsupported Credential", "No-TN-Validation"],
  CLAIMS_INVALID: [438, "Invalid Identity Header", "No-TN-Validation"],
  ATTEST_INVALID: [438, "Invalid Identity Header", "No-TN-Validation"],
  ORIGID_MISSING: [438, "Invalid Identity Header", "No-TN-Validation"],
  STALE: [403, "Stale Date", "No-TN-Validation"],
  ORIG_MISMATCH: [438, "Invalid Identity Header", "No-TN-Validation"],
  DEST_MISMATCH: [438, "Invalid Identity Header", "No-TN-Validation"],
  DIV_NOT_CHAINED: [438, "Invalid Identity Header", "No-TN-Validation"],
  CHAIN_UNTRUSTED: [437, "Unsupported Credential", "TN-Validation-Failed"],
  CERTIFICATE_NOT_VALID_AT_IAT: [437, "Unsupported Credential", "TN-Validation-Failed"],
  CERTIFICATE_REVOKED: [437, "Unsupported Credential", "TN-Validation-Failed"],
  REVOCATION_UNKNOWN: [437, "Unsupported Credential", "TN-Validation-Failed"],
  TNAUTHLIST_MISSING: [437, "Unsupported Credential", "TN-Validation-Failed"],
  ORIG_NOT_AUTHORISED: [437, "Unsupported Credential", "TN-Validation-Failed"],
  // Not in the digest's table, which predates them: RFC 8226 §8 / RFC 9118 §3 (outcomes.ts says why these codes).
  CLAIM_CONSTRAINTS_UNREADABLE: [437, "Unsupported Credential", "TN-Validation-Failed"],
  CLAIM_NOT_PERMITTED: [438, "Invalid Identity Header", "TN-Validation-Failed"],
  KEY_UNSUPPORTED: [437, "Unsupported Credential", "TN-Validation-Failed"],
  CERTIFICATE_PROFILE: [437, "Unsupported Credential", "TN-Validation-Failed"],
  SIGNATURE_INVALID: [438, "Invalid Identity Header", "TN-Validation-Failed"],
  PASSPORT_REPLAYED: [438, "Invalid Identity Header", "TN-Validation-Failed"],
  TRUST_UNAVAILABLE: [437, "Unsupported Credential", "No-TN-Validation"],
};

describe("outcome table (spec digest §4): every failure maps to its SIP code, reason, verstat and check id", () => {
  it("has a case for every row", () => {
    expect(Object.keys(CASES).sort()).toEqual(Object.keys(OUTCOMES).sort());
  });

  it("matches the spec digest's table row by row", () => {
    for (const [failure, [reasonCode, reasonText, verstat]] of Object.entries(SPEC_TABLE)) {
      expect({ failure, ...OUTCOMES[failure as VerificationFailure] }).toMatchObject({ failure, reasonCode, reasonText, verstat });
    }
    expect(Object.keys(SPEC_TABLE).sort()).toEqual(Object.keys(OUTCOMES).sort());
  });

  for (const [failure, testCase] of Object.entries(CASES) as [VerificationFailure, OutcomeCase][]) {
    const row = OUTCOMES[failure];
    it(`${failure} → ${row.reasonCode} ${row.reasonText}, ${row.verstat}, ${row.checkId}`, async () => {
      await testCase.trust?.();
      const identities = await testCase.identities();
      const app = appAt(testCase.at ?? 0, testCase.overrides);
      const bindings = { ...env, ...testCase.bindings, ...testCase.env };

      const askVerdict = () =>
        app.request(
          "/v1/verdict",
          { method: "POST", headers: { Authorization: "Bearer test-sbc-key", "Content-Type": "application/json" }, body: JSON.stringify(verdictRequest(identities)) },
          bindings,
        );
      if (testCase.presentedBefore) expect((await askVerdict()).status).toBe(200);
      const native = await askVerdict();
      expect(native.status).toBe(200);
      const { verdict } = (await native.json()) as { verdict: any };
      expect(verdict.stir).toMatchObject({ verstat: row.verstat, reasoncode: row.reasonCode, reasontext: row.reasonText, failedCheck: row.checkId });
      expect(verdict.checks).toContainEqual(expect.objectContaining({ id: row.checkId, result: "fail" }));

      if (identities.length === 1 && !testCase.presentedBefore) {
        const atis = await postAtisWith(app, bindings, atisRequest(identities[0]!));
        expect(atis.status).toBe(200);
        expect(await atis.json()).toEqual({
          verificationResponse: { verstat: row.verstat, reasoncode: row.reasonCode, reasontext: row.reasonText, reasondesc: expect.any(String) },
        });
      }
    });
  }
});

function postAtisWith(app: ReturnType<typeof appAt>, bindings: object, body: unknown) {
  const text = JSON.stringify(body);
  return app.request(
    "/stir/v1/verification",
    { method: "POST", headers: { Authorization: "Bearer test-sbc-key", "Content-Type": "application/json", "Content-Length": String(text.length) }, body: text },
    bindings,
  );
}

describe("hostile PASSporTs and headers", () => {
  const expectFailure = async (identity: string, failure: VerificationFailure, at = 0) => {
    const response = await postAtis(appAt(at), atisRequest(identity));
    const body = (await response.json()) as any;
    expect(body.verificationResponse).toMatchObject({ reasoncode: OUTCOMES[failure].reasonCode, verstat: OUTCOMES[failure].verstat });
    return body.verificationResponse.reasondesc as string;
  };

  it("refuses alg none", async () => {
    const x5u = await serveChain();
    const header = { alg: "none", ppt: "shaken", typ: "passport", x5u };
    const encode = (value: unknown) => btoa(JSON.stringify(value)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
    const claims = { attest: "A", dest: { tn: [CALLEE] }, iat: IAT, orig: { tn: CALLER }, origid: "123e4567-e89b-12d3-a456-426655440000" };
    const unsigned = `${encode(header)}.${encode(claims)}.`;
    // An empty signature segment is not even a PASSporT; with a dummy one the alg check refuses it.
    expect(await expectFailure(`${unsigned};info=<${x5u}>;alg=ES256;ppt=shaken`, "IDENTITY_MALFORMED")).toMatch(/empty segment/);
    expect(await expectFailure(`${unsigned}AAAA;info=<${x5u}>;alg=ES256;ppt=shaken`, "ALG_UNSUPPORTED")).toMatch(/"none"/);
  });

  it("refuses HS256 signed with the certificate's public key bytes (algorithm confusion)", async () => {
    const x5u = await serveChain();
    const claims = { attest: "A", dest: { tn: [CALLEE] }, iat: IAT, orig: { tn: CALLER }, origid: "123e4567-e89b-12d3-a456-426655440000" };
    const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
      .setProtectedHeader({ alg: "HS256", ppt: "shaken", typ: "passport", x5u })
      .sign(new TextEncoder().encode(pki.leaf));
    expect(await expectFailure(`${jws};info=<${x5u}>;alg=ES256;ppt=shaken`, "ALG_UNSUPPORTED")).toMatch(/HS256/);
  });

  it("refuses iat as a string (erratum 6656)", async () => {
    const identity = await craftIdentity({ claims: `{"attest":"A","dest":{"tn":["${CALLEE}"]},"iat":"${IAT}","orig":{"tn":"${CALLER}"},"origid":"123e4567-e89b-12d3-a456-426655440000"}` });
    expect(await expectFailure(identity, "CLAIMS_INVALID")).toMatch(/iat must be a JSON integer/);
  });

  it.each([
    ["a fraction", IAT + 0.5],
    ["negative", -1],
    ["past 2^53", 2 ** 53],
  ])("refuses iat that is %s: a NumericDate here is a whole number of seconds, at the claims step", async (_, iat) => {
    const identity = await craftIdentity({ claims: { attest: "A", dest: { tn: [CALLEE] }, iat, orig: { tn: CALLER }, origid: "123e4567-e89b-12d3-a456-426655440000" } });
    expect(await expectFailure(identity, "CLAIMS_INVALID")).toMatch(/iat must be a JSON integer/);
  });

  it.each([
    ["orig.tn", { tn: "Bob" }, [CALLEE], /orig.tn "Bob" is not a telephone number/],
    ["orig.tn", { tn: "7".repeat(16) }, [CALLEE], /orig.tn "7{16}" is not a telephone number \(1 to 15 digits/],
    ["dest.tn", { tn: CALLER }, [CALLEE, "sip:+77012345678@x.example"], /dest.tn "sip:\+77012345678@x.example" is not a telephone number/],
  ])("refuses a %s that is no telephone number at the claims step (RFC 8225 §5.2.1)", async (_, orig, dest, message) => {
    const identity = await craftIdentity({ claims: { attest: "A", dest: { tn: dest }, iat: IAT, orig, origid: "123e4567-e89b-12d3-a456-426655440000" } });
    expect(await expectFailure(identity, "CLAIMS_INVALID")).toMatch(message);
  });

  it("refuses duplicate JSON members in the claims", async () => {
    const identity = await craftIdentity({ claims: `{"attest":"A","dest":{"tn":["${CALLEE}"]},"iat":${IAT},"orig":{"tn":"${CALLER}"},"orig":{"tn":"1"},"origid":"123e4567-e89b-12d3-a456-426655440000"}` });
    expect(await expectFailure(identity, "CLAIMS_INVALID")).toMatch(/duplicate member name 'orig'/);
  });

  it("refuses duplicate Identity header parameters", async () => {
    const { identity, x5u } = await signedIdentity();
    expect(await expectFailure(`${identity};info=<${x5u}>`, "IDENTITY_MALFORMED")).toMatch(/'info' appears more than once/);
  });

  it("refuses a 50 KB Identity header without parsing it", async () => {
    const { identity } = await signedIdentity();
    expect(await expectFailure(`${identity};x=${"a".repeat(50_000)}`, "IDENTITY_MALFORMED")).toMatch(/at most 4096/);
  });

  it("names each profile finding of a credential it accepts, outside strict mode", async () => {
    const leaf = await issueTestLeaf({ deviations: { keyUsageNotCritical: true } });
    const { identity } = await signedIdentity({ x5u: await serveChain(leaf.pem), key: leaf.keyPkcs8 });
    const { verdict } = (await (await postVerdict(appAt(), verdictRequest([identity]))).json()) as any;
    expect(verdict.verstat).toBe("TN-Validation-Passed");
    const profile = verdict.checks.find((check: { id: string }) => check.id === "certificate.profile");
    expect(profile).toMatchObject({ result: "warn", detail: expect.stringMatching(/^1 ATIS-1000080 profile finding\(s\): e_atis_ext_key_usage$/), evidence: { findings: ["e_atis_ext_key_usage"] } });
  });

  it("accepts ppt quoted and unquoted", async () => {
    const { identity } = await signedIdentity();
    const quoted = identity.replace(";ppt=shaken", ';ppt="shaken"');
    const response = await postAtis(appAt(), atisRequest(quoted));
    expect(await response.json()).toEqual({ verificationResponse: { verstat: "TN-Validation-Passed" } });
  });

  for (const [name, x5u] of [
    ["userinfo", "https://user:pass@cr.example.net/sp.pem"],
    ["a query", "https://cr.example.net/sp.pem?x=1"],
    ["port 8080", "https://cr.example.net:8080/sp.pem"],
    ["http:", "http://cr.example.net/sp.pem"],
    ["a private address", "https://10.0.0.1/sp.pem"],
  ] as const) {
    it(`refuses an x5u with ${name} before fetching anything`, async () => {
      let fetched = 0;
      const app = appAt(0, { fetcher: async () => (fetched++, new Response("unused")) });
      const { identity } = await signedIdentity({ x5u });
      const response = await postAtis(app, atisRequest(identity));
      expect(((await response.json()) as any).verificationResponse).toMatchObject({ reasoncode: 436, reasontext: "Bad Identity Info" });
      expect(fetched).toBe(0);
    });
  }
});
