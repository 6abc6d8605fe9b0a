import { exportPrivateKeyPem, exportPublicKeyPem, generateKeyPair } from "../../src/pki";
import { booleanOption, requiredOption, stringOption, type CliCommand } from "../command";
import { PRIVATE_KEY_MODE, writeOutputFiles, type OutputFile } from "../files";

const keyNew: CliCommand = {
  name: "key new",
  summary: "Generate a P-256 key pair (PKCS#8 private key, mode 0600)",
  options: {
    out: { type: "string", valueName: "file", description: "private key file (required)" },
    "public-out": { type: "string", valueName: "file", description: "also write the SPKI public key here" },
    force: { type: "boolean", description: "replace an existing key file" },
  },
  async run(context) {
    const out = requiredOption(context, "out");
    const publicOut = stringOption(context, "public-out");
    const keys = await generateKeyPair();
    const files: OutputFile[] = [{ path: out, content: await exportPrivateKeyPem(keys.privateKey), mode: PRIVATE_KEY_MODE }];
    if (publicOut) files.push({ path: publicOut, content: await exportPublicKeyPem(keys.publicKey) });
    await writeOutputFiles(files, { force: booleanOption(context, "force") });
    return { json: { privateKey: out, publicKey: publicOut ?? null }, text: `private key  ${out}${publicOut ? `\npublic key   ${publicOut}` : ""}` };
  },
};

export const commands = [keyNew];
