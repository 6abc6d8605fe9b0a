import { id_pe_JWTClaimConstraints } from "@peculiar/asn1-rfc8226";
import { Extension } from "@peculiar/x509";
import { describe, expect, it } from "vitest";
import { ENHANCED_JWT_CLAIM_CONSTRAINTS_OID } from "../../../src/certificate/claim-constraints";
import { toHex } from "../../../src/pki/keys";
import { checkOf } from "../abuse/support";
import {
  appAt,
  CALLEE,
  CALLER,
  claimConstraintsExtension,
  craftIdentity,
  IAT,
  issueTestLeaf,
  postVerdict,
  serveChain,
  signedIdentity,
  verdictRequest,
  verifyThroughBoth,
  verifyWithFixtureTrust,
  type ClaimConstraintsOf,
} from "../support/stir";

/**
 * RFC 8226 §8 and RFC 9118 §3: the JWT Claim Constraints of the signing certificate bound the claims of
 * every PASSporT it signs, `shaken` and `div`. A PASSporT outside them is refused (438 Invalid Identity
 * Header); a constraint extension that cannot be read refuses the credential (437).
 */
verifyWithFixtureTrust();

const SHAKEN_CLAIMS = { attest: "A", dest: { tn: [CALLEE] }, iat: IAT, orig: { tn: CALLER }, origid: "123e4567-e89b-12d3-a456-426655440000" };

interface Signer {
  x5u: string;
  key: string;
}

async function signerWith(...extensions: Extension[]): Promise<Signer> {
  const leaf = await issueTestLeaf({ deviations: { extensions } });
  return { x5u: await serveChain(leaf.pem), key: leaf.keyPkcs8 };
}

const constrainedBy = (constraints: ClaimConstraintsOf, form: "rfc8226" | "rfc9118" = "rfc8226") => signerWith(claimConstraintsExtension(constraints, form));

/** A call whose `shaken` PASSporT, signed by `signer`, carries `claims` over the usual ones (undefined leaves one out). */
const callSigning = (signer: Signer, claims: Record<string, unknown> = {}) =>
  verifyThroughBoth(appAt(), () => craftIdentity({ ...signer, claims: { ...SHAKEN_CLAIMS, ...claims } }));

async function expectPassed(signer: Signer, claims: Record<string, unknown> = {}) {
  const { atis, verdict } = await callSigning(signer, claims);
  expect(atis).toEqual({ verstat: "TN-Validation-Passed" });
  expect(verdict.verstat).toBe("TN-Validation-Passed");
  return checkOf(verdict, "certificate.claim-constraints");
}

async function expectRefused(signer: Signer, claims: Record<string, unknown>, reason: string | RegExp) {
  const { atis, verdict } = await callSigning(signer, claims);
  const reasondesc = typeof reason === "string" ? reason : expect.stringMatching(reason);
  expect(atis).toEqual({ verstat: "TN-Validation-Failed", reasoncode: 438, reasontext: "Invalid Identity Header", reasondesc });
  expect(verdict.stir).toMatchObject({ verstat: "TN-Validation-Failed", reasoncode: 438, failedCheck: "certificate.claim-constraints", reasondesc });
  expect(checkOf(verdict, "certificate.claim-constraints")).toMatchObject({ result: "fail" });
  expect(checkOf(verdict, "passport.signature")).toMatchObject({ result: "skip" });
}

async function expectUnreadable(extension: Extension, reason: RegExp) {
  const { atis, verdict } = await callSigning(await signerWith(extension));
  expect(atis).toEqual({ verstat: "TN-Validation-Failed", reasoncode: 437, reasontext: "Unsupported Credential", reasondesc: expect.stringMatching(reason) });
  expect(verdict.stir).toMatchObject({ reasoncode: 437, failedCheck: "certificate.claim-constraints", reasondesc: expect.stringMatching(reason) });
}

describe("a signing certificate without claim constraints constrains nothing", () => {
  it("passes the step, saying so", async () => {
    const { verdict } = await verifyThroughBoth(appAt(), async () => (await signedIdentity()).identity);
    expect(checkOf(verdict, "certificate.claim-constraints")).toMatchObject({ result: "pass", detail: "the signing certificate constrains no claims" });
  });
});

describe("RFC 8226 §8 permittedValues: a listed claim, when present, has one of its values", () => {
  it("a leaf permitted attest C signs attest C: verified, naming the extension applied", async () => {
    const check = await expectPassed(await constrainedBy({ permittedValues: { attest: ["C"] } }), { attest: "C" });
    expect(check).toMatchObject({ result: "pass", evidence: { extensions: ["JWTClaimConstraints (RFC 8226 §8)"] } });
  });

  it("the same leaf signs attest A: refused, naming the claim, the value and the constraint", async () => {
    await expectRefused(
      await constrainedBy({ permittedValues: { attest: ["C"] } }),
      { attest: "A" },
      `claim 'attest' is "A", not one of the values "C" that the signing certificate's JWTClaimConstraints (RFC 8226 §8) permittedValues allows`,
    );
  });

  it("a listed claim the PASSporT does not carry is not required ('if the claim name is present')", async () => {
    const signer = await constrainedBy({ permittedValues: { confidence: ["high", "medium"] } });
    await expectPassed(signer);
    await expectPassed(signer, { confidence: "medium" });
    await expectRefused(signer, { confidence: "low" }, /^claim 'confidence' is "low", not one of the values "high", "medium"/);
  });

  it("a claim that is not a string is compared as its JSON text", async () => {
    await expectPassed(await constrainedBy({ permittedValues: { orig: [JSON.stringify({ tn: CALLER })] } }));
    await expectRefused(await constrainedBy({ permittedValues: { orig: ['{"tn":"77272509999"}'] } }), {}, /^claim 'orig' is \{"tn":"77272501234"\}, not one of the values "\{\\"tn\\":\\"77272509999\\"\}"/);
  });
});

describe("RFC 8226 §8 mustInclude: every listed claim is present", () => {
  it("passes a PASSporT that carries each", async () => {
    await expectPassed(await constrainedBy({ mustInclude: ["origid", "confidence"] }), { confidence: "high" });
  });

  it("refuses a PASSporT that lacks one, naming it", async () => {
    await expectRefused(
      await constrainedBy({ mustInclude: ["origid", "confidence"] }),
      {},
      "claim 'confidence' is missing; the signing certificate's JWTClaimConstraints (RFC 8226 §8) mustInclude lists it",
    );
  });
});

describe("RFC 9118 §3 Enhanced JWT Claim Constraints: RFC 8226's, and mustExclude", () => {
  it("refuses a PASSporT that carries a mustExclude claim, naming it and its value", async () => {
    await expectRefused(
      await constrainedBy({ mustExclude: ["rcd"] }, "rfc9118"),
      { rcd: { nam: "Bank" } },
      `claim 'rcd' is present with value {"nam":"Bank"}; the signing certificate's EnhancedJWTClaimConstraints (RFC 9118 §3) mustExclude lists it`,
    );
  });

  it("passes a PASSporT without it", async () => {
    const check = await expectPassed(await constrainedBy({ mustExclude: ["rcd"] }, "rfc9118"));
    expect(check).toMatchObject({ evidence: { extensions: ["EnhancedJWTClaimConstraints (RFC 9118 §3)"] } });
  });

  it("holds mustInclude and permittedValues as RFC 8226 does", async () => {
    const signer = await constrainedBy({ mustInclude: ["confidence"], permittedValues: { attest: ["B", "C"] } }, "rfc9118");
    await expectPassed(signer, { attest: "B", confidence: "high" });
    await expectRefused(signer, { attest: "B" }, /^claim 'confidence' is missing; .* EnhancedJWTClaimConstraints \(RFC 9118 §3\) mustInclude lists it$/);
    await expectRefused(signer, { attest: "A", confidence: "high" }, /^claim 'attest' is "A", not one of the values "B", "C" that .* EnhancedJWTClaimConstraints/);
  });

  it("a leaf that carries both extensions is held to both", async () => {
    const signer = await signerWith(claimConstraintsExtension({ permittedValues: { attest: ["A", "B"] } }, "rfc8226"), claimConstraintsExtension({ permittedValues: { attest: ["B", "C"] } }, "rfc9118"));
    await expectPassed(signer, { attest: "B" });
    await expectRefused(signer, { attest: "A" }, /EnhancedJWTClaimConstraints \(RFC 9118 §3\) permittedValues allows$/);
    await expectRefused(signer, { attest: "C" }, /JWTClaimConstraints \(RFC 8226 §8\) permittedValues allows$/);
  });

  it("is encoded with EXPLICIT tags, as RFC 9118's module (and RFC 8226's) is", () => {
    const extension = claimConstraintsExtension({ mustInclude: ["confidence"], permittedValues: { confidence: ["high", "medium"] }, mustExclude: ["priority"] }, "rfc9118");
    const string = (tag: string) => (text: string) => `${tag}${text.length.toString(16).padStart(2, "0")}${toHex(new TextEncoder().encode(text))}`;
    const [ia5, utf8] = [string("16"), string("0c")];
    expect(toHex(extension.value)).toBe(`3040a00e300c${ia5("confidence")}a120301e301c${ia5("confidence")}300e${utf8("high")}${utf8("medium")}a20c300a${ia5("priority")}`);
  });
});

describe("a claim constraints extension that cannot be decoded refuses the credential (437), naming it", () => {
  const valid = claimConstraintsExtension({ permittedValues: { attest: ["C"] } }, "rfc9118");

  it("an RFC 8226 extension that is no JWTClaimConstraints", async () => {
    await expectUnreadable(
      new Extension(id_pe_JWTClaimConstraints, false, new Uint8Array([0x04, 0x01, 0x43])),
      /^the signing certificate's JWTClaimConstraints \(RFC 8226 §8\) extension \(1\.3\.6\.1\.5\.5\.7\.1\.27\) cannot be decoded/,
    );
  });

  it("an enhanced extension with none of its components (WITH COMPONENTS asks for one)", async () => {
    await expectUnreadable(
      new Extension(ENHANCED_JWT_CLAIM_CONSTRAINTS_OID, false, new Uint8Array([0x30, 0x00])),
      /^the signing certificate's EnhancedJWTClaimConstraints \(RFC 9118 §3\) extension \(1\.3\.6\.1\.5\.5\.7\.1\.33\) cannot be decoded: none of its components is present$/,
    );
  });

  it("an enhanced extension whose mustInclude list is empty (SIZE (1..MAX))", async () => {
    const value = new Uint8Array([0x30, 0x04, 0xa0, 0x02, 0x30, 0x00]);
    await expectUnreadable(new Extension(ENHANCED_JWT_CLAIM_CONSTRAINTS_OID, false, value), /cannot be decoded: it holds an empty list$/);
  });

  it("two enhanced extensions (RFC 5280 §4.2: one of each)", async () => {
    const other = claimConstraintsExtension({ permittedValues: { attest: ["A"] } }, "rfc9118");
    const { atis } = await callSigning(await signerWith(valid, other));
    expect(atis).toMatchObject({ reasoncode: 437, reasondesc: "the signing certificate carries 2 EnhancedJWTClaimConstraints (RFC 9118 §3) extensions (RFC 5280 §4.2 allows one)" });
  });

  it("an enhanced extension followed by bytes DER does not allow", async () => {
    const value = new Uint8Array([...new Uint8Array(valid.value), 0x00, 0x00]);
    await expectUnreadable(new Extension(ENHANCED_JWT_CLAIM_CONSTRAINTS_OID, false, value), /cannot be decoded: not the DER encoding of its type$/);
  });
});

describe("RFC 8946 div PASSporTs: the div signer's certificate constrains the div PASSporT", () => {
  const FORWARDED_TO = "77015550000";

  /** A call to CALLEE forwarded to FORWARDED_TO: the fixture leaf signs the shaken PASSporT, `divSigner` the div. */
  async function forwardedCall(divSigner: Signer) {
    const shaken = await signedIdentity({ dest: [CALLEE] });
    const div = await signedIdentity({ ...divSigner, ppt: "div", orig: CALLER, dest: [FORWARDED_TO], div: CALLEE });
    const response = await postVerdict(appAt(), verdictRequest([shaken.identity, div.identity], { to: `<sip:+${FORWARDED_TO}@operator.example>`, ruri: `sip:+${FORWARDED_TO}@operator.example` }));
    return ((await response.json()) as { verdict: any }).verdict;
  }

  it("a div signer permitted to divert from CALLEE does", async () => {
    const verdict = await forwardedCall(await constrainedBy({ permittedValues: { div: [JSON.stringify({ tn: CALLEE })] } }));
    expect(verdict.identities.map((identity: any) => [identity.ppt, identity.outcome])).toEqual([
      ["shaken", "verified"],
      ["div", "verified"],
    ]);
  });

  it("a div signer permitted to divert from another number only: the div PASSporT is refused, and the retargeted call is not verified", async () => {
    const verdict = await forwardedCall(await constrainedBy({ permittedValues: { div: ['{"tn":"77019999999"}'] } }));
    expect(verdict.identities[1]).toMatchObject({ ppt: "div", outcome: "failed" });
    expect(JSON.stringify(verdict.identities[1])).toContain(`claim 'div' is {\\"tn\\":\\"${CALLEE}\\"}`);
    expect(verdict.verstat).not.toBe("TN-Validation-Passed");
  });
});
