import "reflect-metadata";
import { compactVerify, importX509 } from "jose";
import { X509Certificate } from "@peculiar/x509";
import { maySignCrls } from "../../src/certificate/revocation";
import { TRUST_ANCHORS_KEY } from "../../src/certificate/trust-format";
import { booleanOption, CliInputError, PROGRESS_OPTION, requiredOption, requiredPositional, stringOption, type CliCommand } from "../command";
import { readInputFile, writeOutputFiles } from "../files";
import { DEFAULT_PATHS, loadCertificate, loadCertificates } from "../inputs";
import { addAnchors, listAnchors, removeAnchor, trustAnchorDocument, type StoredAnchor } from "../trust-directory";
import { KV_TARGET_OPTIONS, kvTarget, putTrustDocument } from "../wrangler";

const trustDirOption = { type: "string", valueName: "dir", description: "the trust-anchor directory", default: DEFAULT_PATHS.trustDir } as const;

const anchorLine = (anchor: StoredAnchor) =>
  `${anchor.sha256.slice(0, 16)}  ${anchor.source.padEnd(10)} ${anchor.use === "crl-signer" ? "crl-signer " : ""}${anchor.certificate.subject}  (until ${anchor.certificate.notAfter.toISOString().slice(0, 10)})`;
const anchorJson = (anchor: StoredAnchor) => ({ file: anchor.file, subject: anchor.certificate.subject, sha256: anchor.sha256, source: anchor.source, use: anchor.use, notAfter: anchor.certificate.notAfter.toISOString() });

const isCertificateAuthority = (certificate: X509Certificate): boolean => (certificate.getExtension("2.5.29.19") as { ca?: boolean } | null)?.ca === true;

const trustAdd: CliCommand = {
  name: "trust add",
  summary: "Add root certificate(s) from a PEM file to the trust-anchor directory, or, with --crl-signer, a key trusted to sign CRLs only",
  positionals: "<pem-file>",
  options: {
    "trust-dir": trustDirOption,
    source: { type: "string", valueName: "name", description: "where the anchor came from", default: "manual" },
    "crl-signer": { type: "boolean", description: "trust the certificate to sign CRLs only (e.g. the STI-PA's CRL signer), never as a path's anchor" },
  },
  async run(context) {
    const file = requiredPositional(context, 0, "PEM file");
    const certificates = await loadCertificates(file);
    const crlSigner = booleanOption(context, "crl-signer");
    const unfit = certificates.find((certificate) => !(crlSigner ? maySignCrls(certificate) : isCertificateAuthority(certificate)));
    if (unfit && crlSigner) throw new CliInputError(`${file}: ${unfit.subject} has a keyUsage without cRLSign, so it cannot sign CRLs`);
    if (unfit) throw new CliInputError(`${file}: ${unfit.subject} is not a CA certificate (BasicConstraints CA=TRUE), so it cannot be a trust anchor`);
    const added = await addAnchors(requiredOption(context, "trust-dir"), certificates, requiredOption(context, "source"), crlSigner ? "crl-signer" : "anchor");
    return { json: { added: added.map(anchorJson) }, text: added.length === 0 ? "already trusted; nothing added" : added.map((anchor) => `added ${anchor.file}  ${anchor.certificate.subject}`).join("\n") };
  },
};

const trustList: CliCommand = {
  name: "trust list",
  summary: "List the trust anchors",
  options: { "trust-dir": trustDirOption },
  async run(context) {
    const anchors = await listAnchors(requiredOption(context, "trust-dir"));
    return { json: { anchors: anchors.map(anchorJson) }, text: anchors.length === 0 ? "no trust anchors" : anchors.map(anchorLine).join("\n") };
  },
};

const trustRemove: CliCommand = {
  name: "trust remove",
  summary: "Remove a trust anchor by SHA-256 prefix (8+ hex digits) or file name",
  positionals: "<sha256-prefix|file-name>",
  options: { "trust-dir": trustDirOption },
  async run(context) {
    const removed = await removeAnchor(requiredOption(context, "trust-dir"), requiredPositional(context, 0, "anchor"));
    return { json: { removed: anchorJson(removed) }, text: `removed ${removed.file}  ${removed.certificate.subject}` };
  },
};

const trustExport: CliCommand = {
  name: "trust export",
  summary: `Print (or write) the trust-anchor document the Worker reads from KV "${TRUST_ANCHORS_KEY}"`,
  options: { "trust-dir": trustDirOption, out: { type: "string", valueName: "file", description: "write the document here instead of stdout" }, force: { type: "boolean", description: "replace an existing file" } },
  async run(context) {
    const document = trustAnchorDocument(await listAnchors(requiredOption(context, "trust-dir")), new Date());
    const out = stringOption(context, "out");
    if (!out) return { json: document, text: JSON.stringify(document, null, 2) };
    await writeOutputFiles([{ path: out, content: JSON.stringify(document, null, 2) }], { force: booleanOption(context, "force") });
    return { json: { out, anchors: document.anchors.length }, text: `${out}: ${document.anchors.length} anchor(s)` };
  },
};

const trustPush: CliCommand = {
  name: "trust push",
  summary: `Write the trust anchors to the Worker's TRUST KV under "${TRUST_ANCHORS_KEY}" (via wrangler); no redeploy needed`,
  options: { "trust-dir": trustDirOption, ...KV_TARGET_OPTIONS },
  async run(context) {
    const document = trustAnchorDocument(await listAnchors(requiredOption(context, "trust-dir")), new Date());
    const command = await putTrustDocument(TRUST_ANCHORS_KEY, document, kvTarget(context));
    return { json: { key: TRUST_ANCHORS_KEY, anchors: document.anchors.length, command }, text: `${TRUST_ANCHORS_KEY}: ${document.anchors.length} anchor(s) written (${command})` };
  },
};

interface StipaTrustList {
  version: unknown;
  sequence: number;
  exp: number;
  trustList: string[];
}

function parseStipaPayload(payload: Uint8Array): StipaTrustList {
  const value = JSON.parse(new TextDecoder().decode(payload)) as Partial<StipaTrustList>;
  if (typeof value.sequence !== "number" || typeof value.exp !== "number" || !Array.isArray(value.trustList) || !value.trustList.every((pem) => typeof pem === "string")) {
    throw new Error("payload must be {version, sequence: number, exp: number, trustList: [PEM...]}");
  }
  return value as StipaTrustList;
}

const trustImportStipa: CliCommand = {
  name: "trust import-stipa",
  summary: "Verify an STI-PA trust list (ES256 JWS) against the STI-PA certificate and add its roots",
  positionals: "<jws-file>",
  options: {
    "stipa-cert": { type: "string", valueName: "pem", description: "the STI-PA signing certificate (required)" },
    "trust-dir": trustDirOption,
    progress: PROGRESS_OPTION,
  },
  async run(context) {
    const file = requiredPositional(context, 0, "STI-PA trust list file");
    const stipaCertPath = requiredOption(context, "stipa-cert");
    const stipaCertificate = await loadCertificate(stipaCertPath);
    const key = await importX509(stipaCertificate.toString("pem"), "ES256").catch(() => {
      throw new CliInputError(`${stipaCertPath}: not an ES256 (P-256) certificate`);
    });
    const jws = (await readInputFile(file)).trim();
    let list: StipaTrustList;
    try {
      list = parseStipaPayload((await compactVerify(jws, key, { algorithms: ["ES256"] })).payload);
    } catch (error) {
      throw new CliInputError(`${file}: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (list.exp * 1000 <= Date.now()) throw new CliInputError(`${file}: trust list sequence ${list.sequence} expired at ${new Date(list.exp * 1000).toISOString()}`);
    const roots: X509Certificate[] = [];
    for (const [index, pem] of list.trustList.entries()) {
      try {
        roots.push(new X509Certificate(pem));
      } catch {
        throw new CliInputError(`${file}: trustList entry ${index + 1} is not a PEM certificate`);
      }
      context.progress(index + 1, list.trustList.length, "read roots");
    }
    const added = await addAnchors(requiredOption(context, "trust-dir"), roots, `stipa:${list.sequence}`);
    return {
      json: { sequence: list.sequence, exp: list.exp, roots: roots.length, added: added.map(anchorJson) },
      text: `STI-PA trust list sequence ${list.sequence}: ${roots.length} root(s), ${added.length} added${added.map((anchor) => `\n  ${anchor.certificate.subject}`).join("")}`,
    };
  },
};

export const commands = [trustAdd, trustList, trustRemove, trustExport, trustPush, trustImportStipa];
