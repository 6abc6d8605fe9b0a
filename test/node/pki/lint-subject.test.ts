import "reflect-metadata";
import { AsnConvert } from "@peculiar/asn1-schema";
import * as asn1X509 from "@peculiar/asn1-x509";
import { AsnEcSignatureFormatter, X509Certificate } from "@peculiar/x509";
import { describe, expect, it } from "vitest";
import { lintCertificate } from "../../../src/certificate/lint";
import type { TnAuthListEntry } from "../../../src/certificate/tnauthlist";
import { SHAKEN_POLICY_OIDS, SHAKEN_SIGNING_ALGORITHM } from "../../../src/pki";
import { conformingIntermediateAuthority, leafCertificate, SPC } from "./lint-fixtures";

/**
 * What the lint rules read from a certificate (src/certificate/lint/subject.ts), seen through the
 * rules that use it: the one SPC of the TNAuthList, or why there is none (no TNAuthList, a non-RFC
 * encoding, not exactly one entry that is an SPC, an empty SPC); the policy OIDs (none without the
 * extension); and the significant bits of a serial number whatever leading zero bytes encode it.
 */

const TN = "12025550100";
const RANGE = { start: "12025550100", count: 10 };

function messages(certificate: X509Certificate, rule: string, profile: "atis" | "us-cp" = "atis"): string[] {
  return lintCertificate(certificate, { role: "leaf", profile })
    .filter((finding) => finding.rule === rule)
    .map((finding) => finding.message);
}

const NOT_ONE_SPC = "the TNAuthList does not hold exactly one entry, an SPC";

describe("the SPC the rules compare against", () => {
  it("is the one SPC of the TNAuthList: the CN and the format rules accept it", async () => {
    const leaf = await leafCertificate();
    expect(messages(leaf, "e_atis_tn_auth_list_spc_format")).toEqual([]);
    expect(messages(leaf, "e_atis_subject_cn_spc")).toEqual([]);
  });

  it("is missing without a TNAuthList, and the rules say so", async () => {
    const leaf = await leafCertificate({ tnAuthList: null });
    expect(messages(leaf, "e_atis_tn_auth_list_spc_format")).toEqual(["the SPC cannot be checked: the certificate has no TNAuthList"]);
    expect(messages(leaf, "e_atis_subject_cn_spc")).toEqual([`subject CN "SHAKEN ${SPC}" cannot be checked against the SPC: the certificate has no TNAuthList`]);
  });

  const notOne: [string, TnAuthListEntry[]][] = [
    ["two SPCs", [{ spc: SPC }, { spc: SPC }]],
    ["an SPC and a TN", [{ spc: SPC }, { tn: TN }]],
    ["an SPC and a range", [{ spc: SPC }, { range: RANGE }]],
    ["a TN alone", [{ tn: TN }]],
  ];
  for (const [what, entries] of notOne) {
    it(`is missing when the TNAuthList holds ${what}: not exactly one entry that is an SPC`, async () => {
      const leaf = await leafCertificate({ tnAuthList: entries });
      expect(messages(leaf, "e_atis_tn_auth_list_spc_format")).toEqual([`the SPC cannot be checked: ${NOT_ONE_SPC}`]);
      expect(messages(leaf, "e_atis_subject_cn_spc")).toEqual([`subject CN "SHAKEN ${SPC}" cannot be checked against the SPC: ${NOT_ONE_SPC}`]);
    });
  }

  it("is missing when the one SPC is empty, which is said as such rather than as a bad format", async () => {
    const leaf = await leafCertificate({ tnAuthList: [{ spc: "" }] });
    expect(messages(leaf, "e_atis_tn_auth_list_spc_format")).toEqual(["the SPC cannot be checked: the TNAuthList's SPC is empty"]);
  });
});

describe("the policies", () => {
  it("are none without a CertificatePolicies extension (e_shaken_certificate_policies_id lists none)", async () => {
    const leaf = await leafCertificate({ omitCertificatePolicies: true });
    expect(messages(leaf, "e_shaken_certificate_policies_id", "us-cp")).toEqual([
      `CertificatePolicies is [], must be exactly one of ${SHAKEN_POLICY_OIDS.cp13}, ${SHAKEN_POLICY_OIDS.cp14}`,
    ]);
  });
});

/** The leaf with its serial number replaced by these INTEGER content bytes, signed again by its issuer. */
async function withSerialBytes(serial: number[]): Promise<X509Certificate> {
  const issuer = await conformingIntermediateAuthority();
  const asn = AsnConvert.parse((await leafCertificate()).rawData, asn1X509.Certificate);
  asn.tbsCertificate.serialNumber = new Uint8Array(serial).buffer;
  const signature = await crypto.subtle.sign(SHAKEN_SIGNING_ALGORITHM, issuer.privateKey, AsnConvert.serialize(asn.tbsCertificate));
  const signingParameters = { ...SHAKEN_SIGNING_ALGORITHM, namedCurve: "P-256" };
  asn.signatureValue = new AsnEcSignatureFormatter().toAsnSignature(signingParameters, signature)!;
  return new X509Certificate(AsnConvert.serialize(asn));
}

describe("the serial number's significant bits", () => {
  it("skip a superfluous leading zero byte (a non-DER INTEGER): 00 7F FF.. is 63 bits, not 64", async () => {
    const leaf = await withSerialBytes([0x00, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    expect(leaf.serialNumber.toLowerCase()).toBe("007fffffffffffffff"); // the leading zero survived re-encoding
    expect(messages(leaf, "w_atis_serial_number_size")).toEqual([
      "serial number has 63 bits: 64 random bits come out this short one time in 2, so it may conform; a CA that prefixes a non-zero byte leaves no doubt",
    ]);
  });

  it("count a DER leading zero byte (before a byte with its top bit set) as no bit: 00 80 00.. is 64 bits", async () => {
    const leaf = await withSerialBytes([0x00, 0x80, 0, 0, 0, 0, 0, 0, 0]);
    expect(messages(leaf, "w_atis_serial_number_size")).toEqual([]);
    expect(messages(leaf, "e_atis_serial_number_size")).toEqual([]);
  });
});
