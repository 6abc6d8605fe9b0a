import "reflect-metadata";
import { AsnConvert } from "@peculiar/asn1-schema";
import * as asn1X509 from "@peculiar/asn1-x509";
import { Extension, Name, type X509Certificate } from "@peculiar/x509";
import { describe, expect, it } from "vitest";
import { lintCertificate, type CertificateRole, type LintFinding } from "../../../src/certificate/lint";
import {
  conformingIntermediateAuthority,
  intermediateAuthority,
  leafCertificate,
  rootAuthority,
  STI_PA_CRL,
} from "./lint-fixtures";

/**
 * The path rules (src/certificate/lint/rules/path.ts), which judge a certificate with its issuer: the
 * issuer is a CA (BasicConstraints present, CA=TRUE) whose pathLenConstraint allows an intermediate
 * below it; the leaf names the CRL its issuer names, from the day ATIS-1000080 v004 was published
 * (an issuer issued before it is not held to the one STI-PA CRL). A CRL distribution point may name
 * its CRL in any of the forms RFC 5280 §4.2.1.13 allows: the rule reads them, it never fails on them.
 */

const ATIS_V004_PUBLISHED = new Date("2021-10-18T00:00:00Z");

function pathFindings(certificate: X509Certificate, issuer: X509Certificate, rule: string, role: CertificateRole = "leaf"): LintFinding[] {
  return lintCertificate(certificate, { role, profile: "atis", issuer }).filter((finding) => finding.rule === rule);
}
const messages = (findings: LintFinding[]) => findings.map((finding) => finding.message);

/** A CRLDistributionPoints extension holding this one point. */
const crlDistributionPointsOf = (point: asn1X509.DistributionPoint) =>
  new Extension(asn1X509.id_ce_cRLDistributionPoints, false, AsnConvert.serialize(new asn1X509.CRLDistributionPoints([point])));

const uri = (url: string) => new asn1X509.GeneralName({ uniformResourceIdentifier: url });
const directoryName = (name: string) => new asn1X509.GeneralName({ directoryName: AsnConvert.parse(new Name(name).toArrayBuffer(), asn1X509.Name) });

/** A leaf of the conforming intermediate with this CRL distribution point, and that intermediate. */
async function leafNaming(point: asn1X509.DistributionPoint): Promise<{ leaf: X509Certificate; issuer: X509Certificate }> {
  const issuer = await conformingIntermediateAuthority();
  return { leaf: await leafCertificate({ extensions: [crlDistributionPointsOf(point)] }, { issuer }), issuer: issuer.certificate };
}

describe("e_atis_path_issuer_constraints", () => {
  it("says an issuer without BasicConstraints is not a CA", async () => {
    const issuer = await intermediateAuthority({ omitBasicConstraints: true });
    const leaf = await leafCertificate({}, { issuer });
    expect(messages(pathFindings(leaf, issuer.certificate, "e_atis_path_issuer_constraints"))).toEqual([
      `issuer ${issuer.certificate.subject} is not a CA (BasicConstraints CA=TRUE missing), cannot issue certificates`,
    ]);
  });

  it("refuses an intermediate issued by a CA with pathLenConstraint 0", async () => {
    const issuer = await conformingIntermediateAuthority();
    const { certificate } = await intermediateAuthority({}, { issuer, subject: [{ C: ["US"] }, { O: ["Lint CA"] }, { CN: ["Lint SHAKEN Sub CA"] }] });
    expect(messages(pathFindings(certificate, issuer.certificate, "e_atis_path_issuer_constraints", "intermediate"))).toEqual([
      `issuer ${issuer.certificate.subject} has pathLenConstraint 0, cannot issue a CA certificate`,
    ]);
  });

  it("accepts a leaf under a CA with pathLenConstraint 0, and an intermediate under a root without one", async () => {
    const intermediate = await conformingIntermediateAuthority();
    expect(pathFindings(await leafCertificate({}, { issuer: intermediate }), intermediate.certificate, "e_atis_path_issuer_constraints")).toEqual([]);
    const root = await rootAuthority();
    const { certificate } = await intermediateAuthority({}, { issuer: root });
    expect(pathFindings(certificate, root.certificate, "e_atis_path_issuer_constraints", "intermediate")).toEqual([]);
  });
});

describe("e_atis_path_crl_distribution_point: the forms a distribution point may take", () => {
  it("compares the URLs alone when the leaf's cRLIssuer names no directoryName", async () => {
    const { leaf, issuer } = await leafNaming(new asn1X509.DistributionPoint({
      distributionPoint: new asn1X509.DistributionPointName({ fullName: [uri(STI_PA_CRL.url)] }),
      cRLIssuer: [uri("https://sti-pa.example/")],
    }));
    expect(pathFindings(leaf, issuer, "e_atis_path_crl_distribution_point")).toEqual([]);
  });

  it("still compares the cRLIssuer names when both give one", async () => {
    const { leaf, issuer } = await leafNaming(new asn1X509.DistributionPoint({
      distributionPoint: new asn1X509.DistributionPointName({ fullName: [uri(STI_PA_CRL.url)] }),
      cRLIssuer: [directoryName("C=US, O=Other PA, CN=Other CRL")],
    }));
    expect(messages(pathFindings(leaf, issuer, "e_atis_path_crl_distribution_point"))).toEqual([
      `CRL distribution point names cRLIssuer C=US, O=Other PA, CN=Other CRL, the issuer's names ${STI_PA_CRL.crlIssuer}`,
    ]);
  });

  it("finds no URL in a name relative to the CRL issuer, and says the leaf does not name the issuer's URL", async () => {
    const relative = AsnConvert.parse(new Name("CN=STI-PA CRL").toArrayBuffer(), asn1X509.Name)[0]!;
    const { leaf, issuer } = await leafNaming(new asn1X509.DistributionPoint({
      distributionPoint: new asn1X509.DistributionPointName({ nameRelativeToCRLIssuer: relative }),
      cRLIssuer: [directoryName(STI_PA_CRL.crlIssuer)],
    }));
    const findings = messages(pathFindings(leaf, issuer, "e_atis_path_crl_distribution_point"));
    expect(findings).toHaveLength(1);
    expect(findings[0]).toBe(`CRL distribution point (no URL) is not the issuer's ${STI_PA_CRL.url}`);
  });

  it("finds no URL in a point that names only its cRLIssuer, and says the leaf does not name the issuer's URL", async () => {
    const { leaf, issuer } = await leafNaming(new asn1X509.DistributionPoint({ cRLIssuer: [directoryName(STI_PA_CRL.crlIssuer)] }));
    const findings = messages(pathFindings(leaf, issuer, "e_atis_path_crl_distribution_point"));
    expect(findings).toHaveLength(1);
    expect(findings[0]).toBe(`CRL distribution point (no URL) is not the issuer's ${STI_PA_CRL.url}`);
  });
});

describe("e_atis_path_crl_distribution_point: from ATIS-1000080 v004 on", () => {
  async function leafWithOtherCrlUnder(issuerIssued: Date) {
    const issuer = await intermediateAuthority({}, { notBefore: issuerIssued });
    const leaf = await leafCertificate({ extensions: [crlDistributionPointsOf(new asn1X509.DistributionPoint({
      distributionPoint: new asn1X509.DistributionPointName({ fullName: [uri("https://crl.lint.test/other.crl")] }),
      cRLIssuer: [directoryName(STI_PA_CRL.crlIssuer)],
    }))] }, { issuer });
    return pathFindings(leaf, issuer.certificate, "e_atis_path_crl_distribution_point");
  }

  it("holds a leaf to its issuer's CRL when the issuer was issued the day v004 was published", async () => {
    expect(messages(await leafWithOtherCrlUnder(ATIS_V004_PUBLISHED))).toEqual([`CRL distribution point https://crl.lint.test/other.crl is not the issuer's ${STI_PA_CRL.url}`]);
  });

  it("does not when the issuer was issued the second before", async () => {
    expect(await leafWithOtherCrlUnder(new Date(ATIS_V004_PUBLISHED.getTime() - 1000))).toEqual([]);
  });
});
