import { Extension } from "@peculiar/x509";
import { describe, expect, it } from "vitest";
import { encodeTnAuthList, TN_AUTH_LIST_OID } from "../../../src/certificate/tnauthlist";
import { issueTestCa, pemOf } from "../support/attack-pki";
import type { TnAuthListEntry } from "../../../src/certificate/tnauthlist";
import { createDevelopmentCa, type ProfileDeviations, type SigningAuthority } from "../../../src/pki";
import { appAt, CALLER, installTrust, issueTestLeaf, pki, register, serveChain, signedIdentity, uniquePath, verifyThroughBoth, verifyWithFixtureTrust } from "../support/stir";

verifyWithFixtureTrust();

interface Signer {
  x5u: string;
  key: string;
}

/** A leaf of the fixture CA (or of `issuer`, served with its chain) with a TNAuthList of its own. */
async function signerWith(deviations: ProfileDeviations, issuer?: { authority: SigningAuthority; chain: string }): Promise<Signer> {
  const leaf = await issueTestLeaf({ deviations, issuer: issuer?.authority });
  const x5u = issuer ? await register({ path: uniquePath("delegate"), body: `${leaf.pem}${issuer.chain}` }) : await serveChain(leaf.pem);
  return { x5u, key: leaf.keyPkcs8 };
}

/** `caller` signs a call to CALLEE with `signer`'s certificate; verified through both endpoints. */
const callFrom = (signer: Signer, caller: string) =>
  verifyThroughBoth(appAt(), async () => (await signedIdentity({ ...signer, orig: caller })).identity, { orig: caller });

const PASSED = { verstat: "TN-Validation-Passed" };

async function expectPassed(signer: Signer, caller: string) {
  const { atis, verdict } = await callFrom(signer, caller);
  expect(atis).toEqual(PASSED);
  expect(verdict.verstat).toBe("TN-Validation-Passed");
  return verdict.checks.find((check: { id: string }) => check.id === "certificate.tnauthlist");
}

async function expectRefused(signer: Signer, caller: string, because: RegExp) {
  const { atis, verdict } = await callFrom(signer, caller);
  expect(atis).toEqual({ verstat: "TN-Validation-Failed", reasoncode: 437, reasontext: "Unsupported Credential", reasondesc: expect.stringMatching(because) });
  expect(verdict.stir).toMatchObject({ verstat: "TN-Validation-Failed", reasoncode: 437, failedCheck: "certificate.tnauthlist" });
  expect(verdict.checks).toContainEqual(expect.objectContaining({ id: "certificate.tnauthlist", result: "fail" }));
}

const tnScoped = (...tnAuthList: TnAuthListEntry[]) => signerWith({ tnAuthList });

describe("a TNAuthList of telephone numbers authorises exactly those numbers (RFC 8226 §9; delegate certificates, RFC 9060)", () => {
  it("a `one` entry: its number passes, naming the entry", async () => {
    const check = await expectPassed(await tnScoped({ tn: CALLER }), CALLER);
    expect(check).toMatchObject({ result: "pass", evidence: { orig: CALLER, entry: { tn: CALLER } } });
  });

  it("a `one` entry: any other number fails", async () => {
    await expectRefused(await tnScoped({ tn: "77272509999" }), CALLER, /^signed orig 77272501234 is not among the 1 number and 0 ranges that the TNAuthList of the signing certificate authorises/);
  });

  describe("a `range` of 100 from 77272501200", () => {
    const range = { start: "77272501200", count: 100 };

    it.each(["77272501200", "77272501234", "77272501299"])("%s, within it, passes", async (caller) => {
      const check = await expectPassed(await tnScoped({ range }), caller);
      expect(check).toMatchObject({ result: "pass", evidence: { orig: caller, entry: { range } } });
    });

    it.each([
      ["77272501199, one before its start", "77272501199"],
      ["77272501300, start + count", "77272501300"],
      ["077272501250, inside by value but not of the start's length", "077272501250"],
    ])("%s, fails", async (_, caller) => {
      await expectRefused(await tnScoped({ range }), caller, /is not among the 0 numbers and 1 range /);
    });
  });

  it("a `range` whose count takes four bytes or more (2^24 from 77272500000): its numbers pass, and the evidence names the count as a number", async () => {
    const range = { start: "77272500000", count: 2 ** 24 };
    const check = await expectPassed(await tnScoped({ range }), CALLER);
    expect(check).toMatchObject({ result: "pass", evidence: { orig: CALLER, entry: { range } } });
    await expectRefused(await tnScoped({ range }), "772725000000", /is not among the 0 numbers and 1 range /);
  });

  it("several entries: a number named by any of them passes", async () => {
    const signer = await tnScoped({ tn: "77012345678" }, { range: { start: "77272501230", count: 10 } });
    await expectPassed(signer, CALLER);
    await expectRefused(signer, "77272501240", /not among the 1 number and 1 range /);
  });
});

describe("a service provider code vouches for its provider's numbers, as before", () => {
  it("the fixture's SPC 818H certificate passes", async () => {
    const check = await expectPassed({ x5u: await serveChain(), key: pki.leafKeyPkcs8 }, CALLER);
    expect(check).toMatchObject({ result: "pass", evidence: { spc: "818H" } });
  });

  it("a valid SPC beside numbers vouches for any number", async () => {
    await expectPassed(await tnScoped({ spc: "818H" }, { tn: "77012345678" }), CALLER);
  });
});

describe("a TNAuthList that names no valid service provider code and no telephone number fails", () => {
  it("libstirshaken's URL in a bare IA5String is no SPC", async () => {
    const signer = await signerWith({ bareTnAuthList: { spc: "https://sti-ca.example/spc/818H", type: "ia5" } });
    await expectRefused(signer, CALLER, /names no valid service provider code and no telephone number: "https:\/\/sti-ca\.example\/spc\/818H" is no service provider code/);
  });

  it("an RFC 8226 list whose one SPC is not [A-Z0-9]+", async () => {
    await expectRefused(await tnScoped({ spc: "818h" }), CALLER, /names no valid service provider code and no telephone number: "818h"/);
  });

  it.each(["ia5", "printable"] as const)("a valid SPC in a bare %s string is reported, not failed", async (type) => {
    const check = await expectPassed(await signerWith({ bareTnAuthList: { spc: "818H", type } }), CALLER);
    expect(check).toMatchObject({ result: "warn", detail: expect.stringMatching(/not RFC 8226-encoded/), evidence: { spcs: ["818H"] } });
  });
});

describe("an issuing CA's TNAuthList bounds the numbers it delegates (RFC 9060 §4, encompassing)", () => {
  /** A delegation CA: its intermediate may delegate 77272501200–77272501299 only. */
  async function delegationCa() {
    const validity = { notBefore: new Date("2025-01-01T00:00:00Z"), notAfter: new Date("2035-01-01T00:00:00Z") };
    const ca = await createDevelopmentCa({ organization: "Delegation", country: "KZ", ...validity, intermediateTnAuthList: [{ range: { start: "77272501200", count: 100 } }] });
    await installTrust({ anchors: [ca.root.certificate.toString("pem")] });
    return { authority: ca.intermediate, chain: ca.intermediate.certificate.toString("pem") };
  }

  it("a delegate certificate's number within the issuer's range passes", async () => {
    await expectPassed(await signerWith({ tnAuthList: [{ tn: CALLER }] }, await delegationCa()), CALLER);
  });

  it("a delegate certificate's number outside the issuer's range fails, naming the issuer", async () => {
    await expectRefused(await signerWith({ tnAuthList: [{ tn: "77272509999" }] }, await delegationCa()), "77272509999", /not among the 0 numbers and 1 range that the TNAuthList of issuing CA '.*Delegation SHAKEN Intermediate CA' authorises/);
  });

  it("an SPC certificate under it vouches only within the issuer's range", async () => {
    const issuer = await delegationCa();
    await expectPassed(await signerWith({}, issuer), CALLER);
    await expectRefused(await signerWith({}, issuer), "77272509999", /TNAuthList of issuing CA/);
  });
});

describe("a provider's CA encompasses its own service provider code only (RFC 9060 §4)", () => {
  /** A provider CA (trusted as an anchor here) whose intermediate's TNAuthList names `spc`: RFC 9060 delegation. */
  async function providerCa(spc: string) {
    const validity = { notBefore: new Date("2025-01-01T00:00:00Z"), notAfter: new Date("2035-01-01T00:00:00Z") };
    const ca = await createDevelopmentCa({ organization: `Provider ${spc}`, country: "KZ", ...validity, intermediateTnAuthList: [{ spc }] });
    await installTrust({ anchors: [ca.root.certificate.toString("pem")] });
    return { authority: ca.intermediate, chain: ca.intermediate.certificate.toString("pem") };
  }

  it("a certificate naming the CA's own code passes", async () => {
    const check = await expectPassed(await signerWith({ tnAuthList: [{ spc: "KZPRV1" }] }, await providerCa("KZPRV1")), CALLER);
    expect(check).toMatchObject({ result: "pass", evidence: { spc: "KZPRV1" } });
  });

  it("a certificate naming another provider's code fails, naming both: the CA would speak for a provider it is not", async () => {
    await expectRefused(
      await signerWith({ tnAuthList: [{ spc: "KZTEL1" }] }, await providerCa("ROGUE1")),
      CALLER,
      /^the TNAuthList of issuing CA '.*Provider ROGUE1 SHAKEN Intermediate CA' names the service provider code\(s\) ROGUE1, which do not encompass the code KZTEL1 of the signing certificate \(RFC 9060 §4\)/,
    );
  });
});

describe("a TNAuthList that cannot be read vouches for nothing (RFC 8226 §9)", () => {
  /** DER that opens a SEQUENCE it does not hold: no reading of a TNAuthList accepts it. */
  const garbled = () => new Extension(TN_AUTH_LIST_OID, false, new Uint8Array([0x30, 0x05, 0x01]));

  it("fails a signing certificate whose TNAuthList is garbled", async () => {
    await expectRefused(await signerWith({ extensions: [garbled()] }), CALLER, /^signing certificate's TNAuthList cannot be read/);
  });

  it("fails a leaf under an issuing CA whose TNAuthList names no valid service provider code and no number: it delegates nothing", async () => {
    const nothing = new Extension(TN_AUTH_LIST_OID, false, encodeTnAuthList([{ spc: "818h" }]));
    const ca = await issueTestCa("No SPC CA", { pathLength: 0, deviations: { extensions: [nothing] } });
    const leaf = await issueTestLeaf({ issuer: ca });
    const signer = { x5u: await register({ path: uniquePath("no-spc-ca"), body: `${leaf.pem}${pemOf(ca)}` }), key: leaf.keyPkcs8 };
    await expectRefused(signer, CALLER, /^the TNAuthList of issuing CA '.*CN=No SPC CA' names no valid service provider code and no telephone number: "818h" is no service provider code/);
  });

  it("fails a leaf under an issuing CA whose TNAuthList is garbled, naming the CA", async () => {
    const ca = await issueTestCa("Garbled TNAuthList CA", { pathLength: 0, deviations: { extensions: [garbled()] } });
    const leaf = await issueTestLeaf({ issuer: ca });
    const signer = { x5u: await register({ path: uniquePath("garbled"), body: `${leaf.pem}${pemOf(ca)}` }), key: leaf.keyPkcs8 };
    await expectRefused(signer, CALLER, /^the TNAuthList of issuing CA '.*CN=Garbled TNAuthList CA' cannot be read/);
  });
});
