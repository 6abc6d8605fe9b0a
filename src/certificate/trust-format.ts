/**
 * The trust-anchor and CRL documents the Worker reads from its TRUST KV namespace.
 * The CLI (`shaken-edge trust push`, `crl push`) writes them; the verifier only reads.
 * One KV read per document per isolate refresh: the whole set lives under one key.
 */
export const TRUST_ANCHORS_KEY = "trust-anchors";
export const CRLS_KEY = "crls";

export interface TrustAnchorEntry {
  /** PEM of the root (or intermediate the operator chose to anchor on). */
  pem: string;
  subject: string;
  /** SHA-256 of the DER, lowercase hex. */
  sha256: string;
  /** Where the anchor came from: `dev`, `stipa:<sequence>`, `manual`. */
  source: string;
}

export interface TrustAnchorDocument {
  version: 1;
  updated: string;
  anchors: TrustAnchorEntry[];
}

export interface CrlEntry {
  /** PEM (`X509 CRL`) as published by the STI-PA / CA. */
  pem: string;
  issuer: string;
  nextUpdate: string | null;
}

export interface CrlDocument {
  version: 1;
  updated: string;
  crls: CrlEntry[];
}

export class TrustDocumentError extends Error {
  readonly code = "ERR_TRUST_DOCUMENT_INVALID";
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

export function parseTrustAnchorDocument(json: string): TrustAnchorDocument {
  const value: unknown = JSON.parse(json);
  if (!isRecord(value) || value.version !== 1 || !Array.isArray(value.anchors)) {
    throw new TrustDocumentError("trust-anchor document must be {version: 1, anchors: [...]}");
  }
  for (const anchor of value.anchors) {
    if (!isRecord(anchor) || typeof anchor.pem !== "string" || typeof anchor.sha256 !== "string") {
      throw new TrustDocumentError("every trust anchor needs a pem and a sha256");
    }
  }
  return value as unknown as TrustAnchorDocument;
}

export function parseCrlDocument(json: string): CrlDocument {
  const value: unknown = JSON.parse(json);
  if (!isRecord(value) || value.version !== 1 || !Array.isArray(value.crls)) {
    throw new TrustDocumentError("CRL document must be {version: 1, crls: [...]}");
  }
  for (const crl of value.crls) {
    if (!isRecord(crl) || typeof crl.pem !== "string") throw new TrustDocumentError("every CRL entry needs a pem");
  }
  return value as unknown as CrlDocument;
}
