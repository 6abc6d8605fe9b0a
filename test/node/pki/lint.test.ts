import "reflect-metadata";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { X509Certificate } from "@peculiar/x509";
import { describe, expect, it } from "vitest";
import { inferCertificateRole, lintCertificate } from "../../../src/certificate/lint";
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
