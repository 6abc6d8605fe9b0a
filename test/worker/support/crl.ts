import { X509Certificate } from "@peculiar/x509";
import { createCrl, createCrlSigner, encodeCrlPem, loadSigningAuthority, type CrlOptions, type RevokedCertificate, type SigningAuthority } from "../../../src/pki";
import { IAT, pki } from "./stir";

/** CRLs and CRL signers built with our own issuing code, around the fixture calls' moment (IAT, 2025-11-28). */
export const DAY_MS = 86_400_000;
export const NOW = new Date(IAT * 1000);
export const CURRENT = { thisUpdate: new Date(NOW.getTime() - DAY_MS), nextUpdate: new Date(NOW.getTime() + DAY_MS) };
/** The name SHAKEN leaves give as cRLIssuer for the STI-PA's indirect CRL. */
export const STIPA_CRL_SIGNER = "C=KZ, O=STI-PA, CN=STI-PA CRL";

export const fixtureIntermediate = () => loadSigningAuthority(pki.intermediate, pki.intermediateKeyPkcs8);
export const intermediateSubject = new X509Certificate(pki.intermediate).subject;

/** A key trusted to sign CRLs only (`trust add --crl-signer`), named `subject`. */
export const crlSigner = (subject = STIPA_CRL_SIGNER) => createCrlSigner({ subject, notBefore: new Date("2025-01-01T00:00:00Z"), notAfter: new Date("2030-01-01T00:00:00Z") });

export const revoke = (serialNumber: string, certificateIssuer?: string): RevokedCertificate => ({ serialNumber, revocationDate: new Date("2025-06-01T00:00:00Z"), certificateIssuer });

export type CrlPemOptions = Partial<Pick<CrlOptions, "thisUpdate" | "nextUpdate" | "crlNumber" | "issuingDistributionPoint" | "extensions">> & { indirect?: boolean };

/** A CRL as PEM: current, #7, unless told otherwise; `indirect` sets the IDP's indirectCRL. */
export async function crlPem(issuer: SigningAuthority, revoked: RevokedCertificate[], options: CrlPemOptions = {}): Promise<string> {
  const { indirect, ...rest } = options;
  return encodeCrlPem(await createCrl({ issuer, revoked, ...CURRENT, crlNumber: 7, ...(indirect ? { issuingDistributionPoint: { indirectCRL: true } } : {}), ...rest }));
}
