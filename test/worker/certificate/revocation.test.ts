import "reflect-metadata";
import { AsnConvert } from "@peculiar/asn1-schema";
import * as asn1X509 from "@peculiar/asn1-x509";
import { Extension, Name, type JsonName, X509Certificate, X509Crl, X509CrlGenerator, X509CrlReason } from "@peculiar/x509";
import { beforeAll, describe, expect, it } from "vitest";
import type { TrustedPath } from "../../../src/certificate/chain";
import { crlSignedBy, crlSpeaksFor, findCrlSigner, judgeRevocation, readCrl, revocationEntry, revocationStatus } from "../../../src/certificate/revocation";
import { createCrl, createCrlSigner, generateKeyPair, issueCaCertificate, issueShakenCertificate, SHAKEN_SIGNING_ALGORITHM, type CrlOptions, type SigningAuthority } from "../../../src/pki";

/**
 * src/certificate/revocation.ts on its own: which certificates a CRL speaks for (RFC 5280 §6.3.3
 * (b)), what it says, whose signature is believed and what the judgement says. The verdict-level
 * cases are in test/worker/verification/trust-and-revocation.test.ts.
 */
const DAY = 86_400_000;
const NOW = Date.parse("2026-12-01T00:00:00Z");
const VALIDITY = { notBefore: new Date("2025-01-01T00:00:00Z"), notAfter: new Date("2035-01-01T00:00:00Z") };
const STI_PA = "C=US, O=STI-PA, CN=STI-PA CRL";
const URL_A = "https://crl.example/a.crl";
const URL_B = "https://crl.example/b.crl";
const named = (commonName: string): JsonName => [{ C: ["KZ"] }, { O: ["Revocation"] }, { CN: [commonName] }];

const uri = (url: string) => new asn1X509.GeneralName({ uniformResourceIdentifier: url });
const directoryName = (name: string) => new asn1X509.GeneralName({ directoryName: AsnConvert.parse(new Name(name).toArrayBuffer(), asn1X509.Name) });

/** One distribution point of a certificate's CRLDistributionPoints: its full name (or none), and its cRLIssuer (or none). */
const point = (fullName: asn1X509.GeneralName[] | null, crlIssuer?: asn1X509.GeneralName[]) =>
  new asn1X509.DistributionPoint({ distributionPoint: fullName ? new asn1X509.DistributionPointName({ fullName }) : undefined, cRLIssuer: crlIssuer });
const distributionPoints = (...points: asn1X509.DistributionPoint[]) =>
  new Extension(asn1X509.id_ce_cRLDistributionPoints, false, AsnConvert.serialize(new asn1X509.CRLDistributionPoints(points)));

let root: SigningAuthority;
let intermediate: SigningAuthority;
let stiPa: SigningAuthority;

/** A leaf of the intermediate whose CRLDistributionPoints extension is `extension`. */
async function leafWith(extension: Extension): Promise<X509Certificate> {
  const keys = await generateKeyPair();
  return issueShakenCertificate({
    issuer: intermediate,
    subjectPublicKey: keys.publicKey,
    spc: "818H",
    organization: "Revocation SP",
    country: "KZ",
    ...VALIDITY,
    crlDistributionPoint: { url: URL_A, crlIssuer: null },
    deviations: { extensions: [extension] },
  });
}

const crlOf = (issuer: SigningAuthority, options: Partial<CrlOptions> = {}) =>
  createCrl({ issuer, revoked: [], thisUpdate: new Date(NOW - DAY), nextUpdate: new Date(NOW + 6 * DAY), crlNumber: 7, ...options });

const pathOf = (leaf: X509Certificate): TrustedPath => ({ certificates: [leaf, intermediate.certificate, root.certificate], anchor: root.certificate, validFrom: VALIDITY.notBefore.getTime(), validUntil: VALIDITY.notAfter.getTime() });

async function judged(leaf: X509Certificate, crls: X509Crl[]) {
  const status = await revocationStatus(pathOf(leaf), { anchors: [root.certificate], crlSigners: [stiPa.certificate], crls });
  return judgeRevocation(status, leaf, NOW);
}

/** `der` with its signature value replaced by bytes no signature format reads. */
function withUnreadableSignature(crl: X509Crl): X509Crl {
  const asn = AsnConvert.parse(crl.rawData, asn1X509.CertificateList);
  asn.signature = new Uint8Array([0xde, 0xad, 0xbe, 0xef]).buffer;
  return new X509Crl(AsnConvert.serialize(asn));
}

beforeAll(async () => {
  root = await issueCaCertificate({ subject: named("Root"), keys: await generateKeyPair(), ...VALIDITY });
  intermediate = await issueCaCertificate({ issuer: root, subject: named("Intermediate"), keys: await generateKeyPair(), ...VALIDITY });
  stiPa = await createCrlSigner({ subject: STI_PA, ...VALIDITY });
});

describe("which certificates a CRL speaks for (RFC 5280 §6.3.3 (b))", () => {
  it("an indirect CRL: a certificate that names its issuer as the cRLIssuer of any one of its distribution points", async () => {
    const indirect = readCrl(await crlOf(stiPa, { issuingDistributionPoint: { indirectCRL: true } }));
    expect(crlSpeaksFor(indirect, await leafWith(distributionPoints(point([uri(URL_A)]), point([uri(URL_B)], [directoryName(STI_PA)]))))).toBe(true);
    expect(crlSpeaksFor(indirect, await leafWith(distributionPoints(point([uri(URL_A)]), point([uri(URL_B)]))))).toBe(false);
  });

  it("an indirect CRL: a certificate whose distribution point names a cRLIssuer and no distribution point", async () => {
    const indirect = readCrl(await crlOf(stiPa, { issuingDistributionPoint: { indirectCRL: true } }));
    expect(crlSpeaksFor(indirect, await leafWith(distributionPoints(point(null, [directoryName(STI_PA)]))))).toBe(true);
  });

  it("a CRL whose IDP names a distribution point: a certificate with that URL in any of its points, among any of its names", async () => {
    const partition = readCrl(await crlOf(intermediate, { issuingDistributionPoint: { distributionPoint: new asn1X509.DistributionPointName({ fullName: [uri(URL_B)] }) } }));
    expect(crlSpeaksFor(partition, await leafWith(distributionPoints(point([uri(URL_A)]), point([uri(URL_B)]))))).toBe(true);
    expect(crlSpeaksFor(partition, await leafWith(distributionPoints(point([uri(URL_A), uri(URL_B)]))))).toBe(true);
    expect(crlSpeaksFor(partition, await leafWith(distributionPoints(point([uri(URL_A)]))))).toBe(false);
  });
  it("a CRL whose IDP names its distribution point by a directory name: a certificate with that name in a point (§6.3.3 (b)(2)(i))", async () => {
    const partition = "C=KZ, O=Revocation, CN=Partition 1";
    const crl = readCrl(await crlOf(intermediate, { issuingDistributionPoint: { distributionPoint: new asn1X509.DistributionPointName({ fullName: [directoryName(partition)] }) } }));
    expect(crlSpeaksFor(crl, await leafWith(distributionPoints(point([uri(URL_A), directoryName(partition)]))))).toBe(true);
    expect(crlSpeaksFor(crl, await leafWith(distributionPoints(point([uri(URL_A)]))))).toBe(false);
    expect(crlSpeaksFor(crl, await leafWith(distributionPoints(point([directoryName("C=KZ, O=Revocation, CN=Partition 2")]))))).toBe(false);
  });

  it("a CRL whose IDP names a distribution point: a certificate whose point gives no name, by that point's cRLIssuer", async () => {
    const crl = readCrl(await crlOf(stiPa, { issuingDistributionPoint: { indirectCRL: true, distributionPoint: new asn1X509.DistributionPointName({ fullName: [directoryName(STI_PA)] }) } }));
    expect(crlSpeaksFor(crl, await leafWith(distributionPoints(point(null, [directoryName(STI_PA)]))))).toBe(true);
    expect(crlSpeaksFor(crl, await leafWith(distributionPoints(point([uri(URL_A)], [directoryName(STI_PA)]))))).toBe(false);
  });

  it("a CRL whose IDP names its distribution point only by names of other forms: no certificate, rather than every one", async () => {
    const crl = readCrl(await crlOf(intermediate, { issuingDistributionPoint: { distributionPoint: new asn1X509.DistributionPointName({ fullName: [new asn1X509.GeneralName({ rfc822Name: "crl@example.com" })] }) } }));
    expect(crlSpeaksFor(crl, await leafWith(distributionPoints(point([uri(URL_A)]))))).toBe(false);
    // Not even a certificate naming its point by the same name of that form: such names are compared with nothing.
    expect(crlSpeaksFor(crl, await leafWith(distributionPoints(point([new asn1X509.GeneralName({ rfc822Name: "crl@example.com" })]))))).toBe(false);
    expect(crlSpeaksFor(readCrl(await crlOf(intermediate)), await leafWith(distributionPoints(point([uri(URL_A)]))))).toBe(true);
  });
});

describe("what a CRL says", () => {
  it("one whose IDP names its distribution point relative to its issuer cannot be used", async () => {
    const relative = new asn1X509.DistributionPointName({ nameRelativeToCRLIssuer: new asn1X509.RelativeDistinguishedName([new asn1X509.AttributeTypeAndValue({ type: "2.5.4.3", value: new asn1X509.AttributeValue({ utf8String: "part 1" }) })]) });
    expect(readCrl(await crlOf(intermediate, { issuingDistributionPoint: { distributionPoint: relative } })).unusable).toBe(
      "its Issuing Distribution Point names a distribution point relative to the issuer, which this verifier does not match",
    );
  });

  it("an indirect CRL finds each entry's certificateIssuer among the entry's other extensions", async () => {
    const leaf = await leafWith(distributionPoints(point([uri(URL_A)], [directoryName(STI_PA)])));
    const crl = await crlOf(stiPa, {
      issuingDistributionPoint: { indirectCRL: true },
      revoked: [
        { serialNumber: "0a", revocationDate: new Date(NOW - 2 * DAY), reason: X509CrlReason.keyCompromise, certificateIssuer: intermediate.certificate.subject },
        { serialNumber: leaf.serialNumber, revocationDate: new Date(NOW - 2 * DAY), reason: X509CrlReason.keyCompromise },
      ],
    });
    expect(revocationEntry(readCrl(crl), leaf)).toMatchObject({ revokedAt: new Date(NOW - 2 * DAY) });
  });

  it("one without a CRL number or a nextUpdate reads them as none, and is never current", async () => {
    const bare = await X509CrlGenerator.create({ issuer: intermediate.certificate.subjectName, thisUpdate: new Date(NOW - DAY), signingKey: intermediate.privateKey, signingAlgorithm: SHAKEN_SIGNING_ALGORITHM });
    const reading = readCrl(bare);
    expect(reading).toMatchObject({ crlNumber: null, nextUpdate: null });
    expect(reading.evidence).toEqual({ issuer: intermediate.certificate.subject, crlNumber: null, thisUpdate: new Date(NOW - DAY).toISOString(), nextUpdate: null });
    const judgement = await judged(await leafWith(distributionPoints(point([uri(URL_A)]))), [bare]);
    expect(judgement).toMatchObject({ result: "unknown", reason: `the CRL of '${intermediate.certificate.subject}' is not current: it names no nextUpdate (RFC 5280 §5.1.2.5)` });
  });
});

describe("whose signature a CRL is believed on", () => {
  it("only a candidate bearing the CRL issuer's name, whatever key signed it", async () => {
    // In the intermediate's name, signed with the STI-PA signer's key.
    const crl = await crlOf({ certificate: intermediate.certificate, privateKey: stiPa.privateKey });
    expect(await crlSignedBy(crl, stiPa.certificate)).toBe(true);
    expect(await findCrlSigner(crl, [stiPa.certificate])).toBeNull();
  });

  it("none, when its signature value cannot be read", async () => {
    const unreadable = withUnreadableSignature(await crlOf(intermediate));
    expect(await crlSignedBy(unreadable, intermediate.certificate)).toBe(false);
    expect(await findCrlSigner(unreadable, [intermediate.certificate])).toBeNull();
  });
});

describe("names matched as RFC 5280 §7.1 compares them, as path validation does", () => {
  /** The intermediate's own key, in a certificate whose subject spells its name with other case and spacing. */
  const respelt = async (subject: string): Promise<SigningAuthority> => {
    const publicKey = await intermediate.certificate.publicKey.export();
    return { certificate: (await issueCaCertificate({ issuer: root, keys: { publicKey, privateKey: intermediate.privateKey }, ...VALIDITY, subject: new Name(subject).toJSON() })).certificate, privateKey: intermediate.privateKey };
  };
  const RESPELT = "C=kz, O=REVOCATION, CN=intermediate";

  it("the issuer's own CRL, its issuer spelt in other case: it speaks for the certificate, is believed on the issuer's key, and its entry revokes", async () => {
    const leaf = await leafWith(distributionPoints(point([uri(URL_A)])));
    const crl = await crlOf(await respelt(RESPELT), { revoked: [{ serialNumber: leaf.serialNumber, revocationDate: new Date(NOW - 2 * DAY), reason: X509CrlReason.keyCompromise }] });
    expect(crl.issuer).not.toBe(leaf.issuer);
    const reading = readCrl(crl);
    expect(crlSpeaksFor(reading, leaf)).toBe(true);
    expect(await findCrlSigner(crl, [intermediate.certificate])).toBe(intermediate.certificate);
    expect(revocationEntry(reading, leaf)).toMatchObject({ revokedAt: new Date(NOW - 2 * DAY) });
    expect(await judged(leaf, [crl])).toMatchObject({ result: "revoked", certificate: leaf });
  });

  it("an indirect CRL: the cRLIssuer and an entry's certificateIssuer spelt in other case than the names they match", async () => {
    const leaf = await leafWith(distributionPoints(point([uri(URL_A)], [directoryName("C=us, O=sti-pa, CN=STI-PA  crl")])));
    const crl = await crlOf(stiPa, {
      issuingDistributionPoint: { indirectCRL: true },
      revoked: [{ serialNumber: leaf.serialNumber, revocationDate: new Date(NOW - 2 * DAY), reason: X509CrlReason.keyCompromise, certificateIssuer: RESPELT }],
    });
    expect(crlSpeaksFor(readCrl(crl), leaf)).toBe(true);
    expect(revocationEntry(readCrl(crl), leaf)).toMatchObject({ revokedAt: new Date(NOW - 2 * DAY) });
  });

  it("a name that differs in more than spelling is another name", async () => {
    const leaf = await leafWith(distributionPoints(point([uri(URL_A)])));
    const crl = await crlOf(await respelt("C=KZ, O=Revocation, CN=Intermediate 2"), { revoked: [{ serialNumber: leaf.serialNumber, revocationDate: new Date(NOW - 2 * DAY), reason: X509CrlReason.keyCompromise }] });
    expect(crlSpeaksFor(readCrl(crl), leaf)).toBe(false);
    expect(await findCrlSigner(crl, [intermediate.certificate])).toBeNull();
  });
});

describe("the judgement", () => {
  it("a current CRL that speaks for the intermediate only says nothing of the signing certificate", async () => {
    const leaf = await leafWith(distributionPoints(point([uri(URL_A)])));
    expect(await judged(leaf, [await crlOf(root)])).toMatchObject({ result: "unknown", reason: `no loaded CRL covers the signing certificate (issuer '${intermediate.certificate.subject}')` });
  });

  it("names a stale CRL with its number", async () => {
    const leaf = await leafWith(distributionPoints(point([uri(URL_A)])));
    const stale = await crlOf(intermediate, { thisUpdate: new Date(NOW - 8 * DAY), nextUpdate: new Date(NOW - DAY) });
    expect(await judged(leaf, [stale])).toMatchObject({ result: "unknown", reason: `the CRL of '${intermediate.certificate.subject}' (#7) is not current: it is past its nextUpdate ${new Date(NOW - DAY).toISOString()}` });
  });

  it("with no CRL covering the signing certificate, names the cRLIssuer its distribution points name, and none where they name none", async () => {
    const reasonFor = async (extension: Extension) => ((await judged(await leafWith(extension), [])) as { reason: string }).reason;
    const uncovered = `no loaded CRL covers the signing certificate (issuer '${intermediate.certificate.subject}'`;
    expect(await reasonFor(distributionPoints(point([uri(URL_A)], [directoryName(STI_PA)])))).toBe(`${uncovered}, cRLIssuer '${STI_PA}')`);
    expect(await reasonFor(distributionPoints(point([uri(URL_A)])))).toBe(`${uncovered})`);
    // A cRLIssuer that is no directory name names no CRL issuer.
    expect(await reasonFor(distributionPoints(point([uri(URL_A)], [uri("https://sti-pa.example/")])))).toBe(`${uncovered})`);
  });
});
