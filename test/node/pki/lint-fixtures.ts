import "reflect-metadata";
import { KeyUsageFlags, type Extension, type JsonName, type X509Certificate } from "@peculiar/x509";
import {
  crlDistributionPoints,
  generateKeyPair,
  issueCaCertificate,
  issueShakenCertificate,
  keyUsage,
  SHAKEN_POLICY_OIDS,
  type CaDeviations,
  type KeyType,
  type ProfileDeviations,
  type ShakenPolicyOid,
  type SigningAuthority,
} from "../../../src/pki";

/**
 * Certificates for the lint rules, built with the project's own issuing code: a root, an intermediate
 * and a leaf that conform to ATIS-1000080 v005 and US SHAKEN CP 1.4 (so that neither profile finds
 * anything), and the same with one named deviation each.
 */
export const ISSUED = new Date("2025-01-01T00:00:00Z");
const NOT_AFTER = new Date("2035-01-01T00:00:00Z");
export const SPC = "818H";
export const STI_PA_CRL = { url: "https://authenticate-api.iconectiv.com/download/v1/crl", crlIssuer: "C=US, O=STI-PA, CN=STI-PA CRL" };

export const ROOT_NAME: JsonName = [{ C: ["US"] }, { O: ["Lint CA"] }, { CN: ["Lint SHAKEN ROOT CA"] }];
export const INTERMEDIATE_NAME: JsonName = [{ C: ["US"] }, { O: ["Lint CA"] }, { CN: ["Lint SHAKEN Intermediate CA"] }];
export const leafName = (commonName = `SHAKEN ${SPC}`, ...more: JsonName): JsonName => [{ C: ["US"] }, { O: ["Lint SP"] }, { CN: [commonName] }, ...more];

/** v005 §6.4.1: a CA's KeyUsage is keyCertSign alone (issueCaCertificate adds cRLSign, for the development CA that signs its CRL). */
const CA_KEY_USAGE = keyUsage(KeyUsageFlags.keyCertSign);

/** The caller's deviations over the profile's extensions: the caller's win. */
function caDeviations(profile: Extension[], deviations: CaDeviations = {}): CaDeviations {
  const own = deviations.extensions ?? [];
  return { ...deviations, extensions: [...own, ...profile.filter((extension) => !own.some((mine) => mine.type === extension.type))] };
}

export interface CaFixtureOptions {
  notBefore?: Date;
  subject?: JsonName;
  keyType?: KeyType;
  policy?: ShakenPolicyOid;
  /** Issued by this authority instead of the conforming root. */
  issuer?: SigningAuthority;
}

export async function rootAuthority(deviations?: CaDeviations, options: CaFixtureOptions = {}): Promise<SigningAuthority> {
  return issueCaCertificate({
    subject: options.subject ?? ROOT_NAME,
    keys: await generateKeyPair(options.keyType),
    notBefore: options.notBefore ?? ISSUED,
    notAfter: NOT_AFTER,
    deviations: caDeviations([CA_KEY_USAGE], deviations),
  });
}

let conformingRoot: Promise<SigningAuthority> | undefined;
let conformingIntermediate: Promise<SigningAuthority> | undefined;

export async function intermediateAuthority(deviations?: CaDeviations, options: CaFixtureOptions = {}): Promise<SigningAuthority> {
  conformingRoot ??= rootAuthority();
  return issueCaCertificate({
    issuer: options.issuer ?? (await conformingRoot),
    subject: options.subject ?? INTERMEDIATE_NAME,
    keys: await generateKeyPair(options.keyType),
    notBefore: options.notBefore ?? ISSUED,
    notAfter: NOT_AFTER,
    pathLength: 0,
    policy: options.policy ?? SHAKEN_POLICY_OIDS.cp14,
    deviations: caDeviations([CA_KEY_USAGE, crlDistributionPoints(STI_PA_CRL)], deviations),
  });
}

/** The conforming intermediate, issued once: the issuer of every leaf that names no other. */
export const conformingIntermediateAuthority = (): Promise<SigningAuthority> => (conformingIntermediate ??= intermediateAuthority());

export interface LeafFixtureOptions {
  notBefore?: Date;
  notAfter?: Date;
  keyType?: KeyType;
  policy?: ShakenPolicyOid;
  issuer?: SigningAuthority;
  /** Its own keys, to issue it again under the same key. */
  keys?: CryptoKeyPair;
}

export async function leafCertificate(deviations: ProfileDeviations = {}, options: LeafFixtureOptions = {}): Promise<X509Certificate> {
  const keys = options.keys ?? (await generateKeyPair(options.keyType));
  return issueShakenCertificate({
    issuer: options.issuer ?? (await conformingIntermediateAuthority()),
    subjectPublicKey: keys.publicKey,
    spc: SPC,
    organization: "Lint SP",
    country: "US",
    notBefore: options.notBefore ?? ISSUED,
    notAfter: options.notAfter ?? NOT_AFTER,
    crlDistributionPoint: STI_PA_CRL,
    policy: options.policy ?? SHAKEN_POLICY_OIDS.cp14,
    deviations,
  });
}

/** An end-entity certificate whose issuer is itself: issued under a first copy of itself, same name and key. */
export async function selfIssuedLeaf(options: LeafFixtureOptions = {}): Promise<X509Certificate> {
  const keys = await generateKeyPair();
  const first = await leafCertificate({}, { ...options, keys });
  return leafCertificate({}, { ...options, keys, issuer: { certificate: first, privateKey: keys.privateKey } });
}
