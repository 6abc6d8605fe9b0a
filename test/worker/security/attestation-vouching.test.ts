import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { getConfigSection, putConfigSection } from "../../../src/origin/config/store";
import { markIsolateSnapshotsStale } from "../../../src/origin/snapshot";
import { createDevelopmentCa } from "../../../src/pki";
import { checkOf, verdictVia } from "../abuse/support";
import { adminAuth, TEST_ACTOR } from "../support/auth";
import { appAt, CALLEE, CALLER, installTrust, issueTestLeaf, pki, register, repositoryUrl, serveChain, signedIdentity, uniquePath, verdictRequest } from "../support/stir";

/**
 * An attacker who holds the leaf key of any service provider under a trusted STI-CA signs `A` for a
 * Kazakh bank's landline and sends the call in on an international interconnect. The signature
 * verifies; the attestation must not waive the origin checks that catch a national number from abroad,
 * unless the provider answering for the number is one the operator lists (the `attestation` section).
 */
const INTERNATIONAL = { trunk: "intl-1", carrier: "TransitCo", international: true };

async function vouchingFor(...spcs: string[]) {
  const { version } = await getConfigSection(env.DB, "attestation", "KZ");
  await putConfigSection(env.DB, "attestation", { vouching: spcs.map((spc) => ({ spc, name: `Provider ${spc}` })) }, version, TEST_ACTOR, Date.now(), "KZ");
  markIsolateSnapshotsStale();
}

const judged = async (identity: string) => verdictVia(appAt(), verdictRequest([identity], { callId: crypto.randomUUID(), ingress: INTERNATIONAL }));

beforeEach(() => installTrust());

describe("the fixture provider (SPC 818H) signs A for a Kazakh landline arriving from abroad", () => {
  it("is verified, yet blocked by check 5 when the operator lists no provider, the verdict naming the attestation that waived nothing", async () => {
    await vouchingFor();
    const verdict = await judged((await signedIdentity()).identity);
    expect(verdict).toMatchObject({ action: "block", verstat: "TN-Validation-Passed", attest: "A", decidedBy: "origin.national-on-international", sip: { code: 608 } });
    expect(checkOf(verdict, "origin.national-on-international")).toMatchObject({
      result: "fail",
      evidence: { tn: CALLER, attestation: { attest: "A", provider: "818H", vouches: false } },
    });
  });

  it("is blocked when the operator lists another provider", async () => {
    await vouchingFor("KZTEL1");
    expect(await judged((await signedIdentity()).identity)).toMatchObject({ action: "block", decidedBy: "origin.national-on-international" });
  });

  it("is allowed when the operator lists 818H, check 5 naming the provider that vouched", async () => {
    await vouchingFor("818H");
    const verdict = await judged((await signedIdentity()).identity);
    expect(verdict).toMatchObject({ action: "allow", verstat: "TN-Validation-Passed", attest: "A" });
    expect(checkOf(verdict, "origin.national-on-international")).toMatchObject({ result: "skip", detail: "a verified A attestation by Provider 818H (818H) vouches for the number" });
  });

  it("a call whose first PASSporT cannot be used is vouched for by the provider of the one that verified, not by the first", async () => {
    await vouchingFor("818H");
    // The first names a certificate the repository does not have: it fails with no signer at all.
    const unusable = (await signedIdentity({ x5u: `${repositoryUrl}${uniquePath("absent")}` })).identity;
    const verdict = await verdictVia(appAt(), verdictRequest([unusable, (await signedIdentity()).identity], { callId: crypto.randomUUID(), ingress: INTERNATIONAL }));
    expect(verdict).toMatchObject({ action: "allow", verstat: "TN-Validation-Passed", attest: "A" });
    expect(checkOf(verdict, "origin.national-on-international")).toMatchObject({ result: "skip", detail: "a verified A attestation by Provider 818H (818H) vouches for the number" });
  });

  it("a B attestation by a listed provider still meets check 5", async () => {
    await vouchingFor("818H");
    const verdict = await judged((await signedIdentity({ attest: "B" })).identity);
    expect(verdict).toMatchObject({ action: "block", attest: "B", decidedBy: "origin.national-on-international" });
  });
});

describe("a delegate certificate (RFC 9060) answers through the provider that delegated the number", () => {
  /** A provider CA with SPC `spc` (trusted as an anchor here), and a delegate leaf under it naming CALLER only. */
  async function delegateOf(spc: string) {
    const validity = { notBefore: new Date("2025-01-01T00:00:00Z"), notAfter: new Date("2035-01-01T00:00:00Z") };
    const ca = await createDevelopmentCa({ organization: `Provider ${spc}`, country: "KZ", ...validity, intermediateTnAuthList: [{ spc }] });
    await installTrust({ anchors: [ca.root.certificate.toString("pem")] });
    const leaf = await issueTestLeaf({ deviations: { tnAuthList: [{ tn: CALLER }] }, issuer: ca.intermediate });
    const x5u = await register({ path: uniquePath("delegate"), body: `${leaf.pem}${ca.intermediate.certificate.toString("pem")}` });
    return (await signedIdentity({ x5u, key: leaf.keyPkcs8 })).identity;
  }

  it("is allowed when that provider is listed, and the verdict names it as the signer's provider", async () => {
    await vouchingFor("KZDEL1");
    const verdict = await judged(await delegateOf("KZDEL1"));
    expect(verdict).toMatchObject({ action: "allow", verstat: "TN-Validation-Passed" });
    expect((verdict.identities[0] as { signer?: unknown }).signer).toMatchObject({ spc: null, provider: "KZDEL1" });
  });

  it("is blocked when it is not: naming the number alone does not make a provider vouch", async () => {
    await vouchingFor("818H");
    const verdict = await judged(await delegateOf("ROGUE1"));
    expect(verdict).toMatchObject({ action: "block", verstat: "TN-Validation-Passed", decidedBy: "origin.national-on-international" });
    expect(checkOf(verdict, "origin.national-on-international")).toMatchObject({ evidence: { attestation: { provider: "ROGUE1", vouches: false } } });
  });
});

describe("a certificate naming a listed provider's code answers for it only when a CA of that provider issued it", () => {
  const validity = { notBefore: new Date("2025-01-01T00:00:00Z"), notAfter: new Date("2035-01-01T00:00:00Z") };
  /** A leaf naming SPC 818H (the listed one) under a CA whose intermediate's TNAuthList is `intermediateTnAuthList`. */
  async function leafNaming818HUnder(intermediateTnAuthList: { spc: string }[] | { range: { start: string; count: number } }[]) {
    const ca = await createDevelopmentCa({ organization: "Issuer", country: "KZ", ...validity, intermediateTnAuthList });
    await installTrust({ anchors: [ca.root.certificate.toString("pem")] });
    const leaf = await issueTestLeaf({ issuer: ca.intermediate });
    const x5u = await register({ path: uniquePath("spc-under"), body: `${leaf.pem}${ca.intermediate.certificate.toString("pem")}` });
    return (await signedIdentity({ x5u, key: leaf.keyPkcs8 })).identity;
  }

  it("a rogue provider's CA naming 818H in its own leaf: the certificate is refused, and check 5 blocks the call", async () => {
    await vouchingFor("818H");
    const verdict = await judged(await leafNaming818HUnder([{ spc: "ROGUE1" }]));
    expect(verdict).toMatchObject({ action: "block", verstat: "TN-Validation-Failed", decidedBy: "origin.national-on-international" });
    expect(verdict.stir).toMatchObject({ failedCheck: "certificate.tnauthlist", reasoncode: 437 });
  });

  it("a CA of two providers: the leaf answers for its own code, not the CA's first", async () => {
    await vouchingFor("KZTEL2");
    expect(await judged(await leafNaming818HUnder([{ spc: "KZTEL2" }, { spc: "818H" }]))).toMatchObject({ action: "block", verstat: "TN-Validation-Passed", identities: [{ signer: { provider: "818H" } }] });
    await vouchingFor("818H");
    expect(await judged(await leafNaming818HUnder([{ spc: "KZTEL2" }, { spc: "818H" }]))).toMatchObject({ action: "allow", identities: [{ signer: { provider: "818H" } }] });
  });

  it("a CA authorised for numbers only naming 818H in a leaf: verified within its numbers, yet answering for no provider", async () => {
    await vouchingFor("818H");
    const verdict = await judged(await leafNaming818HUnder([{ range: { start: "77272501200", count: 100 } }]));
    expect(verdict).toMatchObject({ action: "block", verstat: "TN-Validation-Passed", decidedBy: "origin.national-on-international" });
    expect((verdict.identities[0] as { signer?: unknown }).signer).toMatchObject({ spc: "818H", provider: null });
    expect(checkOf(verdict, "origin.national-on-international")).toMatchObject({ evidence: { attestation: { provider: null, vouches: false } } });
  });
});

describe("a captured A carried to another callee by a div PASSporT (RFC 8946)", () => {
  // The listed provider 818H signed A for the bank's landline calling CALLEE; whoever captured it signs a
  // div from CALLEE to a callee of their choosing with the leaf key of another provider (SPC-scoped, so it
  // may sign a div for any number), and sends the call in from abroad. Both PASSporTs verify, and the div
  // lets the shaken dest be CALLEE.
  const RETARGETED_TO = "77015550777";
  async function divertedBy(spc: string) {
    const shaken = await signedIdentity();
    const leaf = await issueTestLeaf({ deviations: { tnAuthList: [{ spc }] } });
    const div = await signedIdentity({ ppt: "div", dest: [RETARGETED_TO], div: CALLEE, x5u: await serveChain(leaf.pem), key: leaf.keyPkcs8 });
    const request = verdictRequest([shaken.identity, div.identity], { callId: crypto.randomUUID(), ingress: INTERNATIONAL, to: `<sip:+${CALLEE}@operator.example>`, ruri: `sip:+${RETARGETED_TO}@operator.example` });
    return verdictVia(appAt(), request);
  }

  it("vouches for nothing when the diverting provider is not listed: check 5 blocks, naming it", async () => {
    await vouchingFor("818H");
    const verdict = await divertedBy("ROGUE2");
    expect(verdict.identities.map((identity) => [identity.ppt, identity.outcome])).toEqual([["shaken", "verified"], ["div", "verified"]]);
    expect(verdict).toMatchObject({ action: "block", verstat: "TN-Validation-Passed", attest: "A", decidedBy: "origin.national-on-international" });
    expect(checkOf(verdict, "origin.national-on-international")).toMatchObject({
      result: "fail",
      evidence: { attestation: { provider: "818H", unlistedDiverters: ["ROGUE2"], vouches: false, note: expect.stringContaining("diverted (RFC 8946) by ROGUE2") } },
    });
  });

  it("vouches when the diverting provider is listed too, check 5 naming both", async () => {
    await vouchingFor("818H", "KZDIV1");
    const verdict = await divertedBy("KZDIV1");
    expect(verdict).toMatchObject({ action: "allow", verstat: "TN-Validation-Passed" });
    expect(checkOf(verdict, "origin.national-on-international")).toMatchObject({ result: "skip", detail: "a verified A attestation by Provider 818H (818H) vouches for the number, diverted by KZDIV1" });
  });
});

describe("an A the replay guard could not judge vouches for nothing (a replayed one would not)", () => {
  const guardDown = { ...env, REPLAY: { getByName: () => ({ present: () => Promise.reject(new Error("Durable Object reset")) }) } };

  it("with the guard down, a listed provider's A for a landline from abroad is judged by check 5, which says why", async () => {
    await vouchingFor("818H");
    const request = verdictRequest([(await signedIdentity()).identity], { callId: crypto.randomUUID(), ingress: INTERNATIONAL });
    const verdict = await verdictVia(appAt(), request, guardDown, { settle: true });
    expect(checkOf(verdict, "passport.replay")).toMatchObject({ result: "skip" });
    expect(verdict).toMatchObject({ action: "block", verstat: "TN-Validation-Passed", attest: "A", decidedBy: "origin.national-on-international" });
    expect(checkOf(verdict, "origin.national-on-international")).toMatchObject({
      result: "fail",
      evidence: { attestation: { provider: "818H", replayUnconfirmed: true, vouches: false, note: expect.stringContaining("the replay guard could not say") } },
    });
  });

  it("with the guard up, the same call is vouched for", async () => {
    await vouchingFor("818H");
    expect(await judged((await signedIdentity()).identity)).toMatchObject({ action: "allow", verstat: "TN-Validation-Passed" });
  });
});

describe("a div PASSporT (RFC 8946) vouches for nothing about the caller", () => {
  it("a div by a listed provider ahead of a shaken PASSporT by an unlisted one waives no origin check", async () => {
    const validity = { notBefore: new Date("2025-01-01T00:00:00Z"), notAfter: new Date("2035-01-01T00:00:00Z") };
    const ca = await createDevelopmentCa({ organization: "Provider KZDIV1", country: "KZ", ...validity, intermediateTnAuthList: [{ spc: "KZDIV1" }] });
    await installTrust({ anchors: [pki.root, ca.root.certificate.toString("pem")] });
    await vouchingFor("KZDIV1");
    const leaf = await issueTestLeaf({ deviations: { tnAuthList: [{ tn: CALLER }] }, issuer: ca.intermediate });
    const x5u = await register({ path: uniquePath("div-delegate"), body: `${leaf.pem}${ca.intermediate.certificate.toString("pem")}` });
    // The retargeting provider signs the diversion from CALLER (its delegate names that number); the fixture provider (818H) signs the call.
    const div = await signedIdentity({ x5u, key: leaf.keyPkcs8, ppt: "div", orig: CALLER, dest: [CALLEE], div: CALLER });
    const shaken = await signedIdentity({ dest: [CALLER, CALLEE] });
    const verdict = await verdictVia(appAt(), verdictRequest([div.identity, shaken.identity], { callId: crypto.randomUUID(), ingress: INTERNATIONAL }));
    expect(verdict.identities.map((identity) => [identity.ppt, identity.outcome])).toEqual([
      ["div", "verified"],
      ["shaken", "verified"],
    ]);
    expect(verdict).toMatchObject({ action: "block", verstat: "TN-Validation-Passed", attest: "A", decidedBy: "origin.national-on-international" });
    expect(checkOf(verdict, "origin.national-on-international")).toMatchObject({ evidence: { attestation: { provider: "818H", vouches: false } } });
  });
});

describe("the attestation section through the admin API", () => {
  const put = async (document: unknown) => {
    const { version } = await getConfigSection(env.DB, "attestation", "KZ");
    return appAt().request("/v1/admin/config/attestation", { method: "PUT", headers: { ...adminAuth, "Content-Type": "application/json" }, body: JSON.stringify({ document, version }) }, env);
  };

  it.each([
    ["a lower-case code", { vouching: [{ spc: "818h" }] }, /vouching\.0\.spc.*service provider code/s],
    ["a provider listed twice", { vouching: [{ spc: "818H" }, { spc: "818H" }] }, /vouching\.1\.spc.*already listed by vouching\.0/s],
    ["an unknown member", { vouching: [], trustAll: true }, /trustAll/],
  ])("refuses %s with a 400 naming it", async (_, document, names) => {
    const response = await put(document);
    expect(response.status).toBe(400);
    expect(JSON.stringify(await response.json())).toMatch(names);
  });

  it("stores a list, which the next verdict applies", async () => {
    expect((await put({ vouching: [{ spc: "818H", name: "Test SP" }] })).status).toBe(200);
    markIsolateSnapshotsStale();
    expect(await judged((await signedIdentity()).identity)).toMatchObject({ action: "allow" });
  });
});
