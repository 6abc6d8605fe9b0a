import "../lib/reflect-metadata";
import { CertificatePolicyExtension, type JsonName, KeyUsageFlags, SubjectKeyIdentifierExtension, type X509Certificate, X509CertificateGenerator } from "@peculiar/x509";
import type { TnAuthListEntry } from "../certificate/tnauthlist";
import { tnAuthListExtension } from "./csr";
import { applySigningDeviations, deviateExtensions, serialNumberFor, signingAlgorithmFor, type CertificateDeviations } from "./deviations";
import { KeyMismatchError } from "./errors";
import { basicConstraints, keyIdentifierExtensions, keyUsage, unprocessableCriticalExtension } from "./extensions";
import { certificateMatchesPrivateKey, generateKeyPair, importPrivateKeyPem } from "./keys";
import { DEFAULT_SHAKEN_POLICY_OID, SHAKEN_SIGNING_ALGORITHM, type ShakenPolicyOid } from "./profile";
import { readCertificatesPem } from "./pem";
import { randomSerialNumber } from "./serial";

/** A CA certificate with the private key that signs under it. */
export interface SigningAuthority {
  certificate: X509Certificate;
  privateKey: CryptoKey;
}

export interface DevelopmentCa {
  root: SigningAuthority;
  intermediate: SigningAuthority;
}

export interface DevelopmentCaOptions {
  /** Organization (O) of both CA certificates; also prefixes their CNs. */
  organization: string;
  country: string;
  notBefore: Date;
  notAfter: Date;
  /** The SHAKEN policy the intermediate issues under. */
  policy?: ShakenPolicyOid;
  /**
   * A TNAuthList on the intermediate, bounding the numbers it may delegate (RFC 9060, ATIS-1000092's
   * delegation CA). None by default: the ATIS-1000080 CA profile has none.
   */
  intermediateTnAuthList?: TnAuthListEntry[];
}

const caName = (options: DevelopmentCaOptions, commonName: string): JsonName => [
  { C: [options.country] },
  { O: [options.organization] },
  { CN: [`${options.organization} ${commonName}`] },
];

/**
 * A two-level development STI-CA per the ATIS-1000080 v005 CA profile (§6.4.2): critical
 * BasicConstraints CA=TRUE, critical KeyUsage keyCertSign (+ cRLSign: the intermediate signs the
 * development CRL), SKI/AKI; the root carries no CertificatePolicies, CRL DP or TNAuthList and its
 * CN contains "ROOT".
 */
export async function createDevelopmentCa(options: DevelopmentCaOptions): Promise<DevelopmentCa> {
  const caKeyUsage = keyUsage(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign);
  const rootKeys = await generateKeyPair();
  const rootName = caName(options, "SHAKEN ROOT CA");
  const rootCertificate = await X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: rootName,
    issuer: rootName,
    notBefore: options.notBefore,
    notAfter: options.notAfter,
    publicKey: rootKeys.publicKey,
    signingKey: rootKeys.privateKey,
    signingAlgorithm: SHAKEN_SIGNING_ALGORITHM,
    extensions: [basicConstraints(true), caKeyUsage, ...(await keyIdentifierExtensions(rootKeys.publicKey))],
  });
  const intermediateKeys = await generateKeyPair();
  const intermediateCertificate = await X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: caName(options, "SHAKEN Intermediate CA"),
    issuer: rootCertificate.subjectName,
    notBefore: options.notBefore,
    notAfter: options.notAfter,
    publicKey: intermediateKeys.publicKey,
    signingKey: rootKeys.privateKey,
    signingAlgorithm: SHAKEN_SIGNING_ALGORITHM,
    extensions: [
      basicConstraints(true, 0),
      caKeyUsage,
      ...(await keyIdentifierExtensions(intermediateKeys.publicKey, rootCertificate)),
      new CertificatePolicyExtension([options.policy ?? DEFAULT_SHAKEN_POLICY_OID]),
      ...(options.intermediateTnAuthList ? [tnAuthListExtension(options.intermediateTnAuthList)] : []),
    ],
  });
  return {
    root: { certificate: rootCertificate, privateKey: rootKeys.privateKey },
    intermediate: { certificate: intermediateCertificate, privateKey: intermediateKeys.privateKey },
  };
}

/** Loads a CA from PEM, refusing a key that does not belong to the certificate. */
export async function loadSigningAuthority(certificatePem: string, privateKeyPem: string): Promise<SigningAuthority> {
  const [certificate] = readCertificatesPem(certificatePem);
  if (!certificate) throw new KeyMismatchError("no CA certificate to match the key against");
  const privateKey = await importPrivateKeyPem(privateKeyPem);
  if (!(await certificateMatchesPrivateKey(certificate, privateKey))) {
    throw new KeyMismatchError(`the CA key does not match the CA certificate ${certificate.subject}`);
  }
  return { certificate, privateKey };
}

/**
 * Departures from the CA profile, each named: the CA certificates a path validator must refuse (or,
 * for `omitKeyUsage`, accept), built with the same code path as the good ones.
 */
export interface CaDeviations extends CertificateDeviations {
  /** BasicConstraints cA=FALSE: a certificate that is no CA's, used as an issuer. */
  notCa?: boolean;
  /** No BasicConstraints at all: RFC 5280 §6.1.4(k) makes it no CA either. */
  omitBasicConstraints?: boolean;
  /** KeyUsage digitalSignature only: no keyCertSign. */
  withoutKeyCertSign?: boolean;
  /** No KeyUsage at all, as some real STI-CA roots (RFC 5280 §6.1.4(n) accepts it). */
  omitKeyUsage?: boolean;
  /** This SubjectKeyIdentifier (hex) instead of the key's own: a forgery copying a real CA's. */
  subjectKeyIdentifier?: string;
  /** An extension with this OID that no verifier processes, marked critical (RFC 5280 §4.2). */
  unprocessableCriticalExtension?: string;
}

export interface CaCertificateOptions {
  /** The authority that signs it; none for a self-signed root. */
  issuer?: SigningAuthority;
  subject: JsonName;
  /** The CA's keys: pass an existing CA's to re-issue it under the same key with another validity. */
  keys: CryptoKeyPair;
  notBefore: Date;
  notAfter: Date;
  /** BasicConstraints pathLenConstraint; unconstrained when omitted. */
  pathLength?: number;
  /** The SHAKEN policy an intermediate issues under; roots carry none (ATIS-1000080 v005 §6.4.2). */
  policy?: ShakenPolicyOid;
  deviations?: CaDeviations;
}

/** One STI-CA certificate, root or intermediate, per the ATIS-1000080 v005 CA profile unless a deviation is asked for. */
export async function issueCaCertificate(options: CaCertificateOptions): Promise<SigningAuthority> {
  const deviations = options.deviations ?? {};
  const issuerCertificate = options.issuer?.certificate;
  const [ownKeyIdentifier, ...authorityKeyIdentifier] = await keyIdentifierExtensions(options.keys.publicKey, issuerCertificate);
  const usages = deviations.withoutKeyCertSign ? KeyUsageFlags.digitalSignature : KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign;
  const signingKey = options.issuer?.privateKey ?? options.keys.privateKey;
  const certificate = await X509CertificateGenerator.create({
    serialNumber: serialNumberFor(deviations),
    subject: options.subject,
    issuer: issuerCertificate?.subjectName ?? options.subject,
    notBefore: options.notBefore,
    notAfter: options.notAfter,
    publicKey: options.keys.publicKey,
    signingKey,
    signingAlgorithm: signingAlgorithmFor(deviations),
    extensions: deviateExtensions([
      ...(deviations.omitBasicConstraints ? [] : [basicConstraints(!deviations.notCa, options.pathLength)]),
      ...(deviations.omitKeyUsage ? [] : [keyUsage(usages)]),
      deviations.subjectKeyIdentifier ? new SubjectKeyIdentifierExtension(deviations.subjectKeyIdentifier) : ownKeyIdentifier!,
      ...authorityKeyIdentifier,
      ...(options.policy ? [new CertificatePolicyExtension([options.policy])] : []),
      ...(deviations.unprocessableCriticalExtension ? [unprocessableCriticalExtension(deviations.unprocessableCriticalExtension)] : []),
    ], deviations),
  });
  return { certificate: await applySigningDeviations(certificate, signingKey, deviations), privateKey: options.keys.privateKey };
}
