/**
 * The extension rules (src/certificate/lint/rules/extensions.ts) as they report: the unspecified
 * extensions named, the SKI size in bits, a root's own AKI, the one-policy rule, and CRL distribution
 * points whose names are not all URLs or that have no full name at all.
 */
import "reflect-metadata";
import * as asn1X509 from "@peculiar/asn1-x509";
import { AsnConvert } from "@peculiar/asn1-schema";
import {
  AuthorityKeyIdentifierExtension,
  CertificatePolicyExtension,
  ExtendedKeyUsageExtension,
  Extension,
  GeneralNames,
  KeyUsageFlags,
  Name,
  SubjectKeyIdentifierExtension,
  type X509Certificate,
} from "@peculiar/x509";
import { describe, expect, it } from "vitest";
import { lintCertificate, type LintFinding } from "../../../src/certificate/lint";
import { generateKeyPair, issueCaCertificate, keyUsage, SHAKEN_POLICY_OIDS, type CaDeviations } from "../../../src/pki";
import { ISSUED, leafCertificate, ROOT_NAME, STI_PA_CRL } from "./lint-fixtures";

const summary = (findings: LintFinding[]) => findings.map(({ rule, message }) => ({ rule, message }));
const EXTENDED_KEY_USAGE = "2.5.29.37";
const OCSP_NO_CHECK = "1.3.6.1.5.5.7.48.1.5";

/** The root of the lint fixtures (KeyUsage keyCertSign alone), with these extensions added: its keys are known beforehand so that its AKI can name them. */
async function rootWith(extensions: (keys: CryptoKeyPair) => Promise<Extension[]>): Promise<X509Certificate> {
  const keys = await generateKeyPair();
  const deviations: CaDeviations = { extensions: [keyUsage(KeyUsageFlags.keyCertSign), ...(await extensions(keys))] };
  return (await issueCaCertificate({ subject: ROOT_NAME, keys, notBefore: ISSUED, notAfter: new Date("2035-01-01T00:00:00Z"), deviations })).certificate;
}

const ownKeyIdentifier = async (keys: CryptoKeyPair): Promise<string> => (await SubjectKeyIdentifierExtension.create(keys.publicKey)).keyId;

/** A leaf whose CRLDistributionPoints holds this one distribution point. */
const leafWithDistributionPoint = (point: asn1X509.DistributionPoint) =>
  leafCertificate({ extensions: [new Extension(asn1X509.id_ce_cRLDistributionPoints, false, AsnConvert.serialize(new asn1X509.CRLDistributionPoints([point])))] });

const stiPaCrlIssuer = () => [new asn1X509.GeneralName({ directoryName: AsnConvert.parse(new Name(STI_PA_CRL.crlIssuer).toArrayBuffer(), asn1X509.Name) })];

describe("e_atis_ext_not_specified", () => {
  it("names each extension outside the profile by OID, and says which are critical", async () => {
    const leaf = await leafCertificate({ extensions: [new ExtendedKeyUsageExtension(["1.3.6.1.5.5.7.3.2"]), new Extension(OCSP_NO_CHECK, true, new Uint8Array([0x05, 0x00]))] });
    expect(summary(lintCertificate(leaf, { role: "leaf" }))).toEqual([
      { rule: "e_atis_ext_not_specified", message: `extension(s) ${EXTENDED_KEY_USAGE}, ${OCSP_NO_CHECK} (critical) are not in the STI certificate profile` },
    ]);
  });
});

describe("e_atis_subject_key_identifier_size", () => {
  it("gives the SKI's size in bits: 8 octets are 64 bits", async () => {
    const leaf = await leafCertificate({ extensions: [new SubjectKeyIdentifierExtension("0102030405060708")] });
    expect(summary(lintCertificate(leaf, { role: "leaf" }))).toEqual([{ rule: "e_atis_subject_key_identifier_size", message: "SubjectKeyIdentifier is 64 bits, must be the 160-bit SHA-1 of the key" }]);
  });
});

describe("e_atis_ext_authority_key_identifier_root", () => {
  it("accepts a root whose AKI, not critical, names its own SKI", async () => {
    const root = await rootWith(async (keys) => [new AuthorityKeyIdentifierExtension(await ownKeyIdentifier(keys))]);
    expect(lintCertificate(root, { role: "root", profile: "us-cp" })).toEqual([]);
  });

  it("refuses a critical AKI on a root even when it names the root's own SKI", async () => {
    const root = await rootWith(async (keys) => [new AuthorityKeyIdentifierExtension(await ownKeyIdentifier(keys), true)]);
    expect(summary(lintCertificate(root, { role: "root", profile: "us-cp" }))).toEqual([
      { rule: "e_atis_ext_authority_key_identifier_root", message: "AuthorityKeyIdentifier is marked critical, must not be" },
    ]);
  });

  it("reports a root AKI that names the root by issuer and serial, without a keyIdentifier, as naming none", async () => {
    let keyId = "";
    const root = await rootWith(async (keys) => {
      keyId = await ownKeyIdentifier(keys);
      return [await AuthorityKeyIdentifierExtension.create({ name: new GeneralNames([{ type: "dn", value: "C=US, O=Lint CA, CN=Lint SHAKEN ROOT CA" }]), serialNumber: "01" })];
    });
    expect(summary(lintCertificate(root, { role: "root", profile: "us-cp" }))).toEqual([
      { rule: "e_atis_ext_authority_key_identifier_root", message: `AuthorityKeyIdentifier keyIdentifier (none) is not the root's SubjectKeyIdentifier ${keyId}` },
    ]);
  });
});

describe("e_atis_ext_certificate_policies", () => {
  it("refuses two policies, naming both", async () => {
    const leaf = await leafCertificate({ extensions: [new CertificatePolicyExtension([SHAKEN_POLICY_OIDS.cp13, SHAKEN_POLICY_OIDS.cp14])] });
    expect(summary(lintCertificate(leaf, { role: "leaf", profile: "atis" }))).toEqual([
      { rule: "e_atis_ext_certificate_policies", message: `CertificatePolicies holds 2 policies (${SHAKEN_POLICY_OIDS.cp13}, ${SHAKEN_POLICY_OIDS.cp14}), must hold exactly one` },
    ]);
  });
});

describe("e_shaken_certificate_policies_id", () => {
  it("refuses two US SHAKEN policies: the CP asks for exactly one, not a first one", async () => {
    const leaf = await leafCertificate({ extensions: [new CertificatePolicyExtension([SHAKEN_POLICY_OIDS.cp14, SHAKEN_POLICY_OIDS.cp13])] });
    expect(lintCertificate(leaf, { role: "leaf", profile: "us-cp" })).toContainEqual(
      expect.objectContaining({
        rule: "e_shaken_certificate_policies_id",
        message: `CertificatePolicies is [${SHAKEN_POLICY_OIDS.cp14}, ${SHAKEN_POLICY_OIDS.cp13}], must be exactly one of ${SHAKEN_POLICY_OIDS.cp13}, ${SHAKEN_POLICY_OIDS.cp14}`,
      }),
    );
  });
});

describe("CRL distribution points (e_atis_ext_crl_distribution, e_atis_ext_crl_distribution_struct)", () => {
  it("counts only the URLs among the full name's names: a directory name beside the one URL is accepted", async () => {
    const leaf = await leafWithDistributionPoint(
      new asn1X509.DistributionPoint({
        distributionPoint: new asn1X509.DistributionPointName({ fullName: [...stiPaCrlIssuer(), new asn1X509.GeneralName({ uniformResourceIdentifier: STI_PA_CRL.url })] }),
        cRLIssuer: stiPaCrlIssuer(),
      }),
    );
    expect(lintCertificate(leaf, { role: "leaf", profile: "us-cp" })).toEqual([]);
  });

  it("a full name with a directory name and no URL names no URL", async () => {
    const leaf = await leafWithDistributionPoint(
      new asn1X509.DistributionPoint({ distributionPoint: new asn1X509.DistributionPointName({ fullName: stiPaCrlIssuer() }), cRLIssuer: stiPaCrlIssuer() }),
    );
    expect(summary(lintCertificate(leaf, { role: "leaf" }))).toEqual([{ rule: "e_atis_ext_crl_distribution", message: "CRL distribution point names [], must be one HTTP(S) URL" }]);
  });

  it("a distribution point with only a cRLIssuer names no URL and has no full name", async () => {
    const leaf = await leafWithDistributionPoint(new asn1X509.DistributionPoint({ cRLIssuer: stiPaCrlIssuer() }));
    expect(summary(lintCertificate(leaf, { role: "leaf" }))).toEqual([
      { rule: "e_atis_ext_crl_distribution", message: "CRL distribution point names [], must be one HTTP(S) URL" },
      { rule: "e_atis_ext_crl_distribution_struct", message: "CRL distribution point has no distributionPoint fullName" },
    ]);
  });

  it("a distribution point named relative to the CRL issuer names no URL and has no full name", async () => {
    const relative = new asn1X509.RelativeDistinguishedName([new asn1X509.AttributeTypeAndValue({ type: "2.5.4.3", value: new asn1X509.AttributeValue({ printableString: "CRL1" }) })]);
    const leaf = await leafWithDistributionPoint(
      new asn1X509.DistributionPoint({ distributionPoint: new asn1X509.DistributionPointName({ nameRelativeToCRLIssuer: relative }), cRLIssuer: stiPaCrlIssuer() }),
    );
    expect(summary(lintCertificate(leaf, { role: "leaf" }))).toEqual([
      { rule: "e_atis_ext_crl_distribution", message: "CRL distribution point names [], must be one HTTP(S) URL" },
      { rule: "e_atis_ext_crl_distribution_struct", message: "CRL distribution point has no distributionPoint fullName" },
    ]);
  });
});
