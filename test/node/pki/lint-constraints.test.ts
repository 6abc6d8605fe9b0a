/**
 * The constraint rules (src/certificate/lint/rules/constraints.ts) as they report: KeyUsage named by
 * its bits in the messages, the CA KeyUsage allowance of v003/v004 (CP 1.3), and the DER rules of
 * the KeyUsage BIT STRING (X.690 §11.2.2) with the encoding quoted octet by octet.
 */
import "reflect-metadata";
import * as asn1X509 from "@peculiar/asn1-x509";
import { Extension, KeyUsageFlags } from "@peculiar/x509";
import { describe, expect, it } from "vitest";
import { lintCertificate, type LintFinding } from "../../../src/certificate/lint";
import { keyUsage, SHAKEN_POLICY_OIDS } from "../../../src/pki";
import { intermediateAuthority, leafCertificate } from "./lint-fixtures";

const summary = (findings: LintFinding[]) => findings.map(({ rule, message }) => ({ rule, message }));

/** A leaf whose KeyUsage extension holds these DER octets (the BIT STRING, tag and length included). */
const leafWithKeyUsageDer = (der: number[]) => leafCertificate({ extensions: [new Extension(asn1X509.id_ce_keyUsage, true, new Uint8Array(der))] });

describe("KeyUsage in messages: the named bits the certificate has", () => {
  it("lists each usage of an end-entity KeyUsage by name, in bit order", async () => {
    const leaf = await leafCertificate({ extensions: [keyUsage(KeyUsageFlags.digitalSignature | KeyUsageFlags.keyEncipherment | KeyUsageFlags.keyAgreement)] });
    expect(summary(lintCertificate(leaf, { role: "leaf" }))).toEqual([
      { rule: "e_atis_ext_key_usage_ee", message: "KeyUsage is digitalSignature, keyEncipherment, keyAgreement, must be digitalSignature only" },
    ]);
  });

  it("names a KeyUsage with no bit set 'none'", async () => {
    // 03 01 00: an empty BIT STRING, DER for no usage at all.
    const leaf = await leafWithKeyUsageDer([0x03, 0x01, 0x00]);
    expect(summary(lintCertificate(leaf, { role: "leaf" }))).toEqual([{ rule: "e_atis_ext_key_usage_ee", message: "KeyUsage is none, must be digitalSignature only" }]);
  });
});

describe("e_atis_ext_key_usage_ca", () => {
  it("under CP 1.3 (v003), refuses a CA KeyUsage without keyCertSign even though its usages are all allowed besides it", async () => {
    const intermediate = (await intermediateAuthority({ extensions: [keyUsage(KeyUsageFlags.digitalSignature | KeyUsageFlags.cRLSign)] }, { policy: SHAKEN_POLICY_OIDS.cp13 })).certificate;
    expect(summary(lintCertificate(intermediate, { role: "intermediate" }))).toEqual([
      { rule: "e_atis_ext_key_usage_ca", message: "KeyUsage is digitalSignature, cRLSign, must include keyCertSign and nothing but digitalSignature and cRLSign besides" },
    ]);
  });
});

describe("e_incorrect_ku_encoding", () => {
  it("quotes the octets and the unused bits DER declares: 03 02 00 06, seen in production, declares 0 where DER declares 1", async () => {
    // 0x06 = 0000 0110 (nonRepudiation, keyEncipherment): one trailing zero bit.
    const leaf = await leafWithKeyUsageDer([0x03, 0x02, 0x00, 0x06]);
    expect(lintCertificate(leaf, { role: "leaf" })).toContainEqual(
      expect.objectContaining({ rule: "e_incorrect_ku_encoding", message: "KeyUsage is a BIT STRING with 0 unused bit(s) over 06: DER declares 1 unused bit(s), the trailing zero bits of the last octet" }),
    );
  });

  it("quotes every octet of a two-octet KeyUsage, space-separated", async () => {
    // digitalSignature and decipherOnly (bit 8): 80 80, whose last octet has 7 trailing zero bits.
    const leaf = await leafWithKeyUsageDer([0x03, 0x03, 0x00, 0x80, 0x80]);
    expect(lintCertificate(leaf, { role: "leaf" })).toContainEqual(
      expect.objectContaining({ rule: "e_incorrect_ku_encoding", message: "KeyUsage is a BIT STRING with 0 unused bit(s) over 80 80: DER declares 7 unused bit(s), the trailing zero bits of the last octet" }),
    );
  });

  it("reports a trailing zero octet as such", async () => {
    const leaf = await leafWithKeyUsageDer([0x03, 0x03, 0x00, 0x80, 0x00]);
    expect(summary(lintCertificate(leaf, { role: "leaf" }))).toEqual([{ rule: "e_incorrect_ku_encoding", message: "KeyUsage is a BIT STRING with 0 unused bit(s) over 80 00: DER drops trailing zero octets" }]);
  });

  it("accepts an empty BIT STRING with no unused bits: DER for no usage", async () => {
    const leaf = await leafWithKeyUsageDer([0x03, 0x01, 0x00]);
    expect(lintCertificate(leaf, { role: "leaf" }).map((finding) => finding.rule)).not.toContain("e_incorrect_ku_encoding");
  });

  it("refuses an empty BIT STRING that declares unused bits, saying it has no octets", async () => {
    const leaf = await leafWithKeyUsageDer([0x03, 0x01, 0x05]);
    expect(lintCertificate(leaf, { role: "leaf" })).toContainEqual(
      expect.objectContaining({ rule: "e_incorrect_ku_encoding", message: "KeyUsage is a BIT STRING with 5 unused bit(s) over no octets: DER declares 0 unused bit(s), the trailing zero bits of the last octet" }),
    );
  });
});
