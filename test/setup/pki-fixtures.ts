import "reflect-metadata";
import type { X509Certificate } from "@peculiar/x509";
import {
  createCrl,
  createDevelopmentCa,
  encodeCrlPem,
  exportPrivateKeyPem,
  generateKeyPair,
  issueShakenCertificate,
  type DevelopmentCa,
  type ProfileDeviations,
} from "../../src/pki";

/** PEM strings (certificates, PKCS#8 keys, a CRL) for the worker tests; plain JSON so globalSetup can provide() it. */
export interface FixturePki {
  root: string;
  rootKeyPkcs8: string;
  intermediate: string;
  intermediateKeyPkcs8: string;
  /** SPC 818H, valid 2025-01-01 .. 2027-01-01. */
  leaf: string;
  leafKeyPkcs8: string;
  /** notAfter 2025-06-01. */
  expiredLeaf: string;
  expiredLeafKeyPkcs8: string;
  /** Listed in `crl`. */
  revokedLeaf: string;
  revokedLeafKeyPkcs8: string;
  /** Signed by the intermediate; revokes `revokedLeaf`. */
  crl: string;
  noTnAuthListLeaf: string;
  noTnAuthListLeafKeyPkcs8: string;
  /** A second CA whose root is not a trust anchor. */
  untrustedRoot: string;
  untrustedLeaf: string;
  untrustedLeafKeyPkcs8: string;
}

export const FIXTURE_SPC = "818H";
const CA_VALIDITY = { notBefore: new Date("2025-01-01T00:00:00Z"), notAfter: new Date("2035-01-01T00:00:00Z") };
const LEAF_VALIDITY = { notBefore: new Date("2025-01-01T00:00:00Z"), notAfter: new Date("2027-01-01T00:00:00Z") };
const REVOCATION_DATE = new Date("2025-01-02T00:00:00Z");

async function issueLeaf(ca: DevelopmentCa, validity = LEAF_VALIDITY, deviations?: ProfileDeviations) {
  const keys = await generateKeyPair();
  const certificate = await issueShakenCertificate({
    issuer: ca.intermediate,
    subjectPublicKey: keys.publicKey,
    spc: FIXTURE_SPC,
    organization: "shaken-edge Test SP",
    country: "KZ",
    ...validity,
    crlDistributionPoint: { url: "http://crl.shaken-edge.test/intermediate.crl", crlIssuer: ca.intermediate.certificate.subject },
    deviations,
  });
  return { certificate, pem: certificate.toString("pem"), keyPkcs8: await exportPrivateKeyPem(keys.privateKey) };
}

const pem = (certificate: X509Certificate): string => certificate.toString("pem");

export async function buildFixturePki(): Promise<FixturePki> {
  const ca = await createDevelopmentCa({ organization: "shaken-edge Test", country: "KZ", ...CA_VALIDITY });
  const untrustedCa = await createDevelopmentCa({ organization: "shaken-edge Untrusted", country: "KZ", ...CA_VALIDITY });
  const [leaf, expiredLeaf, revokedLeaf, noTnAuthListLeaf, untrustedLeaf] = await Promise.all([
    issueLeaf(ca),
    issueLeaf(ca, { notBefore: LEAF_VALIDITY.notBefore, notAfter: new Date("2025-06-01T00:00:00Z") }),
    issueLeaf(ca),
    issueLeaf(ca, LEAF_VALIDITY, { tnAuthList: null }),
    issueLeaf(untrustedCa),
  ]);
  const crl = await createCrl({
    issuer: ca.intermediate,
    revoked: [{ serialNumber: revokedLeaf.certificate.serialNumber, revocationDate: REVOCATION_DATE }],
    thisUpdate: REVOCATION_DATE,
    nextUpdate: CA_VALIDITY.notAfter,
    crlNumber: 1,
  });
  return {
    root: pem(ca.root.certificate),
    rootKeyPkcs8: await exportPrivateKeyPem(ca.root.privateKey),
    intermediate: pem(ca.intermediate.certificate),
    intermediateKeyPkcs8: await exportPrivateKeyPem(ca.intermediate.privateKey),
    leaf: leaf.pem,
    leafKeyPkcs8: leaf.keyPkcs8,
    expiredLeaf: expiredLeaf.pem,
    expiredLeafKeyPkcs8: expiredLeaf.keyPkcs8,
    revokedLeaf: revokedLeaf.pem,
    revokedLeafKeyPkcs8: revokedLeaf.keyPkcs8,
    crl: encodeCrlPem(crl),
    noTnAuthListLeaf: noTnAuthListLeaf.pem,
    noTnAuthListLeafKeyPkcs8: noTnAuthListLeaf.keyPkcs8,
    untrustedRoot: pem(untrustedCa.root.certificate),
    untrustedLeaf: untrustedLeaf.pem,
    untrustedLeafKeyPkcs8: untrustedLeaf.keyPkcs8,
  };
}
