import "../lib/reflect-metadata";
import { Extension, type JsonName, Pkcs10CertificateRequest, Pkcs10CertificateRequestGenerator } from "@peculiar/x509";
import { encodeTnAuthList, readTnAuthList, TN_AUTH_LIST_OID } from "../certificate/tnauthlist";
import { CertificateRequestError } from "./errors";
import { assertServiceProviderCode, SHAKEN_SIGNING_ALGORITHM, shakenCommonName } from "./profile";

export interface ShakenSubject {
  spc: string;
  organization: string;
  country: string;
}

/** The v005 end-entity subject: C, O and CN "SHAKEN <SPC>" (ATIS-1000080 v005 §6.4.1). */
export const shakenSubjectName = (subject: ShakenSubject): JsonName => [
  { C: [subject.country] },
  { O: [subject.organization] },
  { CN: [shakenCommonName(subject.spc)] },
];

/** TNAuthList with the one SPC the profile allows; non-critical (RFC 8226 §9). */
export function tnAuthListExtension(entries: Parameters<typeof encodeTnAuthList>[0]): Extension {
  return new Extension(TN_AUTH_LIST_OID, false, encodeTnAuthList(entries));
}

/** A PKCS#10 request for a SHAKEN certificate: the TNAuthList is requested as an extension (RFC 2986 extensionRequest). */
export async function createShakenCsr(keys: CryptoKeyPair, subject: ShakenSubject): Promise<Pkcs10CertificateRequest> {
  assertServiceProviderCode(subject.spc);
  return Pkcs10CertificateRequestGenerator.create({
    name: shakenSubjectName(subject),
    keys,
    signingAlgorithm: SHAKEN_SIGNING_ALGORITHM,
    extensions: [tnAuthListExtension([{ spc: subject.spc }])],
  });
}

/** What a CA takes from a request: the verified public key and the one SPC, O and C it asks for. */
export interface ShakenCsrRequest extends ShakenSubject {
  publicKey: CryptoKey;
}

const firstAttribute = (csr: Pkcs10CertificateRequest, type: string): string | undefined => csr.subjectName.getField(type)[0];

/** Verifies the request's self-signature and extracts the SHAKEN subject it asks for. */
export async function readShakenCsr(csr: Pkcs10CertificateRequest): Promise<ShakenCsrRequest> {
  if (!(await csr.verify())) throw new CertificateRequestError("the request's signature does not verify (proof of possession failed)");
  const reading = readTnAuthList(csr);
  if (reading.form !== "rfc8226" || reading.spcs.length !== 1 || reading.ranges.length > 0 || reading.tns.length > 0) {
    throw new CertificateRequestError("the request must ask for a TNAuthList with exactly one SPC (RFC 8226, ATIS-1000080 v005 §6.4.1)");
  }
  const spc = reading.spcs[0] ?? "";
  assertServiceProviderCode(spc);
  const organization = firstAttribute(csr, "O");
  const country = firstAttribute(csr, "C");
  if (!organization || !country) throw new CertificateRequestError("the request's subject needs O and C (ATIS-1000080 v005 §6.4.1)");
  return { spc, organization, country, publicKey: await csr.publicKey.export() };
}
