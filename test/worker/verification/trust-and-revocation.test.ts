import { env } from "cloudflare:workers";
import { AsnConvert } from "@peculiar/asn1-schema";
import { Extension, X509CrlReason, type X509Certificate } from "@peculiar/x509";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../../../src/app";
import * as asn1X509 from "@peculiar/asn1-x509";
import { generateKeyPair, loadSigningAuthority, type RevokedCertificate } from "../../../src/pki";
import { sbcAuth } from "../support/auth";
import { crlPem, crlSigner, CURRENT, DAY_MS, fixtureIntermediate, intermediateSubject, NOW, revoke, STIPA_CRL_SIGNER } from "../support/crl";
import { appAt, atisRequest, IAT, installTrust, issueTestLeaf, movableApp, pki, serveChain, signedIdentity, verdictRequest } from "../support/stir";

beforeEach(async () => {
  vi.spyOn(console, "log").mockImplementation(() => {}); // the verdict log lines
  await installTrust();
});
afterEach(() => vi.restoreAllMocks());

async function verify(app: ReturnType<typeof createApp>, identity: string, at: number, bindings: object = env) {
  const text = JSON.stringify(atisRequest(identity, { time: at }));
  const response = await app.request(
    "/stir/v1/verification",
    { method: "POST", headers: { ...sbcAuth, "Content-Type": "application/json", "Content-Length": String(text.length) }, body: text },
    bindings,
  );
  return ((await response.json()) as { verificationResponse: Record<string, unknown> }).verificationResponse;
}

describe("trust anchors in KV", () => {
  it("a newly pushed anchor is used within TRUST_REFRESH_SECONDS, without a redeploy", async () => {
    await installTrust({ anchors: [pki.untrustedRoot] });
    const { app, advance } = movableApp();
    const x5u = await serveChain();
    const first = await signedIdentity({ x5u });
    expect(await verify(app, first.identity, IAT)).toMatchObject({ reasoncode: 437, verstat: "TN-Validation-Failed" });

    await installTrust({ anchors: [pki.untrustedRoot, pki.root] });
    advance(10);
    const beforeRefresh = await signedIdentity({ x5u, iat: IAT + 10 });
    expect(await verify(app, beforeRefresh.identity, IAT + 10)).toMatchObject({ reasoncode: 437 });
    advance(21);
    const afterRefresh = await signedIdentity({ x5u, iat: IAT + 31 });
    expect(await verify(app, afterRefresh.identity, IAT + 31)).toEqual({ verstat: "TN-Validation-Passed" });
  });

  it("with no anchors configured, nothing is trusted", async () => {
    await env.TRUST.delete("trust-anchors");
    const { app } = movableApp();
    const { identity } = await signedIdentity();
    expect(await verify(app, identity, IAT)).toMatchObject({ reasoncode: 437, reasondesc: expect.stringMatching(/no trusted issuer/) });
  });

  it("a CRL signer is trusted to sign CRLs only, never as the anchor of a path", async () => {
    await installTrust({ anchors: [], crlSigners: [pki.root] });
    const { identity } = await signedIdentity();
    expect(await verify(movableApp().app, identity, IAT)).toMatchObject({ reasoncode: 437, reasondesc: expect.stringMatching(/no trusted issuer/) });
  });
});

// ---------------------------------------------------------------------------------------------------
// Revocation (RFC 5280 §5, §6.3; spec digest §6b, §7). The clock reads IAT (2025-11-28).

/** RFC 5280 §5.2.4: critical, naming the complete CRL the delta updates. */
const deltaCrlIndicator = (baseCrlNumber: number) => new Extension(asn1X509.id_ce_deltaCRLIndicator, true, AsnConvert.serialize(new asn1X509.BaseCRLNumber(baseCrlNumber)));
const intermediate = fixtureIntermediate;

/** A leaf of the fixture intermediate, its chain served, and a signed call with it. */
async function signedCall(crlIssuer: string | null = intermediateSubject) {
  const leaf = await issueTestLeaf({ crlIssuer });
  const { identity } = await signedIdentity({ x5u: await serveChain(leaf.pem), key: leaf.keyPkcs8 });
  return { leaf: leaf.certificate, identity };
}

/** The verdict's STIR result and its revocation check, under CRL_MODE. */
async function revocationVerdict(identity: string, mode: "soft" | "hard" = "soft") {
  const response = await appAt().request(
    "/v1/verdict",
    { method: "POST", headers: { ...sbcAuth, "Content-Type": "application/json" }, body: JSON.stringify(verdictRequest([identity])) },
    { ...env, CRL_MODE: mode },
  );
  const { verdict } = (await response.json()) as { verdict: { verstat: string; stir: Record<string, unknown>; checks: { id: string; result: string; detail?: string; evidence?: Record<string, unknown> }[] } };
  return { verstat: verdict.verstat, stir: verdict.stir, revocation: verdict.checks.find((check) => check.id === "certificate.revocation") };
}

describe("a CRL is believed only when its signature verifies with a key trusted to sign it (RFC 5280 §6.3.3 (f))", () => {
  it("a CRL in the intermediate's name signed by another key is ignored and flagged, and revokes nothing", async () => {
    const { leaf, identity } = await signedCall();
    const forger = { certificate: (await intermediate()).certificate, privateKey: (await generateKeyPair()).privateKey };
    await installTrust({ crls: [await crlPem(forger, [revoke(leaf.serialNumber)])] });

    const soft = await revocationVerdict(identity);
    expect(soft.verstat).toBe("TN-Validation-Passed");
    expect(soft.revocation).toMatchObject({ result: "skip", detail: expect.stringMatching(/no loaded CRL covers .*was ignored: its signature does not verify/) });
    expect(soft.revocation?.evidence?.ignored).toEqual([expect.objectContaining({ crl: expect.objectContaining({ issuer: intermediateSubject, crlNumber: "7" }) })]);

    const hard = await revocationVerdict(identity, "hard");
    expect(hard.stir).toMatchObject({ reasoncode: 437, failedCheck: "certificate.revocation", reasondesc: expect.stringMatching(/^revocation status unknown .*signature does not verify/) });
  });

  it("an indirect CRL signed by a key other than the configured STI-PA CRL signer is ignored", async () => {
    const { leaf, identity } = await signedCall(STIPA_CRL_SIGNER);
    const [trusted, impostor] = await Promise.all([crlSigner(), crlSigner()]);
    await installTrust({ crlSigners: [trusted.certificate.toString("pem")], crls: [await crlPem(impostor, [revoke(leaf.serialNumber, intermediateSubject)], { indirect: true })] });
    expect((await revocationVerdict(identity)).revocation).toMatchObject({ result: "skip", detail: expect.stringMatching(/was ignored: its signature does not verify/) });
  });

  it("a certificate whose keyUsage lacks cRLSign is not trusted to sign CRLs, even as a CRL signer (RFC 5280 §4.2.1.3)", async () => {
    const signingLeaf = await issueTestLeaf(); // keyUsage digitalSignature only
    const { leaf, identity } = await signedCall(signingLeaf.certificate.subject);
    const signer = { certificate: signingLeaf.certificate, privateKey: signingLeaf.privateKey };
    await installTrust({ crlSigners: [signingLeaf.pem], crls: [await crlPem(signer, [revoke(leaf.serialNumber, intermediateSubject)], { indirect: true })] });
    const soft = await revocationVerdict(identity);
    expect(soft.verstat).toBe("TN-Validation-Passed");
    expect(soft.revocation).toMatchObject({ result: "skip", detail: expect.stringMatching(/was ignored: its signature does not verify with a key trusted to sign it/) });
  });

  it("the issuer's own CRL verifies with the issuer's key from the validated path", async () => {
    const { identity } = await signedCall();
    await installTrust({ crls: [await crlPem(await intermediate(), [])] });
    expect((await revocationVerdict(identity, "hard")).revocation).toMatchObject({ result: "pass" });
  });
});

describe("indirect CRLs: the IDP's indirectCRL and the certificate's cRLIssuer (RFC 5280 §5.2.5, §4.2.1.13)", () => {
  it("the STI-PA's indirect CRL revokes a leaf whose distribution point names the STI-PA as cRLIssuer", async () => {
    const { leaf, identity } = await signedCall(STIPA_CRL_SIGNER);
    const stipa = await crlSigner();
    await installTrust({ crlSigners: [stipa.certificate.toString("pem")], crls: [await crlPem(stipa, [revoke(leaf.serialNumber, intermediateSubject)], { indirect: true })] });
    const { stir } = await revocationVerdict(identity);
    expect(stir).toMatchObject({ reasoncode: 437, verstat: "TN-Validation-Failed", failedCheck: "certificate.revocation", reasondesc: expect.stringMatching(/is revoked by the CRL of 'C=KZ, O=STI-PA, CN=STI-PA CRL'/) });
  });

  it("does not cover a leaf whose distribution point names no cRLIssuer: skipped in soft mode, failed in hard mode", async () => {
    const { leaf, identity } = await signedCall(null);
    const stipa = await crlSigner();
    await installTrust({ crlSigners: [stipa.certificate.toString("pem")], crls: [await crlPem(stipa, [revoke(leaf.serialNumber, intermediateSubject)], { indirect: true })] });
    const soft = await revocationVerdict(identity);
    expect(soft.verstat).toBe("TN-Validation-Passed");
    expect(soft.revocation).toMatchObject({ result: "skip", detail: expect.stringMatching(/no loaded CRL covers the signing certificate/) });
    expect((await revocationVerdict(identity, "hard")).stir).toMatchObject({ reasoncode: 437, failedCheck: "certificate.revocation" });
  });

  it("a CRL without indirectCRL is direct: it covers only its issuer's certificates, whatever its entries name", async () => {
    const { leaf, identity } = await signedCall(STIPA_CRL_SIGNER);
    const stipa = await crlSigner();
    await installTrust({ crlSigners: [stipa.certificate.toString("pem")], crls: [await crlPem(stipa, [revoke(leaf.serialNumber, intermediateSubject)])] });
    const soft = await revocationVerdict(identity);
    expect(soft.verstat).toBe("TN-Validation-Passed");
    expect(soft.revocation).toMatchObject({ result: "skip", detail: expect.stringMatching(/no loaded CRL covers the signing certificate \(issuer '.*', cRLIssuer 'C=KZ, O=STI-PA, CN=STI-PA CRL'\)/) });
  });
});

describe("entries are matched by issuer and serial number (RFC 5280 §5.3.3)", () => {
  async function withStipaCrl(entries: (leaf: X509Certificate) => RevokedCertificate[]) {
    const { leaf, identity } = await signedCall(STIPA_CRL_SIGNER);
    const stipa = await crlSigner();
    await installTrust({ crlSigners: [stipa.certificate.toString("pem")], crls: [await crlPem(stipa, entries(leaf), { indirect: true })] });
    return revocationVerdict(identity);
  }

  it("the leaf's serial number revoked for another CA is not the leaf's revocation", async () => {
    const verdict = await withStipaCrl((leaf) => [revoke(leaf.serialNumber, "C=KZ, O=Other STI-CA, CN=Other Intermediate")]);
    expect(verdict.verstat).toBe("TN-Validation-Passed");
    expect(verdict.revocation).toMatchObject({ result: "pass" });
  });

  it("an entry's certificateIssuer carries forward to the entries after it", async () => {
    const verdict = await withStipaCrl((leaf) => [revoke("01020304050607", intermediateSubject), revoke(leaf.serialNumber)]);
    expect(verdict.stir).toMatchObject({ reasoncode: 437, failedCheck: "certificate.revocation" });
  });

  it("entries before the first certificateIssuer are the CRL issuer's own", async () => {
    const verdict = await withStipaCrl((leaf) => [revoke(leaf.serialNumber), revoke("01020304050607", intermediateSubject)]);
    expect(verdict.revocation).toMatchObject({ result: "pass" });
  });
});

describe("a direct CRL covers only the certificates its issuer issued", () => {
  it("another CA's CRL listing the leaf's serial number does not cover the chain", async () => {
    const { leaf, identity } = await signedCall();
    const otherCa = await crlSigner("C=KZ, O=Other STI-CA, CN=Other Intermediate");
    await installTrust({ crlSigners: [otherCa.certificate.toString("pem")], crls: [await crlPem(otherCa, [revoke(leaf.serialNumber)])] });
    const soft = await revocationVerdict(identity);
    expect(soft.verstat).toBe("TN-Validation-Passed");
    expect(soft.revocation).toMatchObject({ result: "skip", detail: expect.stringMatching(/no loaded CRL covers the signing certificate/) });
  });

  it("the root's CRL revokes the intermediate of the path", async () => {
    const { identity } = await signedCall();
    const root = await loadSigningAuthority(pki.root, pki.rootKeyPkcs8);
    await installTrust({ crls: [await crlPem(root, [revoke((await intermediate()).certificate.serialNumber)]), await crlPem(await intermediate(), [])] });
    expect((await revocationVerdict(identity)).stir).toMatchObject({ reasoncode: 437, reasondesc: expect.stringMatching(/Intermediate CA.* is revoked by the CRL of '.*ROOT CA'/) });
  });
});

describe("the Issuing Distribution Point limits what a CRL covers (RFC 5280 §5.2.5, §6.3.3 (b)(2))", () => {
  const distributionPoint = (url: string) => new asn1X509.DistributionPointName({ fullName: [new asn1X509.GeneralName({ uniformResourceIdentifier: url })] });

  it.each([
    ["CA certificates only", { onlyContainsCACerts: true }],
    ["attribute certificates only", { onlyContainsAttributeCerts: true }],
    ["another distribution point", { distributionPoint: distributionPoint("http://crl.shaken-edge.test/other.crl") }],
    ["some reasons only", { onlySomeReasons: new asn1X509.Reason(asn1X509.ReasonFlags.keyCompromise) }],
  ])("a CRL limited to %s says nothing about a leaf not listed on it", async (_, issuingDistributionPoint) => {
    const { identity } = await signedCall();
    await installTrust({ crls: [await crlPem(await intermediate(), [], { issuingDistributionPoint })] });
    expect((await revocationVerdict(identity)).revocation).toMatchObject({ result: "skip", detail: expect.stringMatching(/no loaded CRL covers/) });
  });

  it.each([
    ["user certificates only", { onlyContainsUserCerts: true }],
    ["the leaf's own distribution point", { distributionPoint: distributionPoint("http://crl.shaken-edge.test/intermediate.crl") }],
  ])("a CRL limited to %s covers the leaf", async (_, issuingDistributionPoint) => {
    const { identity } = await signedCall();
    await installTrust({ crls: [await crlPem(await intermediate(), [], { issuingDistributionPoint })] });
    expect((await revocationVerdict(identity)).revocation).toMatchObject({ result: "pass" });
  });

  it("a CRL limited to some reasons still revokes the certificates it lists", async () => {
    const { leaf, identity } = await signedCall();
    await installTrust({ crls: [await crlPem(await intermediate(), [revoke(leaf.serialNumber)], { issuingDistributionPoint: { onlySomeReasons: new asn1X509.Reason(asn1X509.ReasonFlags.keyCompromise) } })] });
    expect((await revocationVerdict(identity)).stir).toMatchObject({ reasoncode: 437, reasondesc: expect.stringMatching(/is revoked/) });
  });
});

describe("a CRL with a critical extension the verifier does not process is not used (RFC 5280 §5.2)", () => {
  it("a delta CRL is ignored and flagged", async () => {
    const { leaf, identity } = await signedCall();
    await installTrust({ crls: [await crlPem(await intermediate(), [revoke(leaf.serialNumber)], { crlNumber: 8, extensions: [deltaCrlIndicator(7)] })] });
    expect((await revocationVerdict(identity)).revocation).toMatchObject({ result: "skip", detail: expect.stringMatching(/was ignored: it is a delta CRL/) });
  });
});

describe("what a CRL's own extensions and entries say", () => {
  /** An OID under the IANA example arc (RFC 5612) that no verifier processes; its value a DER NULL. */
  const unknownExtension = (critical: boolean) => new Extension("1.3.6.1.4.1.32473.1", critical, new Uint8Array([5, 0]));

  it("a CRL carrying an unknown critical extension is ignored and flagged, even one listing the leaf", async () => {
    const { leaf, identity } = await signedCall();
    await installTrust({ crls: [await crlPem(await intermediate(), [revoke(leaf.serialNumber)], { extensions: [unknownExtension(true)] })] });
    const verdict = await revocationVerdict(identity);
    expect(verdict.verstat).toBe("TN-Validation-Passed");
    expect(verdict.revocation).toMatchObject({ result: "skip", detail: expect.stringMatching(/was ignored: it carries the critical extension 1\.3\.6\.1\.4\.1\.32473\.1/) });
  });

  it("an unknown extension that is not critical is no reason to ignore the CRL", async () => {
    const { leaf, identity } = await signedCall();
    await installTrust({ crls: [await crlPem(await intermediate(), [revoke(leaf.serialNumber)], { extensions: [unknownExtension(false)] })] });
    expect((await revocationVerdict(identity)).stir).toMatchObject({ reasoncode: 437, reasondesc: expect.stringMatching(/is revoked/) });
  });

  it("an entry whose reason is removeFromCRL does not revoke", async () => {
    const { leaf, identity } = await signedCall();
    await installTrust({ crls: [await crlPem(await intermediate(), [{ ...revoke(leaf.serialNumber), reason: X509CrlReason.removeFromCRL }])] });
    expect((await revocationVerdict(identity)).revocation).toMatchObject({ result: "pass" });
  });

  it("a CRL limited to user certificates covers a leaf without basicConstraints, as RFC 5280 allows an end entity", async () => {
    const leaf = await issueTestLeaf({ crlIssuer: intermediateSubject, deviations: { omitExtensions: ["2.5.29.19"] } });
    const { identity } = await signedIdentity({ x5u: await serveChain(leaf.pem), key: leaf.keyPkcs8 });
    await installTrust({ crls: [await crlPem(await intermediate(), [revoke(leaf.certificate.serialNumber)], { issuingDistributionPoint: { onlyContainsUserCerts: true } })] });
    expect((await revocationVerdict(identity)).stir).toMatchObject({ reasoncode: 437, reasondesc: expect.stringMatching(/is revoked/) });
  });

  it("a root's CRL limited to user certificates does not speak for the intermediate it lists", async () => {
    const { identity } = await signedCall();
    const root = await loadSigningAuthority(pki.root, pki.rootKeyPkcs8);
    const userOnly = { issuingDistributionPoint: { onlyContainsUserCerts: true } };
    await installTrust({ crls: [await crlPem(root, [revoke((await intermediate()).certificate.serialNumber)], userOnly), await crlPem(await intermediate(), [])] });
    expect((await revocationVerdict(identity)).verstat).toBe("TN-Validation-Passed");
  });
});

describe("a covering CRL must be current (RFC 5280 §5.1.2.4, §5.1.2.5), or CRL_MODE decides", () => {
  it("is current from the instant of its thisUpdate to the instant of its nextUpdate", async () => {
    const { identity } = await signedCall();
    for (const dates of [{ thisUpdate: NOW, nextUpdate: new Date(NOW.getTime() + DAY_MS) }, { thisUpdate: new Date(NOW.getTime() - DAY_MS), nextUpdate: NOW }]) {
      await installTrust({ crls: [await crlPem(await intermediate(), [], dates)] });
      expect((await revocationVerdict(identity, "hard")).revocation, JSON.stringify(dates)).toMatchObject({ result: "pass" });
    }
  });

  const stale = { thisUpdate: new Date(NOW.getTime() - 3 * DAY_MS), nextUpdate: new Date(NOW.getTime() - DAY_MS) };
  const early = { thisUpdate: new Date(NOW.getTime() + DAY_MS), nextUpdate: new Date(NOW.getTime() + 2 * DAY_MS) };

  it.each([
    ["past its nextUpdate", stale, /is past its nextUpdate 2025-11-27/],
    ["with a thisUpdate in the future", early, /its thisUpdate 2025-11-29T00:00:00.000Z is in the future/],
  ])("a CRL %s: soft mode skips the check, saying why", async (_, dates, reason) => {
    const { identity } = await signedCall();
    await installTrust({ crls: [await crlPem(await intermediate(), [], dates)] });
    const soft = await revocationVerdict(identity);
    expect(soft.verstat).toBe("TN-Validation-Passed");
    expect(soft.revocation).toMatchObject({ result: "skip", detail: expect.stringMatching(reason), evidence: { stale: [expect.objectContaining({ crlNumber: "7" })] } });
  });

  it.each([
    ["past its nextUpdate", stale],
    ["with a thisUpdate in the future", early],
  ])("a CRL %s: hard mode fails the credential (437)", async (_, dates) => {
    const { identity } = await signedCall();
    await installTrust({ crls: [await crlPem(await intermediate(), [], dates)] });
    expect((await revocationVerdict(identity, "hard")).stir).toMatchObject({ verstat: "TN-Validation-Failed", reasoncode: 437, failedCheck: "certificate.revocation", reasondesc: expect.stringMatching(/not current/) });
  });

  it("a revocation on a stale CRL still revokes", async () => {
    const { leaf, identity } = await signedCall();
    await installTrust({ crls: [await crlPem(await intermediate(), [revoke(leaf.serialNumber)], stale)] });
    expect((await revocationVerdict(identity)).stir).toMatchObject({ reasoncode: 437, reasondesc: expect.stringMatching(/is revoked/) });
  });
});

describe("certificate.revocation names the CRL it consulted", () => {
  it("passes with the CRL's issuer, number, thisUpdate and nextUpdate", async () => {
    const { identity } = await signedCall();
    await installTrust({ crls: [await crlPem(await intermediate(), [], { crlNumber: 42 })] });
    expect((await revocationVerdict(identity)).revocation).toEqual({
      id: "certificate.revocation",
      result: "pass",
      detail: `not on the CRL of '${intermediateSubject}'`,
      evidence: { crl: { issuer: intermediateSubject, crlNumber: "42", thisUpdate: CURRENT.thisUpdate.toISOString(), nextUpdate: CURRENT.nextUpdate.toISOString() } },
    });
  });

  it("a revocation names the CRL that lists the certificate", async () => {
    const { leaf, identity } = await signedCall();
    await installTrust({ crls: [await crlPem(await intermediate(), [revoke(leaf.serialNumber)])] });
    const { revocation } = await revocationVerdict(identity);
    expect(revocation).toMatchObject({ result: "fail", evidence: { serialNumber: leaf.serialNumber, revokedAt: "2025-06-01T00:00:00.000Z", crl: { issuer: intermediateSubject, crlNumber: "7" } } });
  });
});

describe("no CRL covers the chain (CRL_MODE)", () => {
  it("soft: with no CRL, or only an unrelated one, the check is skipped with the reason; the call passes", async () => {
    const unrelated = await crlSigner("C=KZ, O=Unrelated CA, CN=Unrelated CA");
    for (const crls of [[], [await crlPem(unrelated, [])]]) {
      await installTrust({ crlSigners: [unrelated.certificate.toString("pem")], crls });
      // A PASSporT of its own each time: /v1/verdict would take the same one presented again for a replay.
      const { identity } = await signedCall();
      const soft = await revocationVerdict(identity);
      expect(soft.verstat).toBe("TN-Validation-Passed");
      expect(soft.revocation).toMatchObject({ result: "skip", detail: expect.stringMatching(/^revocation not checked: no loaded CRL covers the signing certificate/) });
    }
  });

  it("hard: the credential fails (437)", async () => {
    const { identity } = await signedIdentity();
    const result = await verify(movableApp().app, identity, IAT, { ...env, CRL_MODE: "hard" });
    expect(result).toMatchObject({ reasoncode: 437, verstat: "TN-Validation-Failed", reasondesc: expect.stringMatching(/hard-fail/) });
  });

  it("hard: with a current CRL a good certificate passes and a revoked one fails", async () => {
    await installTrust({ crls: [pki.crl] });
    const good = await signedIdentity();
    expect(await verify(movableApp().app, good.identity, IAT, { ...env, CRL_MODE: "hard" })).toEqual({ verstat: "TN-Validation-Passed" });
    const revoked = await signedIdentity({ x5u: await serveChain(pki.revokedLeaf), key: pki.revokedLeafKeyPkcs8 });
    expect(await verify(movableApp().app, revoked.identity, IAT, { ...env, CRL_MODE: "hard" })).toMatchObject({ reasoncode: 437, reasondesc: expect.stringMatching(/is revoked/) });
  });
});
