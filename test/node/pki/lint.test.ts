import "reflect-metadata";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as asn1X509 from "@peculiar/asn1-x509";
import { AuthorityKeyIdentifierExtension, CertificatePolicyExtension, ExtendedKeyUsageExtension, Extension, GeneralNames, KeyUsageFlags, SubjectKeyIdentifierExtension, type X509Certificate } from "@peculiar/x509";
import { beforeAll, describe, expect, it } from "vitest";
import { LINT_RULES, lintCertificate, lintCertificateReport, type CertificateRole, type LintProfile } from "../../../src/certificate/lint";
import { crlDistributionPoints, keyUsage, SHAKEN_POLICY_OIDS, tnAuthListExtension } from "../../../src/pki";
import {
  conformingIntermediateAuthority,
  INTERMEDIATE_NAME,
  intermediateAuthority,
  ISSUED,
  leafCertificate,
  leafName,
  rootAuthority,
  selfIssuedLeaf,
  SPC,
  STI_PA_CRL,
} from "./lint-fixtures";

const OID = {
  basicConstraints: asn1X509.id_ce_basicConstraints,
  keyUsage: asn1X509.id_ce_keyUsage,
  subjectKeyIdentifier: asn1X509.id_ce_subjectKeyIdentifier,
  authorityKeyIdentifier: asn1X509.id_ce_authorityKeyIdentifier,
  certificatePolicies: asn1X509.id_ce_certificatePolicies,
  tnAuthList: "1.3.6.1.5.5.7.1.26",
};
const CANADIAN_POLICY = "1.3.6.1.4.1.56223.1";
const DAY_MS = 86_400_000;

/** A certificate to lint in a role, with its issuer for the path rules. */
interface Linted {
  certificate: X509Certificate;
  role: CertificateRole;
  issuer?: X509Certificate;
  profile?: LintProfile;
}

const asLeaf = (certificate: X509Certificate, more: Partial<Linted> = {}): Linted => ({ certificate, role: "leaf", ...more });
const asIntermediate = async (authority: Promise<{ certificate: X509Certificate }>, more: Partial<Linted> = {}): Promise<Linted> => ({ certificate: (await authority).certificate, role: "intermediate", ...more });
const asRoot = async (authority: Promise<{ certificate: X509Certificate }>, more: Partial<Linted> = {}): Promise<Linted> => ({ certificate: (await authority).certificate, role: "root", ...more });

/** A leaf with the conforming intermediate as its known issuer. */
async function leafWithIssuer(deviations: Parameters<typeof leafCertificate>[0] = {}, issued = ISSUED): Promise<Linted> {
  const issuer = await conformingIntermediateAuthority();
  return asLeaf(await leafCertificate(deviations, { notBefore: issued, issuer }), { issuer: issuer.certificate });
}

/** A leaf issued by an intermediate that deviates, linted with that intermediate as its issuer. */
async function leafUnderIntermediate(deviations: Parameters<typeof intermediateAuthority>[0], issued = ISSUED): Promise<Linted> {
  const issuer = await intermediateAuthority(deviations);
  return asLeaf(await leafCertificate({}, { notBefore: issued, issuer }), { issuer: issuer.certificate });
}

interface RuleFixture {
  /** The certificate that violates the rule and nothing else, issued on `issued`. */
  negative(issued: Date): Promise<Linted>;
  /** A certificate the rule accepts; by default the conforming certificate of the negative's role. */
  positive?(): Promise<Linted>;
  /** The date the negative is issued on when it cannot be 2025 (another rule would also apply then). */
  issued?: Date;
}

const BEFORE_V004_LEAVES = new Date("2021-06-01T00:00:00Z");

/** One entry per rule id: what violates it alone, and what it accepts where the conforming certificate would not show it. */
const FIXTURES: Record<string, RuleFixture> = {
  e_atis_version: { negative: async (issued) => asLeaf(await leafCertificate({ version1: true }, { notBefore: issued })) },
  e_atis_version_ca: { negative: (issued) => asIntermediate(intermediateAuthority({ version1: true }, { notBefore: issued })) },
  e_atis_serial_number: { negative: async (issued) => asLeaf(await leafCertificate({ serialNumber: "negative" }, { notBefore: issued })) },
  e_atis_serial_number_ca: { negative: (issued) => asIntermediate(intermediateAuthority({ serialNumber: "zero" }, { notBefore: issued })) },
  e_atis_serial_number_size: { negative: async (issued) => asLeaf(await leafCertificate({ serialNumber: "0x7fffffffffff" }, { notBefore: issued })) },
  e_atis_serial_number_size_ca: { negative: (issued) => asIntermediate(intermediateAuthority({ serialNumber: "short" }, { notBefore: issued })) },
  w_atis_serial_number_size: {
    negative: async (issued) => asLeaf(await leafCertificate({ serialNumber: "0x3fffffffffffffff" }, { notBefore: issued })),
    positive: async () => asLeaf(await leafCertificate({ serialNumber: "0x01ffffffffffffffff" })),
  },
  w_atis_serial_number_size_ca: { negative: (issued) => asIntermediate(intermediateAuthority({ serialNumber: "0xffffffffffff" }, { notBefore: issued })) },
  e_atis_validity_inverted: { negative: async (issued) => asLeaf(await leafCertificate({}, { notBefore: issued, notAfter: new Date(issued.getTime() - DAY_MS) })) },
  e_atis_signature_algorithm: {
    negative: async (issued) => asLeaf(await leafCertificate({ signatureHash: "SHA-384" }, { notBefore: issued }), { profile: "atis" }),
    // US SHAKEN CP 1.4 §6.1.5: a CA issuing under CP 1.4 may sign with ECDSA P-384 / SHA-384.
    positive: async () => asLeaf(await leafCertificate({ signatureHash: "SHA-384" }), { profile: "us-cp" }),
  },
  e_atis_signature_algorithm_ca: {
    negative: (issued) => asIntermediate(intermediateAuthority({ signatureHash: "SHA-384" }, { notBefore: issued }), { profile: "atis" }),
    positive: () => asIntermediate(intermediateAuthority({ signatureHash: "SHA-384" }), { profile: "us-cp" }),
  },
  e_atis_subject_public_key: { negative: async (issued) => asLeaf(await leafCertificate({}, { notBefore: issued, keyType: "P-384" })) },
  e_atis_subject_public_key_ca: {
    negative: (issued) => asIntermediate(intermediateAuthority({}, { notBefore: issued, keyType: "P-384" }), { profile: "atis" }),
    positive: () => asRoot(rootAuthority({}, { keyType: "P-384" }), { profile: "us-cp" }),
  },
  e_atis_leaf_self_issued: { negative: async (issued) => asLeaf(await selfIssuedLeaf({ notBefore: issued })) },
  // Linted as a root, a CA that another CA issued (no policy, CRL DP or AKI, "ROOT" in its name: nothing else is wrong with it as a root).
  e_issuer_root: {
    negative: (issued) =>
      asRoot(
        intermediateAuthority(
          { omitExtensions: [OID.certificatePolicies, OID.authorityKeyIdentifier, asn1X509.id_ce_cRLDistributionPoints] },
          { notBefore: issued, subject: [{ C: ["US"] }, { O: ["Lint CA"] }, { CN: ["Lint SHAKEN ROOT CA 2"] }] },
        ),
      ),
  },
  e_atis_subject_dn: { negative: async (issued) => asLeaf(await leafCertificate({ subject: leafName(`SHAKEN ${SPC}`, { CN: [`SHAKEN ${SPC}`] }) }, { notBefore: issued })) },
  e_atis_subject_dn_ca: { negative: (issued) => asIntermediate(intermediateAuthority({}, { notBefore: issued, subject: [...INTERMEDIATE_NAME, { CN: ["Lint SHAKEN Intermediate CA 2"] }] })) },
  e_atis_subject_o_required: { negative: async (issued) => asLeaf(await leafCertificate({ subject: [{ C: ["US"] }, { CN: [`SHAKEN ${SPC}`] }] }, { notBefore: issued })) },
  e_atis_subject_o_required_ca: { negative: (issued) => asIntermediate(intermediateAuthority({}, { notBefore: issued, subject: [{ C: ["US"] }, { CN: ["Lint SHAKEN Intermediate CA"] }] })) },
  // A lower-case code also breaks CP 1.4's C=US: the ATIS rule is judged alone, in the atis profile.
  e_atis_subject_c_iso: { negative: async (issued) => asLeaf(await leafCertificate({ subject: [{ C: ["us"] }, { O: ["Lint SP"] }, { CN: [`SHAKEN ${SPC}`] }] }, { notBefore: issued }), { profile: "atis" }) },
  e_atis_subject_c_iso_ca: {
    negative: (issued) => asIntermediate(intermediateAuthority({}, { notBefore: issued, subject: [{ C: ["USA"] }, { O: ["Lint CA"] }, { CN: ["Lint SHAKEN Intermediate CA"] }] }), { profile: "atis" }),
  },
  e_atis_subject_c_us: { negative: async (issued) => asLeaf(await leafCertificate({ subject: [{ C: ["CA"] }, { O: ["Lint SP"] }, { CN: [`SHAKEN ${SPC}`] }] }, { notBefore: issued })) },
  e_atis_subject_c_us_ca: { negative: (issued) => asIntermediate(intermediateAuthority({}, { notBefore: issued, subject: [{ C: ["CA"] }, { O: ["Lint CA"] }, { CN: ["Lint SHAKEN Intermediate CA"] }] })) },
  // Before v004 (2022-01-16 for leaves) only "SHAKEN" is asked of a leaf's CN, not "SHAKEN <SPC>".
  e_atis_subject_cn: { issued: BEFORE_V004_LEAVES, negative: async (issued) => asLeaf(await leafCertificate({ subject: leafName(`Lint ${SPC}`) }, { notBefore: issued })) },
  e_atis_subject_cn_ca: { negative: (issued) => asIntermediate(intermediateAuthority({}, { notBefore: issued, subject: [{ C: ["US"] }, { O: ["Lint CA"] }, { CN: ["Lint Intermediate CA"] }] })) },
  e_atis_subject_cn_root: { negative: (issued) => asRoot(rootAuthority({}, { notBefore: issued, subject: [{ C: ["US"] }, { O: ["Lint CA"] }, { CN: ["Lint SHAKEN Trust Anchor"] }] })) },
  e_atis_subject_cn_spc: {
    negative: async (issued) => asLeaf(await leafCertificate({ subject: leafName("SHAKEN 709J") }, { notBefore: issued })),
    // ATIS-1000080 gives "SHAKEN <SPC>" as the form, not the whole CN: real CNs wrap it.
    positive: async () => asLeaf(await leafCertificate({ subject: leafName(`UniVoIP SHAKEN ${SPC} 1752652441523`) })),
  },
  e_atis_issuer_dn: {
    negative: async (issued) => asLeaf(await leafCertificate({}, { notBefore: issued, issuer: await intermediateAuthority({}, { subject: [{ O: ["Lint CA"] }, { CN: ["Lint SHAKEN Intermediate CA"] }] }) })),
  },
  e_us_cp_subject_sn_shall: {
    negative: async (issued) => asLeaf(await leafCertificate({}, { notBefore: issued, policy: SHAKEN_POLICY_OIDS.cp13 })),
    positive: async () => asLeaf(await leafCertificate({ subject: leafName(`SHAKEN ${SPC}`, { "2.5.4.5": ["1752652441523"] }) }, { policy: SHAKEN_POLICY_OIDS.cp13 })),
  },
  w_shaken_subject_rdn_unknown: {
    negative: async (issued) => asLeaf(await leafCertificate({ subject: leafName(`SHAKEN ${SPC}`, { OU: ["VoIP"] }) }, { notBefore: issued })),
    positive: async () => asLeaf(await leafCertificate({ subject: leafName(`SHAKEN ${SPC}`, { L: ["Philadelphia"] }, { ST: ["Pennsylvania"] }) })),
  },
  w_shaken_ca_subject_rdn_unknown: { negative: (issued) => asIntermediate(intermediateAuthority({}, { notBefore: issued, subject: [...INTERMEDIATE_NAME.slice(0, 2), { OU: ["PKI"] }, ...INTERMEDIATE_NAME.slice(2)] })) },
  w_cp_1_3_subject_email: { negative: async (issued) => asLeaf(await leafCertificate({ subject: leafName(`SHAKEN ${SPC}`, { E: ["stir-shaken@lint.test"] }) }, { notBefore: issued })) },
  e_atis_ext_basic_constraints: { negative: async (issued) => asLeaf(await leafCertificate({ critical: { [OID.basicConstraints]: false } }, { notBefore: issued })) },
  e_atis_ext_basic_constraints_ca_boolean: { negative: async (issued) => asLeaf(await leafCertificate({ basicConstraintsCa: true }, { notBefore: issued })) },
  e_atis_ext_key_usage: { negative: async (issued) => asLeaf(await leafCertificate({ keyUsageNotCritical: true }, { notBefore: issued })) },
  e_atis_ext_key_usage_ee: { negative: async (issued) => asLeaf(await leafCertificate({ extensions: [keyUsage(KeyUsageFlags.digitalSignature | KeyUsageFlags.keyEncipherment)] }, { notBefore: issued })) },
  e_atis_ext_key_usage_ca: {
    negative: (issued) => asIntermediate(intermediateAuthority({ extensions: [keyUsage(KeyUsageFlags.digitalSignature)] }, { notBefore: issued })),
    positive: () => asIntermediate(intermediateAuthority({ extensions: [keyUsage(KeyUsageFlags.keyCertSign | KeyUsageFlags.digitalSignature)] }, { policy: SHAKEN_POLICY_OIDS.cp13 })),
  },
  // Under CP 1.3 a CA may hold cRLSign as far as ATIS-1000080 goes.
  e_us_cp_ca_key_usage_crl_sign: {
    negative: (issued) => asIntermediate(intermediateAuthority({ extensions: [keyUsage(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign)] }, { notBefore: issued, policy: SHAKEN_POLICY_OIDS.cp13 })),
  },
  // 03 02 00 80: digitalSignature with 0 unused bits declared where DER declares 7 (a real TransNexus encoding).
  e_incorrect_ku_encoding: {
    negative: async (issued) => asLeaf(await leafCertificate({ extensions: [new Extension(OID.keyUsage, true, new Uint8Array([0x03, 0x02, 0x00, 0x80]))] }, { notBefore: issued })),
  },
  e_atis_ext_not_specified: { negative: async (issued) => asLeaf(await leafCertificate({ extensions: [new ExtendedKeyUsageExtension(["1.3.6.1.5.5.7.3.2"])] }, { notBefore: issued })) },
  e_atis_ext_not_specified_ca: { negative: (issued) => asIntermediate(intermediateAuthority({ extensions: [new ExtendedKeyUsageExtension(["1.3.6.1.5.5.7.3.1"])] }, { notBefore: issued })) },
  e_atis_subject_key_identifier: { negative: async (issued) => asLeaf(await leafCertificate({ omitExtensions: [OID.subjectKeyIdentifier] }, { notBefore: issued })) },
  e_atis_subject_key_identifier_ca: { negative: (issued) => asIntermediate(intermediateAuthority({ critical: { [OID.subjectKeyIdentifier]: true } }, { notBefore: issued })) },
  e_atis_subject_key_identifier_size: { negative: async (issued) => asLeaf(await leafCertificate({ extensions: [new SubjectKeyIdentifierExtension("0102030405060708")] }, { notBefore: issued })) },
  e_atis_subject_key_identifier_size_ca: { negative: (issued) => asIntermediate(intermediateAuthority({ subjectKeyIdentifier: "0102030405060708" }, { notBefore: issued })) },
  e_atis_ext_authority_key_identifier: { negative: async (issued) => asLeaf(await leafCertificate({ omitExtensions: [OID.authorityKeyIdentifier] }, { notBefore: issued })) },
  e_atis_ext_authority_key_identifier_ca: { negative: (issued) => asIntermediate(intermediateAuthority({ omitExtensions: [OID.authorityKeyIdentifier] }, { notBefore: issued })) },
  e_atis_ext_authority_key_identifier_root: {
    negative: (issued) => asRoot(rootAuthority({ extensions: [new AuthorityKeyIdentifierExtension("0102030405060708090a0b0c0d0e0f1011121314")] }, { notBefore: issued })),
  },
  e_ext_authority_key_identifier_no_key_identifier: {
    negative: async (issued) => {
      const issuer = await conformingIntermediateAuthority();
      const byNameAndSerial = await AuthorityKeyIdentifierExtension.create({ name: new GeneralNames([{ type: "dn", value: issuer.certificate.subject }]), serialNumber: issuer.certificate.serialNumber });
      return asLeaf(await leafCertificate({ extensions: [byNameAndSerial] }, { notBefore: issued }));
    },
  },
  e_atis_ext_certificate_policies: { negative: async (issued) => asLeaf(await leafCertificate({ critical: { [OID.certificatePolicies]: true } }, { notBefore: issued })) },
  e_atis_ext_certificate_policies_ca: { negative: (issued) => asIntermediate(intermediateAuthority({ critical: { [OID.certificatePolicies]: true } }, { notBefore: issued })) },
  e_atis_ext_certificate_policies_root: { negative: (issued) => asRoot(rootAuthority({ extensions: [new CertificatePolicyExtension([SHAKEN_POLICY_OIDS.cp14])] }, { notBefore: issued })) },
  e_shaken_certificate_policies_id: { negative: async (issued) => asLeaf(await leafCertificate({ extensions: [new CertificatePolicyExtension([CANADIAN_POLICY])] }, { notBefore: issued })) },
  e_shaken_certificate_policies_id_ca: { negative: (issued) => asIntermediate(intermediateAuthority({ extensions: [new CertificatePolicyExtension([CANADIAN_POLICY])] }, { notBefore: issued })) },
  e_atis_ext_crl_distribution: { negative: async (issued) => asLeaf(await leafCertificate({ extensions: [crlDistributionPoints({ ...STI_PA_CRL, url: "ldap://crl.lint.test/sti-pa" })] }, { notBefore: issued })) },
  e_atis_ext_crl_distribution_ca: { negative: (issued) => asIntermediate(intermediateAuthority({ omitExtensions: [asn1X509.id_ce_cRLDistributionPoints] }, { notBefore: issued })) },
  e_atis_ext_crl_distribution_struct: { negative: async (issued) => asLeaf(await leafCertificate({ extensions: [crlDistributionPoints({ ...STI_PA_CRL, crlIssuer: null })] }, { notBefore: issued })) },
  e_atis_ext_crl_distribution_struct_ca: { negative: (issued) => asIntermediate(intermediateAuthority({ extensions: [crlDistributionPoints({ ...STI_PA_CRL, crlIssuer: null })] }, { notBefore: issued })) },
  e_atis_ext_crl_distribution_root: { negative: (issued) => asRoot(rootAuthority({ extensions: [crlDistributionPoints(STI_PA_CRL)] }, { notBefore: issued })) },
  e_atis_tn_auth_list: { negative: async (issued) => asLeaf(await leafCertificate({ critical: { [OID.tnAuthList]: true } }, { notBefore: issued })) },
  e_atis_tn_auth_list_spc_format: { negative: async (issued) => asLeaf(await leafCertificate({ tnAuthList: [{ spc: "818h" }], subject: leafName("SHAKEN 818h") }, { notBefore: issued })) },
  e_atis_tn_auth_list_ca: { negative: (issued) => asIntermediate(intermediateAuthority({ extensions: [tnAuthListExtension([{ spc: SPC }])] }, { notBefore: issued })) },
  e_atis_path_issuer_constraints: { negative: (issued) => leafUnderIntermediate({ notCa: true }, issued), positive: () => leafWithIssuer() },
  e_atis_path_issuer_key_usage: { negative: (issued) => leafUnderIntermediate({ extensions: [keyUsage(KeyUsageFlags.digitalSignature)] }, issued), positive: () => leafWithIssuer() },
  // The issuer named by the leaf, re-keyed: same subject, another key.
  e_atis_path_authority_key_identifier: {
    negative: async (issued) => ({ ...(await leafWithIssuer({}, issued)), issuer: (await intermediateAuthority()).certificate }),
    positive: () => leafWithIssuer(),
  },
  e_atis_path_crl_distribution_point: {
    negative: (issued) => leafWithIssuer({ extensions: [crlDistributionPoints({ ...STI_PA_CRL, url: "https://crl.lint.test/other.crl" })] }, issued),
    positive: () => leafWithIssuer(),
  },
};

const conforming: Record<CertificateRole, () => Promise<Linted>> = {
  leaf: async () => asLeaf(await leafCertificate()),
  intermediate: () => asIntermediate(conformingIntermediateAuthority()),
  root: () => asRoot(rootAuthority()),
};

const ruleOf = (id: string) => LINT_RULES.find((rule) => rule.id === id)!;
const lint = ({ certificate, role, issuer, profile }: Linted, defaultProfile: LintProfile = "us-cp") => lintCertificateReport(certificate, { role, issuer, profile: profile ?? defaultProfile });
const ids = (findings: { rule: string }[]) => findings.map((finding) => finding.rule);

describe("the conforming root, intermediate and leaf", () => {
  for (const role of ["leaf", "intermediate", "root"] as const) {
    for (const profile of ["atis", "us-cp"] as const) {
      it(`${role}: no finding in the ${profile} profile`, async () => {
        const report = lint(await conforming[role](), profile);
        expect(report.findings).toEqual([]);
        expect(report.notEffective).toEqual([]);
      });
    }
  }

  it("the leaf with its issuer known: the path rules hold", async () => {
    expect(lint(await leafWithIssuer()).findings).toEqual([]);
  });
});

describe("every rule has a fixture that violates it alone, and one it accepts", () => {
  it("covers every rule of the registry", () => {
    expect(Object.keys(FIXTURES).sort()).toEqual(LINT_RULES.map((rule) => rule.id).sort());
  });

  for (const rule of LINT_RULES) {
    describe(rule.id, () => {
      const fixture = FIXTURES[rule.id];
      if (!fixture) return;
      it(`fails ${rule.roles.join("/")} certificates with ${rule.id} alone`, async () => {
        const linted = await fixture.negative(fixture.issued ?? ISSUED);
        expect(rule.roles).toContain(linted.role);
        expect(ids(lint(linted, rule.profile).findings)).toEqual([rule.id]);
      });

      it("accepts the positive fixture", async () => {
        const linted = await (fixture.positive ?? conforming[rule.roles[0]!])();
        expect(ids(lint(linted, rule.profile).findings)).not.toContain(rule.id);
      });
    });
  }
});

describe("effective dates: a rule binds certificates issued from its date, earlier ones see it as NE", () => {
  for (const rule of LINT_RULES.filter((candidate) => candidate.effective !== null)) {
    it(`${rule.id}: ${rule.effective!.toISOString().slice(0, 10)}`, async () => {
      const effective = rule.effective!;
      const before = lint(await FIXTURES[rule.id]!.negative(new Date(effective.getTime() - DAY_MS)), rule.profile);
      expect(ids(before.findings)).not.toContain(rule.id);
      expect(ids(before.notEffective)).toContain(rule.id);
      const on = lint(await FIXTURES[rule.id]!.negative(effective), rule.profile);
      expect(ids(on.findings)).toContain(rule.id);
      expect(ids(on.notEffective)).not.toContain(rule.id);
    });
  }

  it("RFC 5280 rules bind every certificate, whatever its date", async () => {
    const ancient = new Date("2019-01-01T00:00:00Z");
    expect(ids(lint(await FIXTURES.e_incorrect_ku_encoding!.negative(ancient)).findings)).toEqual(["e_incorrect_ku_encoding"]);
  });
});

describe("profiles", () => {
  it("atis leaves out the US CP rules; us-cp adds them", async () => {
    const leaf = await leafCertificate({ subject: leafName(`SHAKEN ${SPC}`, { OU: ["VoIP"] }) }, { policy: SHAKEN_POLICY_OIDS.cp13 });
    expect(ids(lintCertificate(leaf, { role: "leaf", profile: "atis" }))).toEqual([]);
    expect(ids(lintCertificate(leaf, { role: "leaf", profile: "us-cp" }))).toEqual(["e_us_cp_subject_sn_shall", "w_shaken_subject_rdn_unknown"]);
  });

  it("lintCertificate, as the verifier calls it (role only), is the atis profile without path rules", async () => {
    const leaf = await leafCertificate({ subject: leafName(`SHAKEN ${SPC}`, { OU: ["VoIP"] }), extensions: [crlDistributionPoints({ ...STI_PA_CRL, url: "https://crl.lint.test/other.crl" })] });
    expect(lintCertificate(leaf, { role: "leaf" })).toEqual([]);
  });

  it("a P-384 root is allowed from CP 1.4 on in us-cp, never in atis", async () => {
    const cp14 = new Date("2023-06-06T00:00:00Z");
    const root = (await rootAuthority({ signatureHash: "SHA-384" }, { keyType: "P-384", notBefore: cp14 })).certificate;
    expect(ids(lintCertificate(root, { role: "root", profile: "us-cp" }))).toEqual([]);
    expect(ids(lintCertificate(root, { role: "root", profile: "atis" }))).toEqual(["e_atis_signature_algorithm_ca", "e_atis_subject_public_key_ca"]);
    const earlier = (await rootAuthority({ signatureHash: "SHA-384" }, { keyType: "P-384", notBefore: new Date(cp14.getTime() - DAY_MS) })).certificate;
    expect(ids(lintCertificate(earlier, { role: "root", profile: "us-cp" }))).toEqual(["e_atis_signature_algorithm_ca", "e_atis_subject_public_key_ca"]);
  });

  it("a CA asserting CP 1.4 has keyCertSign alone (v005); under CP 1.3 it may add cRLSign (v003), which us-cp refuses", async () => {
    const crlSigning = { extensions: [keyUsage(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign)] };
    const cp14 = (await intermediateAuthority(crlSigning)).certificate;
    expect(ids(lintCertificate(cp14, { role: "intermediate" }))).toEqual(["e_atis_ext_key_usage_ca"]);
    const cp13 = (await intermediateAuthority(crlSigning, { policy: SHAKEN_POLICY_OIDS.cp13 })).certificate;
    expect(ids(lintCertificate(cp13, { role: "intermediate" }))).toEqual([]);
    expect(ids(lintCertificate(cp13, { role: "intermediate", profile: "us-cp" }))).toEqual(["e_us_cp_ca_key_usage_crl_sign"]);
  });

  it("a P-384 leaf key is never allowed: it signs PASSporTs with ES256", async () => {
    const leaf = await leafCertificate({}, { keyType: "P-384" });
    expect(ids(lintCertificate(leaf, { role: "leaf", profile: "us-cp" }))).toEqual(["e_atis_subject_public_key"]);
  });
});

describe("roles", () => {
  it("runs each rule only in its roles", async () => {
    const root = (await rootAuthority()).certificate;
    const asLeafReport = lintCertificateReport(root, { role: "leaf", profile: "us-cp" });
    for (const finding of [...asLeafReport.findings, ...asLeafReport.notEffective]) expect(ruleOf(finding.rule).roles).toContain("leaf");
    expect(ids(asLeafReport.findings)).toEqual(expect.arrayContaining(["e_atis_leaf_self_issued", "e_atis_ext_basic_constraints_ca_boolean", "e_atis_tn_auth_list"]));
  });

  it("names its source and effective date on every rule, and every rule id once", () => {
    expect(new Set(LINT_RULES.map((rule) => rule.id)).size).toBe(LINT_RULES.length);
    for (const rule of LINT_RULES) {
      expect(rule.id).toMatch(rule.severity === "error" ? /^e_[a-z0-9_]+$/ : /^w_[a-z0-9_]+$/);
      expect(rule.source).toMatch(/^(ATIS-1000080 v00[345]|US SHAKEN CP v1\.[134]|RFC 5280) §/);
      expect(rule.effective === null).toBe(rule.source.startsWith("RFC"));
    }
  });
});

describe("the README's rule table", () => {
  /** One row per rule: id, role, severity, profile, source, effective date, what holds. */
  const row = (rule: (typeof LINT_RULES)[number]) =>
    `| \`${rule.id}\` | ${rule.roles.length === 3 ? "all" : rule.roles.join(", ")} | ${rule.severity} | ${rule.profile} | ${rule.source} | ${rule.effective?.toISOString().slice(0, 10) ?? "always"} | ${rule.description} |`;

  it("lists every rule as the registry defines it, and no other", () => {
    const readme = readFileSync(join(import.meta.dirname, "../../../README.md"), "utf8");
    const listed = readme.split("\n").filter((line) => /^\| `[ew]_[a-z0-9_]+` \|/.test(line));
    expect(listed).toEqual(LINT_RULES.map(row));
  });
});

describe("a malformed certificate never throws", () => {
  it("reports the rule that cannot read it as its finding", async () => {
    const leaf = await leafCertificate({ extensions: [new Extension(OID.keyUsage, true, new Uint8Array([0x04, 0x00]))] });
    const findings = lintCertificate(leaf, { role: "leaf" });
    expect(findings).toContainEqual(expect.objectContaining({ rule: "e_atis_ext_key_usage_ee", message: expect.stringMatching(/could not be evaluated/) }));
  });

});

beforeAll(async () => {
  // Issue the shared conforming CA before the first test measures anything.
  await conformingIntermediateAuthority();
});
