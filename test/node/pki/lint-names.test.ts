import "reflect-metadata";
import type { JsonName, X509Certificate } from "@peculiar/x509";
import { describe, expect, it } from "vitest";
import { lintCertificate, type CertificateRole, type LintProfile } from "../../../src/certificate/lint";
import { intermediateAuthority, leafCertificate, leafName, SPC } from "./lint-fixtures";

/**
 * The subject-name rules (src/certificate/lint/rules/names.ts) as they word their findings: attributes
 * named by their short names (CN, C, O, OU) or, when the rule has none, by OID; counts ("no", 2) and
 * plurals; the list of attributes the US SHAKEN CP vets; and the SPC the CN is compared with.
 */

const TITLE = "2.5.4.12";
const ORGANIZATIONAL_UNIT = "2.5.4.11";

/** The messages of one rule's findings for a certificate. */
function messages(certificate: X509Certificate, rule: string, role: CertificateRole = "leaf", profile: LintProfile = "us-cp"): string[] {
  return lintCertificate(certificate, { role, profile })
    .filter((finding) => finding.rule === rule)
    .map((finding) => finding.message);
}

const leafWithSubject = (subject: JsonName) => leafCertificate({ subject });

describe("e_atis_subject_dn: exactly one C and one CN", () => {
  it("says the subject has no C when it has none", async () => {
    const leaf = await leafWithSubject([{ O: ["Lint SP"] }, { CN: [`SHAKEN ${SPC}`] }]);
    expect(messages(leaf, "e_atis_subject_dn")).toEqual(["subject has no C attribute, must have exactly one"]);
  });

  it("counts two CNs, in the plural", async () => {
    const leaf = await leafWithSubject(leafName(`SHAKEN ${SPC}`, { CN: [`SHAKEN ${SPC}`] }));
    expect(messages(leaf, "e_atis_subject_dn")).toEqual(["subject has 2 CN attributes, must have exactly one"]);
  });

  it("names O by its short name when it is missing (e_atis_subject_o_required)", async () => {
    const leaf = await leafWithSubject([{ C: ["US"] }, { CN: [`SHAKEN ${SPC}`] }]);
    expect(messages(leaf, "e_atis_subject_o_required")).toEqual(["subject has no O attribute, must have exactly one"]);
  });
});

describe("e_atis_subject_c_iso: one ISO 3166-1 alpha-2 C", () => {
  it("without a C, says so instead of judging a code", async () => {
    const leaf = await leafWithSubject([{ O: ["Lint SP"] }, { CN: [`SHAKEN ${SPC}`] }]);
    expect(messages(leaf, "e_atis_subject_c_iso", "leaf", "atis")).toEqual(["subject has no C attribute, must have exactly one"]);
  });

  it("with two valid codes, says there are two instead of accepting the first", async () => {
    const leaf = await leafWithSubject([{ C: ["US"] }, { C: ["US"] }, { O: ["Lint SP"] }, { CN: [`SHAKEN ${SPC}`] }]);
    expect(messages(leaf, "e_atis_subject_c_iso", "leaf", "atis")).toEqual(["subject has 2 C attributes, must have exactly one"]);
  });

  it("accepts one upper-case two-letter code", async () => {
    expect(messages(await leafCertificate(), "e_atis_subject_c_iso", "leaf", "atis")).toEqual([]);
  });
});

describe("e_atis_subject_c_us: a CP 1.4 certificate has one C, US", () => {
  it("refuses C=US twice: one C is asked for, not any number of US", async () => {
    const leaf = await leafWithSubject([{ C: ["US"] }, { C: ["US"] }, { O: ["Lint SP"] }, { CN: [`SHAKEN ${SPC}`] }]);
    expect(messages(leaf, "e_atis_subject_c_us")).toEqual(['certificate asserts CP 1.4 but its subject C is "US, US", must be "US"']);
  });
});

describe("w_shaken_subject_rdn_unknown / w_shaken_ca_subject_rdn_unknown: only the vetted attributes", () => {
  it("names an OU in a leaf and lists the attributes a leaf may use (emailAddress has its own rule)", async () => {
    const leaf = await leafWithSubject(leafName(`SHAKEN ${SPC}`, { [ORGANIZATIONAL_UNIT]: ["VoIP"] }));
    expect(messages(leaf, "w_shaken_subject_rdn_unknown")).toEqual([
      "subject carries OU: only CN, C, O, L, ST, serialNumber should be used; other attributes are ambiguous and not vetted",
    ]);
  });

  it("names an attribute it has no short name for by its OID, once however often it appears", async () => {
    const leaf = await leafWithSubject(leafName(`SHAKEN ${SPC}`, { [TITLE]: ["Engineer"] }, { [TITLE]: ["Manager"] }));
    expect(messages(leaf, "w_shaken_subject_rdn_unknown")).toEqual([
      `subject carries ${TITLE}: only CN, C, O, L, ST, serialNumber should be used; other attributes are ambiguous and not vetted`,
    ]);
  });

  it("does not warn of an emailAddress in a leaf: w_cp_1_3_subject_email does", async () => {
    const leaf = await leafWithSubject(leafName(`SHAKEN ${SPC}`, { "1.2.840.113549.1.9.1": ["noc@sp.example"] }));
    expect(messages(leaf, "w_shaken_subject_rdn_unknown")).toEqual([]);
    expect(messages(leaf, "w_cp_1_3_subject_email")).toEqual(["subject carries emailAddress noc@sp.example, which the CP does not vet"]);
  });

  it("lists for a CA the attributes a CA may use: no serialNumber", async () => {
    const { certificate } = await intermediateAuthority({}, { subject: [{ C: ["US"] }, { O: ["Lint CA"] }, { [ORGANIZATIONAL_UNIT]: ["PKI"] }, { CN: ["Lint SHAKEN Intermediate CA"] }] });
    expect(messages(certificate, "w_shaken_ca_subject_rdn_unknown", "intermediate")).toEqual([
      "subject carries OU: only CN, C, O, L, ST should be used; other attributes are ambiguous and not vetted",
    ]);
  });
});

describe("e_atis_subject_cn_spc: the CN holds SHAKEN <SPC>", () => {
  it("says why it cannot compare when the leaf has no TNAuthList, instead of looking for an undefined SPC", async () => {
    const leaf = await leafCertificate({ tnAuthList: null });
    expect(messages(leaf, "e_atis_subject_cn_spc")).toEqual([`subject CN "SHAKEN ${SPC}" cannot be checked against the SPC: the certificate has no TNAuthList`]);
  });
});
