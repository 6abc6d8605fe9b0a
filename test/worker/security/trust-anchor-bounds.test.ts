import { Extension } from "@peculiar/x509";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { encodeTnAuthList, TN_AUTH_LIST_OID, type TnAuthListEntry } from "../../../src/certificate/tnauthlist";
import { loadSigningAuthority, type SigningAuthority } from "../../../src/pki";
import { issueTestCa, pemOf, signedThrough } from "../support/attack-pki";
import { appAt, CALLER, installTrust, issueTestLeaf, pki, verifyThroughBoth } from "../support/stir";

/**
 * A trust anchor is trusted for what it says of itself, and no more (RFC 5280 §6.1.4(k), RFC 9060 §4).
 * An operator may trust a provider's own root (a delegation root), and a trust list may carry a
 * certificate that is no CA, or one past its validity: whether the anchor may issue, when, and for which
 * numbers and provider, is bounded by the anchor as by any issuing CA, through intermediates that carry
 * no TNAuthList of their own.
 */
beforeEach(() => {
  vi.spyOn(console, "log").mockImplementation(() => {}); // the verdict log line of each call
});

const tnAuthList = (...entries: TnAuthListEntry[]) => new Extension(TN_AUTH_LIST_OID, false, encodeTnAuthList(entries));

/** A self-signed root carrying `entries` as its TNAuthList, trusted as the only anchor, and an intermediate below it that carries none. */
async function anchorWith(...entries: TnAuthListEntry[]): Promise<{ intermediate: SigningAuthority; chain: string }> {
  const root = await issueTestCa("Delegation Root", { issuer: undefined, deviations: { extensions: [tnAuthList(...entries)] } });
  const intermediate = await issueTestCa("Delegation Intermediate", { issuer: root, pathLength: 0 });
  await installTrust({ anchors: [pemOf(root)] });
  return { intermediate, chain: pemOf(intermediate) };
}

/** `caller` calls with a leaf of `issuer` whose TNAuthList is `entries`, served with `chain` above it. */
async function callWith(issuer: SigningAuthority, chain: string[], caller: string, entries: TnAuthListEntry[]) {
  const leaf = await issueTestLeaf({ issuer, deviations: { tnAuthList: entries } });
  const identity = await signedThrough([leaf.pem, ...chain], leaf.keyPkcs8, { orig: caller });
  return verifyThroughBoth(appAt(), async () => identity, { orig: caller });
}

async function expectRefused(call: ReturnType<typeof callWith>, check: string, reason: RegExp) {
  const { atis, verdict } = await call;
  expect(atis).toEqual({ verstat: "TN-Validation-Failed", reasoncode: 437, reasontext: "Unsupported Credential", reasondesc: expect.stringMatching(reason) });
  expect(verdict.stir).toMatchObject({ verstat: "TN-Validation-Failed", reasoncode: 437, failedCheck: check });
}

describe("a trust anchor that is no CA anchors nothing (RFC 5280 §6.1.4(k))", () => {
  it("a trust list holding a provider's end-entity certificate does not let its key issue a certificate for another provider", async () => {
    // The fixture leaf (basicConstraints cA=FALSE) trusted beside the root, as a careless push of a trust list might leave it.
    await installTrust({ anchors: [pki.root, pki.leaf] });
    const leafAsCa = await loadSigningAuthority(pki.leaf, pki.leafKeyPkcs8);
    await expectRefused(callWith(leafAsCa, [], CALLER, [{ spc: "KZTEL1" }]), "certificate.chain", /^trust anchor '.*SHAKEN 818H' is not a CA \(basicConstraints cA is not TRUE, RFC 5280 §6\.1\.4\(k\)\)$/);
  });
});

describe("a trust anchor is trusted within its own validity, judged at iat as every certificate of the path is", () => {
  it.each([
    ["expired before iat (a decommissioned root a stale trust list still holds)", { notAfter: new Date("2025-06-01T00:00:00Z") }],
    ["not yet valid at iat", { notBefore: new Date("2026-01-01T00:00:00Z") }],
  ])("a root %s anchors nothing, though the intermediate and leaf below it are valid", async (_, validity) => {
    const root = await issueTestCa("Bounded ROOT", { issuer: undefined, ...validity });
    const intermediate = await issueTestCa("Under Bounded ROOT", { issuer: root, pathLength: 0 });
    await installTrust({ anchors: [pemOf(root)] });
    await expectRefused(callWith(intermediate, [pemOf(intermediate)], CALLER, [{ spc: "818H" }]), "certificate.validity", /^certificate '.*CN=Bounded ROOT' is not valid at iat 2025-11-28T00:00:00\.000Z/);
  });
});

describe("a trust anchor's TNAuthList bounds every certificate below it, through intermediates that carry none (RFC 9060 §4)", () => {
  it("numbers: a leaf's service provider code vouches only within the anchor's range", async () => {
    const { intermediate, chain } = await anchorWith({ range: { start: "77272501200", count: 100 } });
    const { atis } = await callWith(intermediate, [chain], CALLER, [{ spc: "818H" }]);
    expect(atis).toEqual({ verstat: "TN-Validation-Passed" });
    await expectRefused(
      callWith(intermediate, [chain], "77272509999", [{ spc: "818H" }]),
      "certificate.tnauthlist",
      /^signed orig 77272509999 is not among the 0 numbers and 1 range that the TNAuthList of issuing CA '.*CN=Delegation Root' authorises/,
    );
  });

  it("a service provider code: a leaf naming another provider's code is refused, though the intermediate between names none", async () => {
    const { intermediate, chain } = await anchorWith({ spc: "ROGUE1" });
    const { atis } = await callWith(intermediate, [chain], CALLER, [{ spc: "ROGUE1" }]);
    expect(atis).toEqual({ verstat: "TN-Validation-Passed" });
    await expectRefused(
      callWith(intermediate, [chain], CALLER, [{ spc: "KZTEL1" }]),
      "certificate.tnauthlist",
      /^the TNAuthList of issuing CA '.*CN=Delegation Root' names the service provider code\(s\) ROGUE1, which do not encompass the code KZTEL1 of the signing certificate \(RFC 9060 §4\)/,
    );
  });
});
