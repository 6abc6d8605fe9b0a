/**
 * The lint engine (src/certificate/lint.ts, lint/registry.ts) beyond the rules: which findings a
 * rule's effective date defers (an RFC's rules have none, whatever the certificate's date), and the
 * role a certificate presents itself in when its BasicConstraints cannot be read.
 */
import "reflect-metadata";
import * as asn1X509 from "@peculiar/asn1-x509";
import { Extension } from "@peculiar/x509";
import { describe, expect, it } from "vitest";
import { inferCertificateRole, lintCertificateReport } from "../../../src/certificate/lint";
import { intermediateAuthority, leafCertificate, rootAuthority } from "./lint-fixtures";

/** 03 02 00 80: digitalSignature declaring 0 unused bits where DER declares 7 (e_incorrect_ku_encoding, an RFC 5280 rule). */
const MISENCODED_KEY_USAGE = new Extension(asn1X509.id_ce_keyUsage, true, new Uint8Array([0x03, 0x02, 0x00, 0x80]));
/** An OCTET STRING where BasicConstraints' SEQUENCE belongs. */
const MALFORMED_BASIC_CONSTRAINTS = new Extension(asn1X509.id_ce_basicConstraints, true, new Uint8Array([0x04, 0x00]));

describe("effective dates", () => {
  it("holds a certificate dated before 1970 to the RFC 5280 rules: they have no effective date to predate", async () => {
    // UTCTime reaches back to 1950; a 1960 notBefore is before the Unix epoch, a negative time.
    const leaf = await leafCertificate({ extensions: [MISENCODED_KEY_USAGE] }, { notBefore: new Date("1960-01-01T00:00:00Z") });
    expect(leaf.notBefore.getTime()).toBeLessThan(0);
    const report = lintCertificateReport(leaf, { role: "leaf" });
    expect(report.findings.map((finding) => finding.rule)).toEqual(["e_incorrect_ku_encoding"]);
    expect(report.notEffective).toEqual([]);
  });
});

describe("inferCertificateRole", () => {
  it("takes a certificate whose BasicConstraints cannot be read for a leaf, even a CA's", async () => {
    const intermediate = (await intermediateAuthority({ extensions: [MALFORMED_BASIC_CONSTRAINTS] })).certificate;
    expect(inferCertificateRole(intermediate)).toBe("leaf");
  });

  it("tells a root from an intermediate and a leaf", async () => {
    expect(inferCertificateRole((await rootAuthority()).certificate)).toBe("root");
    expect(inferCertificateRole((await intermediateAuthority()).certificate)).toBe("intermediate");
    expect(inferCertificateRole(await leafCertificate())).toBe("leaf");
  });
});
