import "../lib/reflect-metadata";
import { PemConverter, X509Crl } from "@peculiar/x509";
import { comparableName } from "./distinguished-name";
import { readCrl } from "./revocation";

/**
 * The trust-anchor and CRL documents the Worker reads from its TRUST KV namespace.
 * The CLI (`shaken-edge trust push`, `crl push`) writes them, and so does the scheduled CRL refresh
 * (CRLs only); the verifier only reads. One KV read per document per isolate refresh: the whole set
 * lives under one key.
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
  /**
   * What the certificate is trusted for: `anchor` (the default), where certificate paths end; or
   * `crl-signer`, a key trusted to sign CRLs only (the STI-PA's CRL signer), never a path's anchor.
   */
  use?: TrustUse;
}

export const TRUST_USES = ["anchor", "crl-signer"] as const;
export type TrustUse = (typeof TRUST_USES)[number];

export interface TrustAnchorDocument {
  version: 1;
  updated: string;
  anchors: TrustAnchorEntry[];
}

/** One CRL of the set, which holds at most one per issuer. Only `pem` is read by the verifier; the rest describes it. */
export interface CrlEntry {
  /** PEM (`X509 CRL`) as published by the STI-PA / CA. */
  pem: string;
  issuer: string;
  crlNumber?: string | null;
  thisUpdate?: string;
  nextUpdate: string | null;
  /** `push` (the CLI) or the URL the scheduled refresh fetched it from. */
  source?: string;
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
    // An entry trusted for something this verifier does not know is refused, not read as an anchor.
    if (anchor.use !== undefined && !(TRUST_USES as readonly unknown[]).includes(anchor.use)) {
      throw new TrustDocumentError(`trust anchor use must be one of ${TRUST_USES.join(", ")}`);
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

/** The set's entry for a CRL, describing it from its own fields. */
export function crlEntry(crl: X509Crl, source: string): CrlEntry {
  const { evidence } = readCrl(crl);
  return { pem: PemConverter.encode(crl.rawData, "X509 CRL"), ...evidence, source };
}

export interface CrlSetChange {
  issuer: string;
  /**
   * `added`: no CRL of the issuer was held; `replaced`: it replaced an older one; `unchanged`: the same
   * CRL is held; `older`: a newer CRL of the issuer is held, and kept.
   */
  change: "added" | "replaced" | "unchanged" | "older";
  crlNumber: string | null;
  heldCrlNumber: string | null;
}

/** RFC 5280 §5.2.3: the greater CRL number is the newer CRL; thisUpdate decides between CRLs without one. */
function compareCrls(a: X509Crl, b: X509Crl): number {
  const [first, second] = [readCrl(a), readCrl(b)];
  const [numberA, numberB] = [first.crlNumber ?? -1n, second.crlNumber ?? -1n];
  if (numberA !== numberB) return numberA > numberB ? 1 : -1;
  return Math.sign(first.thisUpdate - second.thisUpdate);
}

/**
 * The set keyed by issuer: each incoming CRL adds its issuer's entry or replaces an older one, and
 * never replaces a newer one; the CRLs of other issuers stay as they are. Issuers are one issuer when
 * RFC 5280 §7.1 says so (as revocation matches them), not only when spelt alike: a CA that re-spells
 * its name keeps one CRL in the set.
 */
export function mergeCrls(held: CrlDocument | null, incoming: { crl: X509Crl; source: string }[], now: Date): { document: CrlDocument; changes: CrlSetChange[] } {
  const crls = [...(held?.crls ?? [])];
  const changes: CrlSetChange[] = [];
  for (const { crl, source } of incoming) {
    const issuer = comparableName(crl.issuerName);
    const index = crls.findIndex((entry) => comparableName(new X509Crl(entry.pem).issuerName) === issuer);
    const heldCrl = index === -1 ? null : new X509Crl(crls[index]!.pem);
    const order = heldCrl ? compareCrls(crl, heldCrl) : 1;
    const change = !heldCrl ? "added" : order > 0 ? "replaced" : order === 0 ? "unchanged" : "older";
    if (change === "added") crls.push(crlEntry(crl, source));
    if (change === "replaced") crls[index] = crlEntry(crl, source);
    changes.push({ issuer: crl.issuer, change, crlNumber: readCrl(crl).evidence.crlNumber, heldCrlNumber: heldCrl ? readCrl(heldCrl).evidence.crlNumber : null });
  }
  const changed = changes.some((entry) => entry.change === "added" || entry.change === "replaced");
  return { document: { version: 1, updated: changed || !held ? now.toISOString() : held.updated, crls }, changes };
}
