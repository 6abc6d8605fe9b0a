import "reflect-metadata";
import { Name } from "@peculiar/x509";
import { describe, expect, it } from "vitest";
import { comparableName } from "../../../src/certificate/distinguished-name";

/** RFC 5280 §7.1: names chain when their RDNs match in order, each RDN's attributes as a set, values as RFC 4518 prepares them. */
const same = (a: string, b: string) => comparableName(new Name(a)) === comparableName(new Name(b));

describe("comparing distinguished names", () => {
  it("ignores the case and insignificant spaces of string values", () => {
    expect(same("C=KZ, O=Acme  Telecom, CN=Root", "C=KZ, O=acme telecom, CN=ROOT")).toBe(true);
  });
  it("takes a multi-valued RDN's attributes as a set, in any order", () => {
    expect(same("C=KZ, CN=Root+O=Acme", "C=KZ, O=Acme+CN=Root")).toBe(true);
  });
  it("tells apart names whose RDNs differ, or come in another order", () => {
    expect(same("C=KZ, O=Acme, CN=Root", "C=KZ, O=Acme, CN=Root 2")).toBe(false);
    expect(same("C=KZ, O=Acme, CN=Root", "C=KZ, CN=Root, O=Acme")).toBe(false);
  });
  it("compares a value that is not a string by its bytes: an OCTET STRING is not the text of its hex", () => {
    expect(same("C=KZ, CN=#0403616263", "C=KZ, CN=#0403616263")).toBe(true);
    expect(same("C=KZ, CN=#0403616263", "C=KZ, CN=0403616263")).toBe(false);
  });
});
