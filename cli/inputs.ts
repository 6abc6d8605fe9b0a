import "reflect-metadata";
import { readdir, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import { Pkcs10CertificateRequest, X509Certificate, X509Crl } from "@peculiar/x509";
import {
  certificateMatchesPrivateKey,
  importPrivateKeyPem,
  PEM_TYPES,
  readCertificatesPem,
  readPemBlocks,
  readPemBlocksOfType,
  type SigningAuthority,
} from "../src/pki";
import { CliInputError } from "./command";
import { parseInputFile } from "./files";
import { sha256Hex } from "./trust-directory";

/** Where the development material lives, relative to the working directory (see certs/README.md). */
export const DEFAULT_PATHS = {
  caDir: "certs/ca",
  trustDir: "certs/trust",
  crl: "certs/crl/intermediate.crl.pem",
  repoDir: "certs/repo",
} as const;

export const caFiles = (caDir: string) => ({
  root: join(caDir, "root.pem"),
  rootKey: join(caDir, "root.key.pem"),
  intermediate: join(caDir, "intermediate.pem"),
  intermediateKey: join(caDir, "intermediate.key.pem"),
});

export const loadPrivateKey = (path: string): Promise<CryptoKey> => parseInputFile(path, (text) => importPrivateKeyPem(text));

/**
 * A PEM chain, or one DER certificate (real repositories serve both). DER is read from the file's
 * bytes: decoded as text first, every byte over 0x7F that is not UTF-8 would be lost.
 */
export const loadCertificates = (path: string): Promise<X509Certificate[]> =>
  parseInputFile(path, (text, bytes) => (readPemBlocks(text).length === 0 && bytes.length > 0 ? [new X509Certificate(bytes)] : readCertificatesPem(text)));

export interface CertificateFile {
  /** Relative to the directory walked. */
  file: string;
  certificates: X509Certificate[];
}

export interface CertificateTree {
  files: CertificateFile[];
  /** Files under the directory that hold no certificate (a README, a key), with why. */
  skipped: { file: string; reason: string }[];
}

export interface SourcedCertificate {
  certificate: X509Certificate;
  /** The files it was found in: `file`, or `file#index` in a chain. */
  sources: string[];
}

/** Each certificate of the tree once, however many files hold it (an intermediate in every chain, a DER copy). */
export function uniqueCertificates(tree: CertificateTree): SourcedCertificate[] {
  const bySha256 = new Map<string, SourcedCertificate>();
  for (const { file, certificates } of tree.files) {
    certificates.forEach((certificate, index) => {
      const source = certificates.length > 1 ? `${file}#${index}` : file;
      const fingerprint = sha256Hex(certificate);
      const seen = bySha256.get(fingerprint);
      if (seen) seen.sources.push(source);
      else bySha256.set(fingerprint, { certificate, sources: [source] });
    });
  }
  return [...bySha256.values()];
}

/** The certificates of a file that may hold other things: its CERTIFICATE blocks, or the whole file as DER. */
function certificatesIn(text: string, bytes: Uint8Array<ArrayBuffer>): X509Certificate[] {
  const blocks = readPemBlocks(text);
  if (blocks.length === 0) return [new X509Certificate(bytes)];
  const certificates = blocks.filter((block) => block.type === PEM_TYPES.certificate).map((block) => new X509Certificate(block.der));
  if (certificates.length === 0) throw new Error(`no CERTIFICATE PEM block (found ${[...new Set(blocks.map((block) => block.type))].join(", ")})`);
  return certificates;
}

/**
 * A certificate file (as `loadCertificates`), or every file under a directory, walked recursively in
 * name order: a repository or survey laid out on disk, PEM chains and DER certificates mixed.
 */
export async function loadCertificateTree(path: string): Promise<CertificateTree> {
  const isDirectory = await stat(path).then(
    (entry) => entry.isDirectory(),
    () => false,
  );
  if (!isDirectory) return { files: [{ file: path, certificates: await loadCertificates(path) }], skipped: [] };
  const entries = await readdir(path, { recursive: true, withFileTypes: true });
  const names = entries.filter((entry) => entry.isFile()).map((entry) => relative(path, join(entry.parentPath, entry.name))).sort();
  const tree: CertificateTree = { files: [], skipped: [] };
  for (const file of names) {
    try {
      tree.files.push({ file, certificates: await parseInputFile(join(path, file), certificatesIn) });
    } catch (error) {
      tree.skipped.push({ file, reason: error instanceof Error ? error.message.replace(`${join(path, file)}: `, "") : String(error) });
    }
  }
  return tree;
}

/**
 * A file standing in for a certificate repository's answer (`passport verify --chain`): its text, for
 * the verifier to judge as it judges a repository body (PEM, spec §4). A file holding one DER
 * certificate and no PEM is that certificate written as PEM: a local file's encoding is not the signer's fault.
 */
export const loadRepositoryBody = (path: string): Promise<string> =>
  parseInputFile(path, (text, bytes) => {
    if (readPemBlocks(text).length > 0 || bytes.length === 0) return text;
    try {
      return new X509Certificate(bytes).toString("pem");
    } catch {
      return text; // neither PEM nor a DER certificate: the verifier says what is wrong with it
    }
  });

export const loadCertificate = async (path: string): Promise<X509Certificate> => {
  const [certificate] = await loadCertificates(path);
  if (!certificate) throw new CliInputError(`${path}: no certificate`);
  return certificate;
};

export const loadCsr = (path: string): Promise<Pkcs10CertificateRequest> =>
  parseInputFile(path, (text) => {
    const [der] = readPemBlocksOfType(text, PEM_TYPES.certificateRequest);
    return new Pkcs10CertificateRequest(der as ArrayBuffer);
  });

export const loadCrl = (path: string): Promise<X509Crl> =>
  parseInputFile(path, (text) => {
    const [der] = readPemBlocksOfType(text, PEM_TYPES.crl);
    return new X509Crl(der as ArrayBuffer);
  });

/** Fails with both file names when the key does not belong to the certificate (Asterisk #907). */
export async function assertKeyMatchesCertificate(keyPath: string, key: CryptoKey, certificatePath: string, certificate: X509Certificate): Promise<void> {
  if (!(await certificateMatchesPrivateKey(certificate, key))) {
    throw new CliInputError(`${keyPath}: private key does not match the certificate in ${certificatePath} (${certificate.subject})`);
  }
}

/** The CA that signs end-entity certificates and the CRL: the intermediate of `ca init`. */
export async function loadIssuingCa(caDir: string): Promise<SigningAuthority> {
  const files = caFiles(caDir);
  const certificate = await loadCertificate(files.intermediate);
  const privateKey = await loadPrivateKey(files.intermediateKey);
  await assertKeyMatchesCertificate(files.intermediateKey, privateKey, files.intermediate, certificate);
  return { certificate, privateKey };
}

/** `2025-01-01` or an ISO timestamp. */
export function parseDateOption(name: string, value: string): Date {
  const date = new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(date.getTime())) throw new CliInputError(`--${name} ${JSON.stringify(value)} is not a date; use YYYY-MM-DD or an ISO 8601 timestamp`);
  return date;
}
