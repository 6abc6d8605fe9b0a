import "reflect-metadata";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Extension, X509Certificate } from "@peculiar/x509";
import { describe, expect, it } from "vitest";
import { authorisationOf, encodeBareServiceProviderCode, encodeTnAuthList, entryNaming, readTnAuthList, TN_AUTH_LIST_OID, TnAuthListEntryError } from "../../../src/certificate/tnauthlist";
import { createDevelopmentCa, generateKeyPair, issueShakenCertificate, type ProfileDeviations } from "../../../src/pki";
import { haveRealworld, REALWORLD } from "../realworld/realworld";

const CERTIFICATES = join(REALWORLD, "certificates");
const hex = (buffer: ArrayBuffer) => Buffer.from(buffer).toString("hex");
const realworldCertificates = haveRealworld
  ? ["leaf", "ca"].flatMap((dir) => readdirSync(join(CERTIFICATES, dir)).map((name) => ({ name, certificate: new X509Certificate(readFileSync(join(CERTIFICATES, dir, name))) })))
  : [];

async function certificateWith(deviations: ProfileDeviations) {
  const ca = await createDevelopmentCa({ organization: "T", country: "KZ", notBefore: new Date("2025-01-01"), notAfter: new Date("2030-01-01") });
  const keys = await generateKeyPair();
  return issueShakenCertificate({
    issuer: ca.intermediate,
    subjectPublicKey: keys.publicKey,
    spc: "818H",
    organization: "T",
    country: "KZ",
    notBefore: new Date("2025-01-01"),
    notAfter: new Date("2026-01-01"),
    crlDistributionPoint: { url: "http://crl.test/i.crl", crlIssuer: ca.intermediate.certificate.subject },
    deviations,
  });
}

describe("encodeTnAuthList (RFC 8226 §9)", () => {
  it("encodes SPC 818H as the RFC's DER, byte for byte", () => {
    expect(hex(encodeTnAuthList([{ spc: "818H" }]))).toBe("3008a006160438313848");
  });

  it("encodes ranges and TNs with their [1] and [2] tags", () => {
    expect(hex(encodeTnAuthList([{ range: { start: "1234", count: 10 } }, { tn: "77" }]))).toBe("3013a10b300916043132333402010aa20416023737");
  });

  it("encodes the non-RFC bare forms for fixtures: IA5String (tag 22) and PrintableString (tag 19)", () => {
    expect(hex(encodeBareServiceProviderCode("818H", "ia5"))).toBe("160438313848");
    expect(hex(encodeBareServiceProviderCode("818H", "printable"))).toBe("130438313848");
  });

  it("refuses an entry that is not exactly one CHOICE alternative", () => {
    expect(() => encodeTnAuthList([{ spc: "818H", tn: "77" }])).toThrow(TnAuthListEntryError);
  });
});

describe("readTnAuthList", () => {
  it("reads back SPCs, ranges and TNs", async () => {
    const certificate = await certificateWith({ tnAuthList: [{ spc: "818H" }, { range: { start: "7727250", count: 100 } }, { tn: "77272501234" }] });
    expect(readTnAuthList(certificate)).toEqual({ form: "rfc8226", spcs: ["818H"], ranges: [{ start: "7727250", count: 100 }], tns: ["77272501234"] });
  });

  it.each([
    ["ia5", "bare-ia5string"],
    ["printable", "bare-printablestring"],
  ] as const)("reads a bare %s SPC as the non-RFC form %s", async (type, form) => {
    const certificate = await certificateWith({ bareTnAuthList: { spc: "818H", type } });
    expect(readTnAuthList(certificate)).toMatchObject({ form, spcs: ["818H"] });
  });

  it.skipIf(!haveRealworld)("gives every real-world certificate a definite reading without throwing", () => {
    const forms = new Set(["rfc8226", "bare-ia5string", "bare-printablestring", "sequence-of-printablestring", "absent", "unparseable"]);
    for (const { name, certificate } of realworldCertificates) {
      const reading = readTnAuthList(certificate);
      expect(forms.has(reading.form), name).toBe(true);
    }
  });

  it.skipIf(!haveRealworld)("classifies the Telonium SEQUENCE { PrintableString } leaves as non-RFC, with their SPC", () => {
    for (const [name, spc] of [["leaf_39_telonium_sti_ca_intermed_622k_printablestring_5b034b20.pem", "622K"], ["leaf_40_telonium_sti_ca_intermed_755j_printablestring_08f4adc9.pem", "755J"]] as const) {
      const reading = readTnAuthList(realworldCertificates.find((item) => item.name === name)!.certificate);
      expect(reading).toMatchObject({ form: "sequence-of-printablestring", spcs: [spc] });
    }
  });

  it.skipIf(!haveRealworld)("reports the 1RouteGroup leaf whose IA5String lost its length byte as unparseable", () => {
    const reading = readTnAuthList(realworldCertificates.find((item) => item.name.startsWith("leaf_05_"))!.certificate);
    expect(reading.form).toBe("unparseable");
  });

  it.skipIf(!haveRealworld)("reads an RFC-conforming real leaf and reports absent on the TLS certificate", () => {
    expect(readTnAuthList(realworldCertificates.find((item) => item.name.startsWith("leaf_52_"))!.certificate)).toMatchObject({ form: "rfc8226", spcs: ["8826"] });
    expect(readTnAuthList(realworldCertificates.find((item) => item.name.startsWith("leaf_09_"))!.certificate)).toEqual({ form: "absent" });
  });

  it.skipIf(!haveRealworld)("counts the real-world forms", () => {
    const counts: Record<string, number> = {};
    for (const { certificate } of realworldCertificates) {
      const form = readTnAuthList(certificate).form;
      counts[form] = (counts[form] ?? 0) + 1;
    }
    expect(counts).toEqual({ rfc8226: 45, absent: 63, "sequence-of-printablestring": 3, unparseable: 2 });
  });

  it.skipIf(!haveRealworld)("finds a valid SPC in every readable real-world TNAuthList, so the no-valid-SPC-no-number rule refuses none of them", () => {
    const scopes: Record<string, number> = {};
    for (const { certificate } of realworldCertificates) {
      const reading = readTnAuthList(certificate);
      if (!("spcs" in reading)) continue;
      const { scope } = authorisationOf(reading);
      scopes[scope] = (scopes[scope] ?? 0) + 1;
    }
    expect(scopes).toEqual({ "service-provider": 48 });
  });
});

/** A certificate's extensions holding only a TNAuthList whose extension value is `der` (hex). */
const withTnAuthList = (der: string) => ({ extensions: [new Extension(TN_AUTH_LIST_OID, false, Buffer.from(der, "hex"))] });

describe("readTnAuthList, on encodings built byte by byte", () => {
  it("reads SEQUENCE { PrintableString } (no [0] tag, no IA5String) as the non-RFC form, with its SPC", () => {
    expect(readTnAuthList(withTnAuthList("3006130431323334"))).toMatchObject({ form: "sequence-of-printablestring", spcs: ["1234"] });
  });

  it.each([
    ["an empty SEQUENCE", "3000"],
    ["an entry that is no TNEntry alternative ([3])", "3005a303160141"],
    ["an SPC beside an entry that is no TNEntry alternative", "300ba00416023132a303160141"],
  ])("reports %s as unparseable, not as an RFC 8226 list", (_, der) => {
    expect(readTnAuthList(withTnAuthList(der)).form).toBe("unparseable");
  });

  it("reports a certificate without the extension as absent, and extensions it cannot read as unparseable", () => {
    expect(readTnAuthList({ extensions: [] })).toEqual({ form: "absent" });
    const unreadable = {
      get extensions(): Extension[] {
        throw new Error("bad DER");
      },
    };
    expect(readTnAuthList(unreadable)).toEqual({ form: "unparseable", error: "extensions unreadable: bad DER" });
  });
});

describe("what a TNAuthList authorises", () => {
  const rfc8226 = (fields: { spcs?: string[]; tns?: string[]; ranges?: { start: string; count: number }[] }) => ({ form: "rfc8226" as const, spcs: [], tns: [], ranges: [], ...fields });

  it("a valid SPC, before any number beside it; numbers alone; else nothing, naming the invalid codes", () => {
    expect(authorisationOf(rfc8226({ spcs: ["http://x", "818H"], tns: ["77272501234"] }))).toEqual({ scope: "service-provider", spc: "818H" });
    expect(authorisationOf(rfc8226({ spcs: ["http://x"], tns: ["77272501234"] }))).toEqual({ scope: "numbers", tns: ["77272501234"], ranges: [] });
    expect(authorisationOf(rfc8226({ ranges: [{ start: "7727250", count: 10 }] }))).toEqual({ scope: "numbers", tns: [], ranges: [{ start: "7727250", count: 10 }] });
    expect(authorisationOf(rfc8226({ spcs: ["http://x"] }))).toEqual({ scope: "nothing", invalidSpcs: ["http://x"] });
    expect(authorisationOf({ form: "bare-ia5string", spcs: ["https://cr.example/spc"], note: "" })).toEqual({ scope: "nothing", invalidSpcs: ["https://cr.example/spc"] });
  });

  it("names the entry that holds a number: one number, or a range of count numbers as long as its start", () => {
    const numbers = { scope: "numbers" as const, tns: ["77272509999"], ranges: [{ start: "77272500000", count: 100 }] };
    expect(entryNaming(numbers, "77272509999")).toEqual({ tn: "77272509999" });
    expect(entryNaming(numbers, "77272500000")).toEqual({ range: { start: "77272500000", count: 100 } });
    expect(entryNaming(numbers, "77272500099")).toEqual({ range: { start: "77272500000", count: 100 } });
    for (const outside of ["77272500100", "77272499999", "077272500000", "7727250000", "7727250005x", "77272509998"]) expect(entryNaming(numbers, outside), outside).toBeNull();
  });

  it("holds nothing in a range whose start is not digits", () => {
    expect(entryNaming({ scope: "numbers", tns: [], ranges: [{ start: "7727250000x", count: 100 }] }, "77272500001")).toBeNull();
  });
});
