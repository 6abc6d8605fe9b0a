import "reflect-metadata";
import { X509Crl, type X509Certificate } from "@peculiar/x509";
import { buildTrustedPaths } from "../../src/certificate/chain";
import { findCrlSigner, readCrl } from "../../src/certificate/revocation";
import { CRLS_KEY, mergeCrls, parseCrlDocument, type CrlDocument, type CrlSetChange } from "../../src/certificate/trust-format";
import { DEFAULT_TRUST_REFRESH_SECONDS } from "../../src/config";
import { createCrl, encodeCrlPem, readCrlNumber, revokedEntries } from "../../src/pki";
import { CliInputError, requiredOption, requiredPositional, listOption, type CliCommand } from "../command";
import { writeOutputFiles } from "../files";
import { caFiles, DEFAULT_PATHS, loadCertificate, loadCertificates, loadCrl, loadIssuingCa } from "../inputs";
import { listAnchors } from "../trust-directory";
import { getTrustDocument, KV_TARGET_OPTIONS, kvTarget, putTrustDocument, type KvTarget } from "../wrangler";

const CRL_VALIDITY_MS = 10 * 365 * 86_400_000;

const crlOption = { type: "string", valueName: "file", description: "the CA's CRL", default: DEFAULT_PATHS.crl } as const;

const crlRevoke: CliCommand = {
  name: "crl revoke",
  summary: "Revoke a certificate in the development CA's CRL (re-signs the CRL with the next CRL number)",
  positionals: "<cert>",
  options: { crl: crlOption, "ca-dir": { type: "string", valueName: "dir", description: "the CA from ca init", default: DEFAULT_PATHS.caDir } },
  async run(context) {
    const certificatePath = requiredPositional(context, 0, "certificate to revoke");
    const crlPath = requiredOption(context, "crl");
    const certificate = await loadCertificate(certificatePath);
    const issuer = await loadIssuingCa(requiredOption(context, "ca-dir"));
    const current = await loadCrl(crlPath);
    const revoked = revokedEntries(current).filter((entry) => entry.serialNumber !== certificate.serialNumber);
    const now = new Date();
    const crl = await createCrl({
      issuer,
      revoked: [...revoked, { serialNumber: certificate.serialNumber, revocationDate: now }],
      thisUpdate: now,
      nextUpdate: new Date(now.getTime() + CRL_VALIDITY_MS),
      crlNumber: readCrlNumber(current) + 1,
    });
    await writeOutputFiles([{ path: crlPath, content: encodeCrlPem(crl) }], { force: true });
    return {
      json: { crl: crlPath, revoked: certificate.serialNumber, crlNumber: readCrlNumber(crl), entries: crl.entries.length },
      text: `${crlPath}: revoked ${certificate.serialNumber} (${certificate.subject}); CRL #${readCrlNumber(crl)}, ${crl.entries.length} entr${crl.entries.length === 1 ? "y" : "ies"}`,
    };
  },
};

const crlShow: CliCommand = {
  name: "crl show",
  summary: "List a CRL's issuer, update times and revoked serial numbers",
  options: { crl: crlOption },
  async run(context) {
    const crlPath = requiredOption(context, "crl");
    const crl = await loadCrl(crlPath);
    const entries = revokedEntries(crl).map((entry) => ({ serialNumber: entry.serialNumber, revocationDate: entry.revocationDate.toISOString() }));
    const json = { crl: crlPath, issuer: crl.issuer, crlNumber: readCrlNumber(crl), thisUpdate: crl.thisUpdate.toISOString(), nextUpdate: crl.nextUpdate?.toISOString() ?? null, entries };
    return {
      json,
      text: [
        `${crlPath}: CRL #${json.crlNumber} by ${json.issuer}`,
        `  thisUpdate ${json.thisUpdate}, nextUpdate ${json.nextUpdate ?? "none"}`,
        ...(entries.length === 0 ? ["  no revoked certificates"] : entries.map((entry) => `  ${entry.serialNumber}  revoked ${entry.revocationDate}`)),
      ].join("\n"),
    };
  },
};

const kvSetNote = (target: KvTarget) =>
  `isolates use it within TRUST_REFRESH_SECONDS (${DEFAULT_TRUST_REFRESH_SECONDS} s unless configured)${target.remote ? ", once KV has propagated the change (up to 60 s)" : ""}`;

async function heldCrls(target: KvTarget): Promise<CrlDocument | null> {
  const text = await getTrustDocument(CRLS_KEY, target);
  if (text === null) return null;
  try {
    return parseCrlDocument(text);
  } catch (error) {
    throw new CliInputError(`the CRL set in KV "${CRLS_KEY}" cannot be read (${error instanceof Error ? error.message : String(error)}); remove the key with wrangler to start a new one`);
  }
}

const CHANGE_TEXT: Record<CrlSetChange["change"], (change: CrlSetChange) => string> = {
  added: (change) => `added     CRL #${change.crlNumber ?? "-"} of ${change.issuer}`,
  replaced: (change) => `replaced  CRL #${change.heldCrlNumber ?? "-"} of ${change.issuer} by #${change.crlNumber ?? "-"}`,
  unchanged: (change) => `unchanged CRL #${change.crlNumber ?? "-"} of ${change.issuer}: already held`,
  older: (change) => `kept      CRL #${change.heldCrlNumber ?? "-"} of ${change.issuer}: newer than the pushed #${change.crlNumber ?? "-"}`,
};

const crlPush: CliCommand = {
  name: "crl push",
  summary: `Add or replace, per issuer, CRLs in the set the Worker reads from TRUST KV "${CRLS_KEY}" (via wrangler); each must verify with a trusted signer`,
  options: {
    crl: { ...crlOption, multiple: true, default: undefined, description: `CRL file(s) (default: ${DEFAULT_PATHS.crl}, issued by ${caFiles(DEFAULT_PATHS.caDir).intermediate})` },
    issuer: { type: "string", valueName: "cert", multiple: true, description: "the certificate of a CA whose own CRL is pushed; it must chain to an anchor of --trust-dir" },
    "trust-dir": { type: "string", valueName: "dir", description: "trust anchors and CRL signers (trust add --crl-signer)", default: DEFAULT_PATHS.trustDir },
    ...KV_TARGET_OPTIONS,
  },
  async run(context) {
    const given = listOption(context, "crl");
    const paths = given.length > 0 ? given : [DEFAULT_PATHS.crl];
    const issuerPaths = given.length > 0 ? listOption(context, "issuer") : [caFiles(DEFAULT_PATHS.caDir).intermediate, ...listOption(context, "issuer")];
    const crls = await Promise.all(paths.map(async (path) => ({ path, crl: await loadCrl(path) })));
    const twice = crls.find(({ crl }, index) => crls.findIndex((other) => other.crl.issuer === crl.issuer) !== index);
    if (twice) throw new CliInputError(`${twice.path}: a second CRL of ${twice.crl.issuer}; the set holds one CRL per issuer`);
    // Every CRL is verified before anything is stored: one that does not verify stops the push.
    const signers = await trustedCrlSigners(requiredOption(context, "trust-dir"), issuerPaths);
    for (const { path, crl } of crls) {
      if (!(await findCrlSigner(crl, signers))) {
        throw new CliInputError(`${path}: CRL signature does not verify with a trusted signer named '${crl.issuer}' (trust add --crl-signer, or --issuer <CA certificate>); nothing stored`);
      }
    }
    const target = kvTarget(context);
    const { document, changes } = mergeCrls(await heldCrls(target), crls.map(({ crl }) => ({ crl, source: "push" })), new Date());
    const changed = changes.some((change) => change.change === "added" || change.change === "replaced");
    const command = changed ? await putTrustDocument(CRLS_KEY, document, target) : null;
    const summary = changed ? `${CRLS_KEY}: ${document.crls.length} CRL(s) in the set; ${kvSetNote(target)}` : `${CRLS_KEY}: nothing to write`;
    return { json: { key: CRLS_KEY, changes, crls: document.crls.length, command }, text: [...changes.map((change) => CHANGE_TEXT[change.change](change)), summary].join("\n") };
  },
};

/**
 * Who may sign the CRLs pushed: every certificate of the trust directory (anchors and CRL signers),
 * and the CA certificates given with --issuer, each of which must chain to an anchor (RFC 5280 §6.3.3 (f)).
 */
async function trustedCrlSigners(trustDir: string, issuerPaths: string[]): Promise<X509Certificate[]> {
  const trusted = (await listAnchors(trustDir)).map((anchor) => ({ certificate: anchor.certificate, use: anchor.use }));
  const anchors = trusted.filter((entry) => entry.use === "anchor").map((entry) => entry.certificate);
  const issuers = await Promise.all(
    issuerPaths.map(async (path) => {
      const chain = await loadCertificates(path);
      try {
        return (await buildTrustedPaths(chain, anchors))[0]!.certificates[0]!;
      } catch (error) {
        throw new CliInputError(`${path}: ${error instanceof Error ? error.message : String(error)}; only a CA that chains to an anchor of ${trustDir} may sign a pushed CRL`);
      }
    }),
  );
  return [...trusted.map((entry) => entry.certificate), ...issuers];
}

const crlList: CliCommand = {
  name: "crl list",
  summary: `List the CRL set the Worker reads from TRUST KV "${CRLS_KEY}": issuer, number, update times, entries`,
  options: { ...KV_TARGET_OPTIONS },
  async run(context) {
    const now = Date.now();
    const crls = ((await heldCrls(kvTarget(context, "read")))?.crls ?? []).map((entry) => {
      const reading = readCrl(new X509Crl(entry.pem));
      const current = reading.thisUpdate <= now && reading.nextUpdate !== null && now <= reading.nextUpdate;
      return { ...reading.evidence, revoked: reading.revoked.size, current, source: entry.source ?? null };
    });
    const line = (crl: (typeof crls)[number]) =>
      `#${(crl.crlNumber ?? "-").padEnd(6)} ${crl.issuer}\n        ${crl.thisUpdate} .. ${crl.nextUpdate ?? "no nextUpdate"}${crl.current ? "" : " (not current)"}, ${crl.revoked} revoked${crl.source ? `, from ${crl.source}` : ""}`;
    return { json: { crls }, text: crls.length === 0 ? "no CRLs" : crls.map(line).join("\n") };
  },
};

const crlRemove: CliCommand = {
  name: "crl remove",
  summary: "Remove an issuer's CRL from the set in TRUST KV, by its issuer name (or a part of it that names one issuer)",
  positionals: "<issuer>",
  options: { ...KV_TARGET_OPTIONS },
  async run(context) {
    const selector = requiredPositional(context, 0, "issuer");
    const target = kvTarget(context);
    const held = await heldCrls(target);
    const crls = held?.crls ?? [];
    const issuers = crls.map((entry) => new X509Crl(entry.pem).issuer);
    const exact = issuers.filter((issuer) => issuer === selector);
    const matches = exact.length > 0 ? exact : issuers.filter((issuer) => issuer.toLowerCase().includes(selector.toLowerCase()));
    if (matches.length !== 1) {
      throw new CliInputError(`${selector}: ${matches.length === 0 ? "no" : "more than one"} CRL issuer in the set matches${issuers.length > 0 ? ` (${issuers.join("; ")})` : ""}`);
    }
    const index = issuers.indexOf(matches[0]!);
    const removed = readCrl(new X509Crl(crls[index]!.pem)).evidence;
    const document: CrlDocument = { version: 1, updated: new Date().toISOString(), crls: crls.filter((_, position) => position !== index) };
    const command = await putTrustDocument(CRLS_KEY, document, target);
    return {
      json: { removed, crls: document.crls.length, command },
      text: `removed CRL #${removed.crlNumber ?? "-"} of ${removed.issuer}; ${document.crls.length} CRL(s) left; ${kvSetNote(target)}`,
    };
  },
};

export const commands = [crlRevoke, crlShow, crlPush, crlList, crlRemove];
