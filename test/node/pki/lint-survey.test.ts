import "reflect-metadata";
import * as asn1X509 from "@peculiar/asn1-x509";
import { describe, expect, it } from "vitest";
import { surveyCertificates } from "../../../src/certificate/lint/survey";
import { intermediateAuthority, leafCertificate, leafName, rootAuthority, SPC } from "./lint-fixtures";

/**
 * A survey of certificates (src/certificate/lint/survey.ts): each is linted with its issuer when the
 * set holds one (by name, preferring the key its AuthorityKeyIdentifier names; a self-issued
 * certificate has none), and the tally lists every rule some certificate violates, counting those
 * that predate the rule (NE) as well as those held to it.
 */

describe("finding each certificate's issuer", () => {
  it("gives a self-issued root no issuer, even beside another root of the same name", async () => {
    const first = (await rootAuthority()).certificate;
    const second = (await rootAuthority()).certificate;
    expect(first.subject).toBe(second.subject);
    const survey = surveyCertificates([first, second], { profile: "atis" });
    expect(survey.certificates.map(({ issuer }) => issuer)).toEqual([null, null]);
  });

  it("without an AuthorityKeyIdentifier, takes the first certificate of its issuer's name, not one that lacks a key identifier too", async () => {
    const issuer = await intermediateAuthority();
    const sameNameWithoutSki = (await intermediateAuthority({ omitExtensions: [asn1X509.id_ce_subjectKeyIdentifier] })).certificate;
    expect(sameNameWithoutSki.subject).toBe(issuer.certificate.subject);
    const leaf = await leafCertificate({ omitExtensions: [asn1X509.id_ce_authorityKeyIdentifier] }, { issuer });
    const survey = surveyCertificates([leaf], { profile: "atis", issuers: [issuer.certificate, sameNameWithoutSki] });
    expect(survey.certificates[0]!.issuer).toBe(issuer.certificate);
  });

  it("with an AuthorityKeyIdentifier, prefers the certificate of that key among those of the name", async () => {
    const other = (await intermediateAuthority()).certificate;
    const issuer = await intermediateAuthority();
    const leaf = await leafCertificate({}, { issuer });
    const survey = surveyCertificates([leaf], { profile: "atis", issuers: [other, issuer.certificate] });
    expect(survey.certificates[0]!.issuer).toBe(issuer.certificate);
  });
});

describe("the tally per rule", () => {
  it("lists a rule that only certificates predating it violate, with their count as NE", async () => {
    // US SHAKEN CP 1.4 binds leaves from 2023-09-04 (2023-06-06 plus 90 days): this one was issued before.
    const leaf = await leafCertificate({ subject: [{ C: ["CA"] }, { O: ["Lint SP"] }, { CN: [`SHAKEN ${SPC}`] }] }, { notBefore: new Date("2023-09-01T00:00:00Z") });
    const survey = surveyCertificates([leaf], { profile: "us-cp" });
    expect(survey.certificates[0]!.report.findings).toEqual([]);
    expect(survey.rules).toEqual([{ rule: "e_atis_subject_c_us", severity: "error", certificates: 0, notEffective: 1 }]);
  });

  it("counts certificates held to a rule and those predating it apart", async () => {
    const name = leafName(`SHAKEN ${SPC}`, { "2.5.4.11": ["VoIP"] });
    const held = await leafCertificate({ subject: name });
    const predating = await leafCertificate({ subject: name }, { notBefore: new Date("2020-04-06T00:00:00Z") });
    const survey = surveyCertificates([held, predating], { profile: "us-cp" });
    expect(survey.rules.find((tally) => tally.rule === "w_shaken_subject_rdn_unknown")).toEqual({ rule: "w_shaken_subject_rdn_unknown", severity: "warning", certificates: 1, notEffective: 1 });
  });
});
