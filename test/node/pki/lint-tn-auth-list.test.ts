import "reflect-metadata";
import type { X509Certificate } from "@peculiar/x509";
import { describe, expect, it } from "vitest";
import { lintCertificate } from "../../../src/certificate/lint";
import type { TnAuthListEntry } from "../../../src/certificate/tnauthlist";
import { leafCertificate, SPC } from "./lint-fixtures";

/**
 * The TNAuthList rules (src/certificate/lint/rules/tn-auth-list.ts) as they word their findings:
 * ATIS-1000080 §6.4.1 asks for an RFC 8226 TNAuthList holding exactly one entry, a non-empty SPC.
 * Every other content (two SPCs, an SPC beside a TN or a range, a TN alone, an empty SPC), a missing
 * extension and the non-RFC encodings are each named as they are.
 */

const TN = "12025550100";
const RANGE = { start: "12025550100", count: 10 };

/** The messages of one rule's findings for a leaf. */
function messages(certificate: X509Certificate, rule: string): string[] {
  return lintCertificate(certificate, { role: "leaf", profile: "atis" })
    .filter((finding) => finding.rule === rule)
    .map((finding) => finding.message);
}

const withTnAuthList = (entries: TnAuthListEntry[]) => leafCertificate({ tnAuthList: entries });

describe("e_atis_tn_auth_list: an RFC 8226 TNAuthList holding exactly one entry, an SPC", () => {
  it("accepts the one SPC", async () => {
    expect(messages(await withTnAuthList([{ spc: SPC }]), "e_atis_tn_auth_list")).toEqual([]);
  });

  it("names the extension by its OID when it is missing", async () => {
    expect(messages(await leafCertificate({ tnAuthList: null }), "e_atis_tn_auth_list")).toEqual(["TNAuthList extension (1.3.6.1.5.5.7.1.26) is missing"]);
  });

  it("quotes the SPC of a bare IA5String beside the note on its encoding", async () => {
    const leaf = await leafCertificate({ bareTnAuthList: { spc: SPC, type: "ia5" } });
    expect(messages(leaf, "e_atis_tn_auth_list")).toEqual([`SPC encoded as a bare IA5String, not a SEQUENCE OF TNEntry (RFC 8226 §9); found SPC "${SPC}"`]);
  });

  it("counts two SPCs", async () => {
    expect(messages(await withTnAuthList([{ spc: SPC }, { spc: "1234" }]), "e_atis_tn_auth_list")).toEqual([
      "TNAuthList holds 2 SPC(s), 0 TN(s) and 0 range(s), must hold exactly one SPC",
    ]);
  });

  it("refuses an SPC beside a TN", async () => {
    expect(messages(await withTnAuthList([{ spc: SPC }, { tn: TN }]), "e_atis_tn_auth_list")).toEqual([
      "TNAuthList holds 1 SPC(s), 1 TN(s) and 0 range(s), must hold exactly one SPC",
    ]);
  });

  it("refuses an SPC beside a range", async () => {
    expect(messages(await withTnAuthList([{ spc: SPC }, { range: RANGE }]), "e_atis_tn_auth_list")).toEqual([
      "TNAuthList holds 1 SPC(s), 0 TN(s) and 1 range(s), must hold exactly one SPC",
    ]);
  });

  it("refuses a TN alone", async () => {
    expect(messages(await withTnAuthList([{ tn: TN }]), "e_atis_tn_auth_list")).toEqual(["TNAuthList holds 0 SPC(s), 1 TN(s) and 0 range(s), must hold exactly one SPC"]);
  });

  it("refuses an empty SPC", async () => {
    expect(messages(await withTnAuthList([{ spc: "" }]), "e_atis_tn_auth_list")).toEqual(["TNAuthList's SPC is empty"]);
  });
});

describe("e_atis_tn_auth_list_spc_format: the SPC is [A-Z0-9]", () => {
  it("says the SPC cannot be checked when the leaf has no TNAuthList", async () => {
    expect(messages(await leafCertificate({ tnAuthList: null }), "e_atis_tn_auth_list_spc_format")).toEqual(["the SPC cannot be checked: the certificate has no TNAuthList"]);
  });

  it("says the SPC cannot be checked when the TNAuthList is not RFC 8226", async () => {
    const leaf = await leafCertificate({ bareTnAuthList: { spc: SPC, type: "ia5" } });
    expect(messages(leaf, "e_atis_tn_auth_list_spc_format")).toEqual(["the SPC cannot be checked: the TNAuthList is not RFC 8226-encoded (bare-ia5string)"]);
  });
});
