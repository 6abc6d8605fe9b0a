/**
 * The certificate-field rules (src/certificate/lint/rules/fields.ts) as they report: version, serial
 * number (sign, size, the warning's odds), validity, signature algorithm and public key, with the
 * US SHAKEN CP 1.4 §6.1.5 allowance for P-384 / SHA-384 held to what it allows and no more.
 */
import "reflect-metadata";
import { AsnConvert } from "@peculiar/asn1-schema";
import * as asn1X509 from "@peculiar/asn1-x509";
import { AsnEcSignatureFormatter, KeyUsageFlags, X509Certificate } from "@peculiar/x509";
import { describe, expect, it } from "vitest";
import { lintCertificate, lintCertificateReport, type LintFinding } from "../../../src/certificate/lint";
import { crlDistributionPoints, issueCaCertificate, keyUsage, SHAKEN_POLICY_OIDS } from "../../../src/pki";
import { conformingIntermediateAuthority, INTERMEDIATE_NAME, intermediateAuthority, ISSUED, leafCertificate, rootAuthority, STI_PA_CRL } from "./lint-fixtures";

const ECDSA_WITH_SHA512 = "1.2.840.10045.4.3.4";
const ED25519 = "1.3.101.112";

const summary = (findings: LintFinding[]) => findings.map(({ rule, message }) => ({ rule, message }));

/** The certificate with its TBSCertificate edited and signed again by `signingKey` (ECDSA P-256 with `hash`). */
async function reissued(certificate: X509Certificate, signingKey: CryptoKey, edit: (asn: asn1X509.Certificate) => void, hash = "SHA-256"): Promise<X509Certificate> {
  const asn = AsnConvert.parse(certificate.rawData, asn1X509.Certificate);
  edit(asn);
  const algorithm = { name: "ECDSA", hash };
  const signature = await crypto.subtle.sign(algorithm, signingKey, AsnConvert.serialize(asn.tbsCertificate));
  const asnSignature = new AsnEcSignatureFormatter().toAsnSignature({ ...algorithm, namedCurve: "P-256" }, signature);
  if (!asnSignature) throw new Error("ECDSA signature could not be DER-encoded");
  asn.signatureValue = asnSignature;
  return new X509Certificate(AsnConvert.serialize(asn));
}

describe("e_atis_version", () => {
  it("names the version the certificate has: a v1 certificate is X.509 v1", async () => {
    const leaf = await leafCertificate({ version1: true });
    expect(summary(lintCertificate(leaf, { role: "leaf" }))).toEqual([{ rule: "e_atis_version", message: "certificate is X.509 v1, must be v3" }]);
  });
});

describe("e_atis_serial_number and the serial size rules", () => {
  it("reports a short negative serial as negative only: the size rules judge positive serials", async () => {
    const issuer = await conformingIntermediateAuthority();
    const leaf = await reissued(await leafCertificate({}, { issuer }), issuer.privateKey, (asn) => {
      // 0x8001: a 16-bit INTEGER with its sign bit set, -32767.
      asn.tbsCertificate.serialNumber = new Uint8Array([0x80, 0x01]).buffer;
    });
    expect(summary(lintCertificate(leaf, { role: "leaf" }))).toEqual([{ rule: "e_atis_serial_number", message: "serial number is negative, must be a positive integer" }]);
  });

  it("warns of a 62-bit serial with the odds of 64 random bits coming out that short: one time in 2^(64-62)", async () => {
    const leaf = await leafCertificate({ serialNumber: "0x3fffffffffffffff" });
    expect(summary(lintCertificate(leaf, { role: "leaf" }))).toEqual([
      {
        rule: "w_atis_serial_number_size",
        message: "serial number has 62 bits: 64 random bits come out this short one time in 4, so it may conform; a CA that prefixes a non-zero byte leaves no doubt",
      },
    ]);
  });
});

describe("e_atis_validity_inverted", () => {
  it("accepts notBefore equal to notAfter: valid for one instant, not inverted", async () => {
    const leaf = await leafCertificate({}, { notBefore: ISSUED, notAfter: ISSUED });
    expect(leaf.notBefore.getTime()).toBe(leaf.notAfter.getTime());
    expect(lintCertificate(leaf, { role: "leaf", profile: "us-cp" })).toEqual([]);
  });
});

describe("e_atis_signature_algorithm", () => {
  it("refuses SHA-384 in us-cp from a CA that asserts CP 1.3, however late it was issued: the allowance is CP 1.4's", async () => {
    const intermediate = (await intermediateAuthority({ signatureHash: "SHA-384" }, { policy: SHAKEN_POLICY_OIDS.cp13 })).certificate;
    expect(summary(lintCertificate(intermediate, { role: "intermediate", profile: "us-cp" }))).toEqual([
      { rule: "e_atis_signature_algorithm_ca", message: "signed with ECDSA/SHA-384, must be ecdsa-with-SHA256" },
    ]);
  });

  it("allows SHA-384 in us-cp to a CA asserting CP 1.4 even when issued before CP 1.4 was published", async () => {
    const intermediate = (await intermediateAuthority({ signatureHash: "SHA-384" }, { notBefore: new Date("2023-01-02T00:00:00Z") })).certificate;
    expect(lintCertificate(intermediate, { role: "intermediate", profile: "us-cp" })).toEqual([]);
  });

  it("refuses SHA-512 under CP 1.4 in us-cp: the allowance is SHA-384, not any hash", async () => {
    const issuer = await conformingIntermediateAuthority();
    const leaf = await reissued(
      await leafCertificate({}, { issuer }),
      issuer.privateKey,
      (asn) => {
        asn.tbsCertificate.signature = new asn1X509.AlgorithmIdentifier({ algorithm: ECDSA_WITH_SHA512 });
        asn.signatureAlgorithm = new asn1X509.AlgorithmIdentifier({ algorithm: ECDSA_WITH_SHA512 });
      },
      "SHA-512",
    );
    expect(summary(lintCertificate(leaf, { role: "leaf", profile: "us-cp" }))).toEqual([{ rule: "e_atis_signature_algorithm", message: "signed with ECDSA/SHA-512, must be ecdsa-with-SHA256" }]);
  });

  it("names an algorithm without a hash (Ed25519) as such instead of failing to evaluate", async () => {
    // The linter does not verify signatures: the algorithm identifiers alone are changed.
    const leaf = await reissued(await leafCertificate(), (await conformingIntermediateAuthority()).privateKey, (asn) => {
      asn.tbsCertificate.signature = new asn1X509.AlgorithmIdentifier({ algorithm: ED25519 });
      asn.signatureAlgorithm = new asn1X509.AlgorithmIdentifier({ algorithm: ED25519 });
    });
    expect(summary(lintCertificate(leaf, { role: "leaf" }))).toEqual([{ rule: "e_atis_signature_algorithm", message: "signed with Ed25519/?, must be ecdsa-with-SHA256" }]);
  });
});

describe("e_atis_subject_public_key_ca", () => {
  it("refuses a P-521 CA key under CP 1.4 in us-cp: the allowance is P-384, not any curve", async () => {
    const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-521" }, true, ["sign", "verify"])) as CryptoKeyPair;
    const { certificate } = await issueCaCertificate({
      issuer: await rootAuthority(),
      subject: INTERMEDIATE_NAME,
      keys,
      notBefore: ISSUED,
      notAfter: new Date("2035-01-01T00:00:00Z"),
      pathLength: 0,
      policy: SHAKEN_POLICY_OIDS.cp14,
      deviations: { extensions: [keyUsage(KeyUsageFlags.keyCertSign), crlDistributionPoints(STI_PA_CRL)] },
    });
    const report = lintCertificateReport(certificate, { role: "intermediate", profile: "us-cp" });
    expect(summary(report.findings)).toEqual([{ rule: "e_atis_subject_public_key_ca", message: "public key is ECDSA P-521, must be ECDSA P-256" }]);
  });
});
