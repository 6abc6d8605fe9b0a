import type { X509Certificate } from "@peculiar/x509";
import { KeyImportError } from "./errors";
import { encodePem, PEM_TYPES, readPemBlocksOfType } from "./pem";
import { SHAKEN_KEY_ALGORITHM } from "./profile";

/**
 * Key types the library generates. Only P-256 is SHAKEN (ATIS-1000080 v005 §6.4.1); the others exist
 * so that tests can build the certificates a linter must reject.
 */
export type KeyType = "P-256" | "P-384" | "RSA-2048";

// Plain parameter objects: the Workers and DOM libs name these Web Crypto types differently.
const GENERATION_ALGORITHMS: Record<KeyType, { name: string; namedCurve?: string; modulusLength?: number; publicExponent?: Uint8Array; hash?: string }> = {
  "P-256": SHAKEN_KEY_ALGORITHM,
  "P-384": { name: "ECDSA", namedCurve: "P-384" },
  "RSA-2048": { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
};

export async function generateKeyPair(type: KeyType = "P-256"): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey(GENERATION_ALGORITHMS[type] as Parameters<typeof crypto.subtle.generateKey>[0], true, ["sign", "verify"])) as CryptoKeyPair;
}

const exportDer = async (format: "pkcs8" | "spki", key: CryptoKey): Promise<ArrayBuffer> =>
  (await crypto.subtle.exportKey(format, key)) as ArrayBuffer;

export async function exportPrivateKeyPem(privateKey: CryptoKey): Promise<string> {
  return encodePem(await exportDer("pkcs8", privateKey), PEM_TYPES.privateKey);
}

export async function exportPublicKeyPem(publicKey: CryptoKey): Promise<string> {
  return encodePem(await exportDer("spki", publicKey), PEM_TYPES.publicKey);
}

/** Imports a PKCS#8 `PRIVATE KEY` PEM as an extractable ECDSA P-256 signing key. */
export async function importPrivateKeyPem(pem: string): Promise<CryptoKey> {
  const [der, ...rest] = readPemBlocksOfType(pem, PEM_TYPES.privateKey);
  if (!der || rest.length > 0) throw new KeyImportError("expected exactly one PRIVATE KEY block");
  try {
    return await crypto.subtle.importKey("pkcs8", der, SHAKEN_KEY_ALGORITHM, true, ["sign"]);
  } catch {
    throw new KeyImportError("not an ECDSA P-256 PKCS#8 private key (SHAKEN keys are P-256, ATIS-1000080 v005 §6.4.1)");
  }
}

/** The public half of an extractable EC private key (Web Crypto cannot derive it directly; JWK can). */
export async function derivePublicKey(privateKey: CryptoKey): Promise<CryptoKey> {
  const { d: _private, key_ops: _ops, ...publicJwk } = (await crypto.subtle.exportKey("jwk", privateKey)) as JsonWebKey;
  return crypto.subtle.importKey("jwk", publicJwk, privateKey.algorithm as Parameters<typeof crypto.subtle.importKey>[2], true, ["verify"]);
}

export async function keyPairFromPrivateKey(privateKey: CryptoKey): Promise<CryptoKeyPair> {
  return { privateKey, publicKey: await derivePublicKey(privateKey) };
}

export const toHex = (bytes: BufferSource): string =>
  [...new Uint8Array(ArrayBuffer.isView(bytes) ? bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) : bytes)]
    .map((byte) => byte.toString(16).padStart(2, "0"))
    .join("");

/** Whether the certificate certifies this private key's public half (a mismatch is Asterisk #907). */
export async function certificateMatchesPrivateKey(certificate: X509Certificate, privateKey: CryptoKey): Promise<boolean> {
  const spki = await exportDer("spki", await derivePublicKey(privateKey));
  return toHex(spki) === toHex(certificate.publicKey.rawData);
}
