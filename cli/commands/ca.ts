import { createCrl, createDevelopmentCa, encodeCrlPem, exportPrivateKeyPem, SHAKEN_POLICY_OIDS } from "../../src/pki";
import { booleanOption, requiredOption, type CliCommand } from "../command";
import { PRIVATE_KEY_MODE, writeOutputFiles } from "../files";
import { caFiles, DEFAULT_PATHS, parseDateOption } from "../inputs";

const caInit: CliCommand = {
  name: "ca init",
  summary: "Create a development STI-CA (root + intermediate, ATIS-1000080 v005 CA profile) and its empty CRL",
  options: {
    dir: { type: "string", valueName: "dir", description: "where the CA certificates and keys go", default: DEFAULT_PATHS.caDir },
    crl: { type: "string", valueName: "file", description: "the intermediate's CRL", default: DEFAULT_PATHS.crl },
    org: { type: "string", valueName: "O", description: "organization of the CA", default: "shaken-edge Development" },
    country: { type: "string", valueName: "C", description: "country of the CA", default: "KZ" },
    "not-before": { type: "string", valueName: "date", description: "start of validity", default: "2025-01-01" },
    "not-after": { type: "string", valueName: "date", description: "end of validity", default: "2035-01-01" },
    force: { type: "boolean", description: "replace an existing CA" },
  },
  async run(context) {
    const dir = requiredOption(context, "dir");
    const notBefore = parseDateOption("not-before", requiredOption(context, "not-before"));
    const notAfter = parseDateOption("not-after", requiredOption(context, "not-after"));
    const ca = await createDevelopmentCa({
      organization: requiredOption(context, "org"),
      country: requiredOption(context, "country"),
      notBefore,
      notAfter,
      policy: SHAKEN_POLICY_OIDS.cp13,
    });
    const crl = await createCrl({ issuer: ca.intermediate, revoked: [], thisUpdate: notBefore, nextUpdate: notAfter, crlNumber: 1 });
    const files = caFiles(dir);
    const crlPath = requiredOption(context, "crl");
    await writeOutputFiles(
      [
        { path: files.root, content: ca.root.certificate.toString("pem") },
        { path: files.rootKey, content: await exportPrivateKeyPem(ca.root.privateKey), mode: PRIVATE_KEY_MODE },
        { path: files.intermediate, content: ca.intermediate.certificate.toString("pem") },
        { path: files.intermediateKey, content: await exportPrivateKeyPem(ca.intermediate.privateKey), mode: PRIVATE_KEY_MODE },
        { path: crlPath, content: encodeCrlPem(crl) },
      ],
      { force: booleanOption(context, "force") },
    );
    const json = { root: files.root, intermediate: files.intermediate, crl: crlPath, rootSubject: ca.root.certificate.subject, intermediateSubject: ca.intermediate.certificate.subject };
    return {
      json,
      text: [`root          ${files.root}  (${json.rootSubject})`, `intermediate  ${files.intermediate}  (${json.intermediateSubject})`, `crl           ${crlPath}`].join("\n"),
    };
  },
};

export const commands = [caInit];
