import "reflect-metadata";
import { createHash } from "node:crypto";
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { X509Certificate, X509Crl } from "@peculiar/x509";
import type { TrustAnchorDocument, TrustAnchorEntry, TrustUse } from "../src/certificate/trust-format";
import { readCertificatesPem } from "../src/pki";
import { CliInputError } from "./command";
import { parseInputFile, writeOutputFiles } from "./files";

/**
 * The trust-anchor store on disk: one PEM per anchor in a directory (certs/trust for development).
 * Where an anchor came from, and what it is trusted for, are kept as RFC 7468 §5.2 explanatory text
 * above the PEM block (`Source: dev`, `Use: crl-signer`).
 */
export interface StoredAnchor {
  file: string;
  certificate: X509Certificate;
  source: string;
  /** `anchor`: certificate paths end here; `crl-signer`: trusted to sign CRLs only. */
  use: TrustUse;
  sha256: string;
}

const SOURCE_LINE = /^Source: (\S+)$/m;
const USE_LINE = /^Use: (\S+)$/m;

export const sha256Hex = (certificate: X509Certificate): string => createHash("sha256").update(new Uint8Array(certificate.rawData)).digest("hex");

/**
 * The anchors in `dir`. A directory that does not exist is an error, never an empty trust set: a
 * mistyped --trust-dir would otherwise verify against no anchor, or push none to the Worker.
 */
export async function listAnchors(dir: string): Promise<StoredAnchor[]> {
  const anchors = await readAnchorDirectory(dir);
  if (anchors === null) throw new CliInputError(`${dir}: no such trust-anchor directory (--trust-dir); trust add creates one`);
  return anchors;
}

/** The anchors in `dir`, or null when it does not exist (yet: `trust add` creates it). */
async function readAnchorDirectory(dir: string): Promise<StoredAnchor[] | null> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((name) => name.endsWith(".pem")).sort();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return null;
    throw new CliInputError(`${dir}: the trust-anchor directory cannot be read (${code ?? String(error)})`);
  }
  return Promise.all(
    names.map(async (name) => {
      const file = join(dir, name);
      const { certificate, source, use } = await parseInputFile(file, (text) => {
        const [first] = readCertificatesPem(text);
        if (!first) throw new Error("no certificate");
        const use = USE_LINE.exec(text)?.[1] ?? "anchor";
        if (use !== "anchor" && use !== "crl-signer") throw new Error(`Use: ${use} is neither anchor nor crl-signer`);
        return { certificate: first, source: SOURCE_LINE.exec(text)?.[1] ?? "manual", use: use as TrustUse };
      });
      return { file, certificate, source, use, sha256: sha256Hex(certificate) };
    }),
  );
}

const fileNameFor = (certificate: X509Certificate, sha256: string): string => {
  const commonName = certificate.subjectName.getField("CN")[0] ?? "anchor";
  return `${commonName.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "")}-${sha256.slice(0, 8)}.pem`;
};

/** Adds anchors (or CRL signers) not already present (by SHA-256); returns the ones added. */
export async function addAnchors(dir: string, certificates: X509Certificate[], source: string, use: TrustUse = "anchor"): Promise<StoredAnchor[]> {
  const present = new Set(((await readAnchorDirectory(dir)) ?? []).map((anchor) => anchor.sha256));
  const added = certificates
    .map((certificate) => ({ certificate, sha256: sha256Hex(certificate), source, use }))
    .filter((anchor, index, all) => !present.has(anchor.sha256) && all.findIndex((other) => other.sha256 === anchor.sha256) === index)
    .map((anchor) => ({ ...anchor, file: join(dir, fileNameFor(anchor.certificate, anchor.sha256)) }));
  const useLine = use === "anchor" ? "" : `Use: ${use}\n`;
  await writeOutputFiles(
    added.map((anchor) => ({ path: anchor.file, content: `Subject: ${anchor.certificate.subject}\nSource: ${source}\n${useLine}${anchor.certificate.toString("pem")}\n` })),
    { force: false },
  );
  return added;
}

/** Removes the anchor whose SHA-256 starts with `fingerprint` (at least 8 hex digits) or whose file is named so. */
export async function removeAnchor(dir: string, selector: string): Promise<StoredAnchor> {
  const anchors = await listAnchors(dir);
  const matches = anchors.filter((anchor) => (selector.length >= 8 && anchor.sha256.startsWith(selector.toLowerCase())) || anchor.file.endsWith(selector));
  if (matches.length !== 1) {
    throw new CliInputError(`${selector}: ${matches.length === 0 ? "no" : "more than one"} trust anchor in ${dir} matches; give 8+ hex digits of its SHA-256 or its file name`);
  }
  const [anchor] = matches as [StoredAnchor];
  await rm(anchor.file);
  return anchor;
}

export const anchorEntry = (anchor: StoredAnchor): TrustAnchorEntry => ({
  pem: anchor.certificate.toString("pem"),
  subject: anchor.certificate.subject,
  sha256: anchor.sha256,
  source: anchor.source,
  use: anchor.use,
});

export const trustAnchorDocument = (anchors: StoredAnchor[], now: Date): TrustAnchorDocument => ({
  version: 1,
  updated: now.toISOString(),
  anchors: anchors.map(anchorEntry),
});
