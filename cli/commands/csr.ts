import { createShakenCsr, keyPairFromPrivateKey } from "../../src/pki";
import { booleanOption, requiredOption, type CliCommand } from "../command";
import { writeOutputFiles } from "../files";
import { loadPrivateKey } from "../inputs";

const csrNew: CliCommand = {
  name: "csr new",
  summary: "Create a PKCS#10 request for a SHAKEN certificate with the TNAuthList (one SPC) requested",
  options: {
    key: { type: "string", valueName: "file", description: "the P-256 private key (required)" },
    spc: { type: "string", valueName: "SPC", description: "service provider code, [A-Z0-9] (required)" },
    org: { type: "string", valueName: "O", description: "organization (required)" },
    country: { type: "string", valueName: "C", description: "country (required)" },
    out: { type: "string", valueName: "file", description: "where the request goes (required)" },
    force: { type: "boolean", description: "replace an existing file" },
  },
  async run(context) {
    const keyPath = requiredOption(context, "key");
    const out = requiredOption(context, "out");
    const subject = { spc: requiredOption(context, "spc"), organization: requiredOption(context, "org"), country: requiredOption(context, "country") };
    const keys = await keyPairFromPrivateKey(await loadPrivateKey(keyPath));
    const csr = await createShakenCsr(keys, subject);
    await writeOutputFiles([{ path: out, content: csr.toString("pem") }], { force: booleanOption(context, "force") });
    return { json: { csr: out, subject: csr.subject, spc: subject.spc }, text: `${out}  ${csr.subject}, TNAuthList SPC ${subject.spc}` };
  },
};

export const commands = [csrNew];
