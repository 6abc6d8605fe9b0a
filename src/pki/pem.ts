import "../lib/reflect-metadata";
import { PemConverter, X509Certificate } from "@peculiar/x509";
import { PemTypeError } from "./errors";

export interface PemBlock {
  type: string;
  der: ArrayBuffer;
}

export const PEM_TYPES = {
  certificate: "CERTIFICATE",
  crl: "X509 CRL",
  certificateRequest: "CERTIFICATE REQUEST",
  privateKey: "PRIVATE KEY",
  publicKey: "PUBLIC KEY",
} as const;

/** Every PEM block in `text`, in order; an empty array when there is none. */
export function readPemBlocks(text: string): PemBlock[] {
  if (!/-----BEGIN [A-Z0-9 ]+-----/.test(text)) return [];
  return PemConverter.decodeWithHeaders(text).map((block) => ({ type: block.type, der: block.rawData }));
}

/** The blocks of one expected type; a PemTypeError naming what was found instead. */
export function readPemBlocksOfType(text: string, type: string): ArrayBuffer[] {
  const blocks = readPemBlocks(text);
  if (blocks.length === 0) throw new PemTypeError(`no PEM block found, expected ${type}`);
  const wrong = blocks.find((block) => block.type !== type);
  if (wrong) throw new PemTypeError(`found a ${wrong.type} PEM block, expected ${type}`);
  return blocks.map((block) => block.der);
}

export const encodePem = (der: BufferSource, type: string): string => PemConverter.encode(der, type);

/** The certificates of a PEM chain (leaf first, as served from an x5u, spec §5). */
export const readCertificatesPem = (text: string): X509Certificate[] =>
  readPemBlocksOfType(text, PEM_TYPES.certificate).map((der) => new X509Certificate(der));
