import { Extension, type JsonName, KeyUsageFlags, SubjectKeyIdentifierExtension, X509CertificateGenerator } from "@peculiar/x509";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { generateKeyPair, keyPairFromPrivateKey, keyUsage, loadSigningAuthority, SHAKEN_SIGNING_ALGORITHM, type ProfileDeviations, type SigningAuthority } from "../../../src/pki";
import { checkOf, verdictVia } from "../abuse/support";
import { fixtureIntermediate, fixtureRoot, issueTestCa, pemOf, signedThrough } from "../support/attack-pki";
import { appAt, atisRequest, IAT, installTrust, issueTestLeaf, pki, postAtis, verdictRequest } from "../support/stir";

/**
 * RFC 5280 §6 path validation, one rule per describe, through both verification endpoints: every
 * attack fixture is a chain a hostile repository could serve, built with our own issuing code, and
 * fails `certificate.chain` (437) with a reasondesc naming the exact cause.
 */
beforeEach(async () => {
  vi.spyOn(console, "log").mockImplementation(() => {}); // the verdict log line of each call
  await installTrust();
});

const DAY = 86_400;
/** An OID under the IANA example arc (RFC 5612) that no verifier processes. */
const UNKNOWN_EXTENSION = "1.3.6.1.4.1.32473.1";

async function verifyThroughBoth(identity: string, offsetSeconds: number) {
  const app = appAt(offsetSeconds);
  const response = await postAtis(app, atisRequest(identity, { time: IAT + offsetSeconds }));
  const { verificationResponse } = (await response.json()) as { verificationResponse: Record<string, unknown> };
  return { atis: verificationResponse, verdict: await verdictVia(app, verdictRequest([identity])) };
}

async function expectRefused(identity: string, check: "certificate.chain" | "certificate.validity", reason: RegExp, offsetSeconds = 0) {
  const { atis, verdict } = await verifyThroughBoth(identity, offsetSeconds);
  expect(atis).toEqual({ verstat: "TN-Validation-Failed", reasoncode: 437, reasontext: "Unsupported Credential", reasondesc: expect.stringMatching(reason) });
  expect(verdict.stir).toMatchObject({ reasoncode: 437, failedCheck: check, reasondesc: expect.stringMatching(reason) });
  expect(checkOf(verdict, check)).toMatchObject({ result: "fail" });
}

async function expectVerified(identity: string, offsetSeconds = 0) {
  const { atis, verdict } = await verifyThroughBoth(identity, offsetSeconds);
  expect(atis).toEqual({ verstat: "TN-Validation-Passed" });
  expect(verdict.stir.reasoncode).toBeNull();
  return verdict;
}

/** A leaf issued by `issuer`, served with `cas` above it, signed at IAT + offsetSeconds. */
async function callThrough(issuer: SigningAuthority, cas: string[], options: { offsetSeconds?: number; leafDeviations?: ProfileDeviations } = {}) {
  const leaf = await issueTestLeaf({ issuer, deviations: options.leafDeviations });
  return signedThrough([leaf.pem, ...cas], leaf.keyPkcs8, { iat: IAT + (options.offsetSeconds ?? 0) });
}

describe("RFC 5280 §6.1.3(a)(1): each certificate's signature verifies with its issuer's key", () => {
  it("refuses a forged intermediate that copies the real one's name and key identifier but is signed by another key", async () => {
    const real = await fixtureIntermediate();
    const attackerKeys = await generateKeyPair();
    const forged = await issueTestCa("forged", {
      // The real root's name and key identifier as issuer, the attacker's key as signer.
      issuer: { certificate: (await fixtureRoot()).certificate, privateKey: attackerKeys.privateKey },
      subject: real.certificate.subjectName.toJSON(),
      pathLength: 0,
      deviations: { subjectKeyIdentifier: real.certificate.getExtension(SubjectKeyIdentifierExtension)!.keyId },
    });
    expect(forged.certificate.subject).toBe(real.certificate.subject);
    expect(forged.certificate.getExtension(SubjectKeyIdentifierExtension)?.keyId).toBe(real.certificate.getExtension(SubjectKeyIdentifierExtension)?.keyId);
    await expectRefused(
      await callThrough(forged, [pemOf(forged)]),
      "certificate.chain",
      /^signature of 'C=KZ, O=shaken-edge Test, CN=shaken-edge Test SHAKEN Intermediate CA' does not verify with the key of trust anchor 'C=KZ, O=shaken-edge Test, CN=shaken-edge Test SHAKEN ROOT CA'$/,
    );
  });
});

describe("RFC 5280 §6.1.4(k): every issuer is a CA", () => {
  it("refuses an intermediate whose basicConstraints say cA=FALSE", async () => {
    const notCa = await issueTestCa("Not A CA", { deviations: { notCa: true } });
    await expectRefused(await callThrough(notCa, [pemOf(notCa)]), "certificate.chain", /^intermediate '.*CN=Not A CA' is not a CA \(basicConstraints cA is not TRUE/);
  });

  it("refuses an intermediate without basicConstraints", async () => {
    const noConstraints = await issueTestCa("No Constraints", { deviations: { omitBasicConstraints: true } });
    await expectRefused(await callThrough(noConstraints, [pemOf(noConstraints)]), "certificate.chain", /^intermediate '.*CN=No Constraints' is not a CA \(basicConstraints cA is not TRUE/);
  });

  it("refuses a certificate issued with a SHAKEN end-entity key, the real leaf served as its CA", async () => {
    const realLeaf = await loadSigningAuthority(pki.leaf, pki.leafKeyPkcs8);
    await expectRefused(await callThrough(realLeaf, [pki.leaf, pki.intermediate]), "certificate.chain", /^intermediate 'C=KZ, O=shaken-edge Test SP, CN=SHAKEN 818H' is not a CA/);
  });

  it("refuses, as a failed check and not an error, an intermediate whose basicConstraints cannot be decoded", async () => {
    const root = await fixtureRoot();
    // A sound twin (same name and key) issues the leaf, since our issuing code cannot read the garbled one; the repository serves the garbled one.
    const twin = await issueTestCa("Garbled");
    const garbled = await X509CertificateGenerator.create({
      serialNumber: "4e01",
      subject: twin.certificate.subjectName,
      issuer: root.certificate.subjectName,
      notBefore: twin.certificate.notBefore,
      notAfter: twin.certificate.notAfter,
      publicKey: twin.certificate.publicKey,
      signingKey: root.privateKey,
      signingAlgorithm: SHAKEN_SIGNING_ALGORITHM,
      extensions: [new Extension("2.5.29.19", true, new Uint8Array([0x04, 0x00]))], // an OCTET STRING where a SEQUENCE belongs
    });
    await expectRefused(await callThrough(twin, [garbled.toString("pem")]), "certificate.chain", /^intermediate '.*CN=Garbled' has an extension that cannot be decoded$/);
  });
});

describe("RFC 5280 §6.1.4(n): an issuer's keyUsage includes keyCertSign", () => {
  it("refuses an intermediate whose keyUsage lacks keyCertSign", async () => {
    const signer = await issueTestCa("Signer Only", { deviations: { withoutKeyCertSign: true } });
    await expectRefused(await callThrough(signer, [pemOf(signer)]), "certificate.chain", /^intermediate '.*CN=Signer Only' lacks keyCertSign/);
  });

  it("accepts an issuer without keyUsage, as the RFC does (real STI-CA roots carry none)", async () => {
    const plain = await issueTestCa("No Key Usage", { deviations: { omitKeyUsage: true } });
    await expectVerified(await callThrough(plain, [pemOf(plain)]));
  });
});

describe("RFC 5280 §4.2.1.3: the signing certificate's keyUsage, when it has one, includes digitalSignature", () => {
  const signedByLeaf = async (leafDeviations: ProfileDeviations) => callThrough(await fixtureIntermediate(), [pki.intermediate], { leafDeviations });

  it("refuses a leaf whose keyUsage is keyCertSign alone", async () => {
    const identity = await signedByLeaf({ extensions: [keyUsage(KeyUsageFlags.keyCertSign)] });
    await expectRefused(identity, "certificate.chain", /^signing certificate '.*CN=SHAKEN 818H' lacks digitalSignature in its keyUsage, so its key may not sign PASSporTs \(RFC 5280 §4\.2\.1\.3\)$/);
  });

  it("refuses a leaf whose keyUsage is nonRepudiation alone", async () => {
    const identity = await signedByLeaf({ extensions: [keyUsage(KeyUsageFlags.nonRepudiation)] });
    await expectRefused(identity, "certificate.chain", /lacks digitalSignature in its keyUsage/);
  });

  it("accepts a leaf whose keyUsage has digitalSignature among others, reporting the profile finding only", async () => {
    const identity = await signedByLeaf({ extensions: [keyUsage(KeyUsageFlags.digitalSignature | KeyUsageFlags.nonRepudiation)] });
    const verdict = await expectVerified(identity);
    expect(checkOf(verdict, "certificate.profile")).toMatchObject({ result: "warn", detail: expect.stringContaining("e_atis_ext_key_usage_ee") });
  });

  it("accepts a leaf without keyUsage: ATIS-1000080 asks for one, but its absence is a profile finding (spec digest §6)", async () => {
    const identity = await signedByLeaf({ omitExtensions: ["2.5.29.15"] });
    const verdict = await expectVerified(identity);
    expect(checkOf(verdict, "certificate.profile")).toMatchObject({ result: "warn", detail: expect.stringContaining("e_atis_ext_key_usage") });
  });
});

describe("RFC 5280 §6.1.4(l), (m): pathLenConstraint counts the non-self-issued intermediates below", () => {
  it("refuses a sub-CA below the fixture intermediate, whose pathLenConstraint is 0", async () => {
    const subCa = await issueTestCa("Sub CA", { issuer: await fixtureIntermediate() });
    await expectRefused(
      await callThrough(subCa, [pemOf(subCa), pki.intermediate]),
      "certificate.chain",
      /^pathLenConstraint 0 of intermediate '.*CN=shaken-edge Test SHAKEN Intermediate CA' exceeded: 1 intermediate\(s\) below it/,
    );
  });

  it("refuses a path that exceeds the trust anchor's own pathLenConstraint", async () => {
    const root = await issueTestCa("Strict ROOT", { issuer: undefined, pathLength: 0 });
    await installTrust({ anchors: [pemOf(root)] });
    const intermediate = await issueTestCa("Under Strict ROOT", { issuer: root });
    await expectRefused(await callThrough(intermediate, [pemOf(intermediate)]), "certificate.chain", /^pathLenConstraint 0 of trust anchor '.*CN=Strict ROOT' exceeded: 1 intermediate\(s\) below it/);
  });

  it("does not count a self-issued intermediate (a CA's key rollover certificate)", async () => {
    const intermediate = await fixtureIntermediate();
    const rollover = await issueTestCa("rollover", { issuer: intermediate, subject: intermediate.certificate.subjectName.toJSON() });
    expect(rollover.certificate.subject).toBe(rollover.certificate.issuer);
    await expectVerified(await callThrough(rollover, [pemOf(rollover), pki.intermediate]));
  });
});

describe("RFC 5280 §4.2: a critical extension the verifier does not process is refused, at every level", () => {
  it("in the signing certificate", async () => {
    const identity = await callThrough(await fixtureIntermediate(), [pki.intermediate], { leafDeviations: { unprocessableCriticalExtension: UNKNOWN_EXTENSION } });
    await expectRefused(identity, "certificate.chain", /^signing certificate '.*CN=SHAKEN 818H' carries critical extension 1\.3\.6\.1\.4\.1\.32473\.1, which this verifier does not process/);
  });

  it("in an intermediate", async () => {
    const marked = await issueTestCa("Marked", { deviations: { unprocessableCriticalExtension: UNKNOWN_EXTENSION } });
    await expectRefused(await callThrough(marked, [pemOf(marked)]), "certificate.chain", /^intermediate '.*CN=Marked' carries critical extension 1\.3\.6\.1\.4\.1\.32473\.1/);
  });

  it("in the trust anchor", async () => {
    const root = await issueTestCa("Marked ROOT", { issuer: undefined, deviations: { unprocessableCriticalExtension: UNKNOWN_EXTENSION } });
    await installTrust({ anchors: [pemOf(root)] });
    const intermediate = await issueTestCa("Under Marked ROOT", { issuer: root });
    await expectRefused(await callThrough(intermediate, [pemOf(intermediate)]), "certificate.chain", /^trust anchor '.*CN=Marked ROOT' carries critical extension/);
  });
});

describe("RFC 5280 §7.1: names chain as the RFC compares them, not as rendered text", () => {
  it("chains an issuer name that differs from the CA's subject only in case and insignificant space", async () => {
    const intermediate = await fixtureIntermediate();
    // The same CA key under a re-cased, re-spaced subject signs the leaf; the repository serves the real certificate.
    const recased = await issueTestCa("recased", {
      keys: await keyPairFromPrivateKey(intermediate.privateKey),
      subject: [{ C: ["kz"] }, { O: ["SHAKEN-EDGE  TEST"] }, { CN: [" shaken-edge test shaken intermediate ca "] }],
      pathLength: 0,
    });
    expect(recased.certificate.subject).not.toBe(intermediate.certificate.subject);
    await expectVerified(await callThrough(recased, [pki.intermediate]));
  });
});

describe("every candidate issuer and anchor is tried: the path valid at iat is used", () => {
  /** One CA re-issued under the same name and key: the first served covers the days before 2025-11-15, the second those from 2025-11-20. */
  async function reissuedIntermediates() {
    const keys = await generateKeyPair();
    const subject: JsonName = [{ C: ["KZ"] }, { O: ["shaken-edge Attack"] }, { CN: ["Re-issued CA"] }];
    const older = await issueTestCa("older", { keys, subject, notAfter: new Date("2025-11-15T00:00:00Z") });
    const newer = await issueTestCa("newer", { keys, subject, notBefore: new Date("2025-11-20T00:00:00Z") });
    return { older, newer, served: [pemOf(older), pemOf(newer)] };
  }

  it("passes through the re-issued intermediate that is valid at iat, though the expired one is served first", async () => {
    const { newer, served } = await reissuedIntermediates();
    const verdict = await expectVerified(await callThrough(newer, served));
    expect(checkOf(verdict, "certificate.chain")).toMatchObject({ result: "pass", evidence: { paths: 2 } });
  });

  it("passes at an iat only the other re-issue covers", async () => {
    const { older, served } = await reissuedIntermediates();
    await expectVerified(await callThrough(older, served, { offsetSeconds: -20 * DAY }), -20 * DAY);
  });

  it("fails certificate.validity, naming each re-issue, when trusted paths exist but none is valid at iat", async () => {
    const { newer, served } = await reissuedIntermediates();
    const gap = -10 * DAY; // 2025-11-18: after the older, before the newer
    await expectRefused(
      await callThrough(newer, served, { offsetSeconds: gap }),
      "certificate.validity",
      /^certificate '.*CN=Re-issued CA' is not valid at iat 2025-11-18T00:00:00\.000Z \(valid 2025-01-01T00:00:00\.000Z to 2025-11-15T00:00:00\.000Z\); certificate '.*CN=Re-issued CA' is not valid at iat 2025-11-18T00:00:00\.000Z \(valid 2025-11-20T00:00:00\.000Z to 2035-01-01T00:00:00\.000Z\)$/,
      gap,
    );
  });

  it("tries every trust anchor: of two re-issued roots with one name and key, the one valid at iat", async () => {
    const keys = await generateKeyPair();
    const subject: JsonName = [{ C: ["KZ"] }, { O: ["shaken-edge Attack"] }, { CN: ["Re-issued ROOT"] }];
    const expiredRoot = await issueTestCa("expired", { issuer: undefined, keys, subject, notAfter: new Date("2025-06-01T00:00:00Z") });
    const currentRoot = await issueTestCa("current", { issuer: undefined, keys, subject, notBefore: new Date("2025-06-01T00:00:00Z") });
    await installTrust({ anchors: [pemOf(expiredRoot), pemOf(currentRoot)] });
    const intermediate = await issueTestCa("Under Re-issued ROOT", { issuer: currentRoot });
    await expectVerified(await callThrough(intermediate, [pemOf(intermediate)]));
  });
});

describe("the search is bounded", () => {
  it("gives up on a flood of look-alike CAs that all sign one another, and says so", async () => {
    // Seven CAs (a repository body holds at most eight certificates) with one name and one key, none trusted:
    // every one verifies as every other's issuer, so the paths through them multiply.
    const keys = await generateKeyPair();
    const subject: JsonName = [{ O: ["Look-alike"] }, { CN: ["Look-alike CA"] }];
    const lookAlikes = await Promise.all(Array.from({ length: 7 }, () => issueTestCa("look-alike", { issuer: undefined, keys, subject, pathLength: 9 })));
    await expectRefused(await callThrough(lookAlikes[0]!, lookAlikes.map(pemOf)), "certificate.chain", /path search stopped after 32 issuer candidates/);
  });

  it("builds a path through exactly four intermediates", async () => {
    let issuer = await fixtureRoot();
    const cas: string[] = [];
    for (const level of [1, 2, 3, 4]) {
      issuer = await issueTestCa(`Level ${level}`, { issuer });
      cas.unshift(pemOf(issuer));
    }
    await expectVerified(await callThrough(issuer, cas));
  });

  it("builds no path through more than four intermediates", async () => {
    let issuer = await fixtureRoot();
    const cas: string[] = [];
    for (const level of [1, 2, 3, 4, 5]) {
      issuer = await issueTestCa(`Level ${level}`, { issuer });
      cas.unshift(pemOf(issuer));
    }
    await expectRefused(await callThrough(issuer, cas), "certificate.chain", /no trusted path within 4 intermediates above/);
  });
});
