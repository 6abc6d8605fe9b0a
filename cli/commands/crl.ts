import "reflect-metadata";
import { CRLS_KEY } from "../../src/certificate/trust-format";
import { createCrl, encodeCrlPem, readCrlNumber, revokedEntries } from "../../src/pki";
import { requiredOption, requiredPositional, listOption, type CliCommand } from "../command";
import { writeOutputFiles } from "../files";
import { DEFAULT_PATHS, loadCertificate, loadCrl, loadIssuingCa } from "../inputs";
import { crlDocument } from "../trust-directory";
import { KV_TARGET_OPTIONS, kvTarget, putTrustDocument } from "../wrangler";

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

const crlPush: CliCommand = {
  name: "crl push",
  summary: `Write CRLs to the Worker's TRUST KV under "${CRLS_KEY}" (via wrangler)`,
  options: { crl: { ...crlOption, multiple: true, default: undefined, description: `CRL file(s) (default: ${DEFAULT_PATHS.crl})` }, ...KV_TARGET_OPTIONS },
  async run(context) {
    const paths = listOption(context, "crl");
    const crls = await Promise.all((paths.length > 0 ? paths : [DEFAULT_PATHS.crl]).map(loadCrl));
    const document = crlDocument(crls, new Date());
    const command = await putTrustDocument(CRLS_KEY, document, kvTarget(context));
    return { json: { key: CRLS_KEY, crls: document.crls.length, command }, text: `${CRLS_KEY}: ${document.crls.length} CRL(s) written (${command})` };
  },
};

export const commands = [crlRevoke, crlShow, crlPush];
