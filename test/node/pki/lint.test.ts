import "reflect-metadata";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { X509Certificate, X509CertificateGenerator } from "@peculiar/x509";
import { describe, expect, it } from "vitest";
import { inferCertificateRole, lintCertificate } from "../../../src/certificate/lint";
import { generateKeyPair } from "../../../src/pki";
import { haveRealworld, REALWORLD } from "../realworld/realworld";

const CERTIFICATES = join(REALWORLD, "certificates");
const realworld = haveRealworld ? ["leaf", "ca"].flatMap((dir) => readdirSync(join(CERTIFICATES, dir)).map((name) => ({ name, certificate: new X509Certificate(readFileSync(join(CERTIFICATES, dir, name))) }))) : [];
const named = (prefix: string) => realworld.find((item) => item.name.startsWith(prefix))!.certificate;
const rules = (certificate: X509Certificate) => lintCertificate(certificate, { role: inferCertificateRole(certificate) }).map((finding) => finding.rule);

describe.skipIf(!haveRealworld)("lintCertificate over real-world certificates", () => {
  it("never throws, in any role, and every finding is well-formed", () => {
    for (const { name, certificate } of realworld) {
      for (const role of ["leaf", "intermediate", "root"] as const) {
        const findings = lintCertificate(certificate, { role });
        for (const finding of findings) {
          expect(finding.rule, name).toMatch(/^[ew]_atis_[a-z0-9_]+$/);
          expect(finding.source, name).toMatch(/^(ATIS-1000080|RFC)/);
          expect(finding.message, name).not.toMatch(/could not be evaluated/);
        }
      }
    }
  });

  it("reports the non-RFC TNAuthList encoding as its own finding", () => {
    expect(rules(named("leaf_39_telonium"))).toContain("e_atis_tnauthlist_not_rfc8226_encoding");
    expect(rules(named("leaf_05_"))).toContain("e_atis_tnauthlist_unparseable");
  });

  it("flags the X.509 v1 certificate and the TLS certificate served as an STI certificate", () => {
    expect(rules(named("leaf_02_"))).toEqual(expect.arrayContaining(["e_atis_cert_version_not_v3", "e_atis_tnauthlist_missing"]));
    expect(rules(named("leaf_09_"))).toEqual(expect.arrayContaining(["e_atis_public_key_not_p256", "e_atis_signature_algorithm_not_ecdsa_sha256", "e_atis_tnauthlist_missing"]));
  });

  it("infers roles: self-issued CAs are roots", () => {
    expect(inferCertificateRole(named("root_comcast"))).toBe("root");
    expect(inferCertificateRole(named("int_comcast"))).toBe("intermediate");
    expect(inferCertificateRole(named("leaf_52_"))).toBe("leaf");
  });
});

describe("lintCertificate: serial length, validity order, self-issued leaves", () => {
  /** A self-signed P-256 certificate with the serial and dates given, linted in `role`. */
  async function crafted(options: { serialNumber: string; notBefore: string; notAfter: string }, role: "leaf" | "root" = "leaf") {
    const keys = await generateKeyPair();
    const certificate = await X509CertificateGenerator.createSelfSigned({
      ...options,
      notBefore: new Date(options.notBefore),
      notAfter: new Date(options.notAfter),
      name: "CN=SHAKEN 818H, O=Lint, C=KZ",
      keys,
      signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
    });
    return lintCertificate(certificate, { role });
  }
  const dates = { notBefore: "2026-01-01T00:00:00Z", notAfter: "2027-01-01T00:00:00Z" };
  const ruleIds = (findings: { rule: string }[]) => findings.map((finding) => finding.rule);

  it("warns, without failing, on a serial of 48 to 63 bits: 64 random bits come out that short often enough", async () => {
    const findings = await crafted({ serialNumber: "3fffffffffffffff", ...dates });
    expect(findings).toContainEqual(expect.objectContaining({ rule: "w_atis_serial_number_may_be_short", severity: "warning", message: expect.stringContaining("62 bits") }));
    expect(ruleIds(findings)).not.toContain("e_atis_serial_number_too_short");
    expect(ruleIds(await crafted({ serialNumber: "01ffffffffffffffff", ...dates }))).not.toContain("w_atis_serial_number_may_be_short");
  });

  it("fails a serial under 48 bits", async () => {
    const findings = await crafted({ serialNumber: "7fffffffffff", ...dates });
    expect(findings).toContainEqual(expect.objectContaining({ rule: "e_atis_serial_number_too_short", message: expect.stringContaining("47 bits") }));
    expect(ruleIds(findings)).not.toContain("w_atis_serial_number_may_be_short");
  });

  it("fails a certificate whose notBefore is after its notAfter, in any role", async () => {
    for (const role of ["leaf", "root"] as const) {
      const findings = await crafted({ serialNumber: "01ffffffffffffffff", notBefore: "2023-06-27T12:00:00Z", notAfter: "2023-06-26T12:00:00Z" }, role);
      expect(findings).toContainEqual(expect.objectContaining({ rule: "e_atis_validity_inverted", source: "RFC 5280 §4.1.2.5" }));
    }
    expect(ruleIds(await crafted({ serialNumber: "01ffffffffffffffff", ...dates }))).not.toContain("e_atis_validity_inverted");
  });

  it("fails an end-entity certificate that issued itself, and only as a leaf", async () => {
    expect(ruleIds(await crafted({ serialNumber: "01ffffffffffffffff", ...dates }))).toContain("e_atis_leaf_self_issued");
    expect(ruleIds(await crafted({ serialNumber: "01ffffffffffffffff", ...dates }, "root"))).not.toContain("e_atis_leaf_self_issued");
  });
});
