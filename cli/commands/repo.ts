import { CliInputError, requiredOption, type CliCommand } from "../command";
import { DEFAULT_PATHS } from "../inputs";
import { startCertificateRepository } from "../repository";

const repoServe: CliCommand = {
  name: "repo serve",
  summary: "Serve PEM chains from a directory as a local development certificate repository (x5u)",
  options: {
    dir: { type: "string", valueName: "dir", description: "directory of .pem chains", default: DEFAULT_PATHS.repoDir },
    port: { type: "string", valueName: "port", description: "TCP port", default: "8788" },
    host: { type: "string", valueName: "address", description: "listen address", default: "127.0.0.1" },
  },
  async run(context) {
    const port = Number(requiredOption(context, "port"));
    if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new CliInputError(`--port must be 0..65535`);
    const dir = requiredOption(context, "dir");
    const repository = await startCertificateRepository({ dir, port, host: requiredOption(context, "host") }).catch((error: Error) => {
      throw new CliInputError(`cannot listen: ${error.message}`);
    });
    process.stdout.write(`serving ${dir} at ${repository.url}/<name>.pem (Ctrl-C to stop)\n`);
    await new Promise<void>((resolve) => {
      for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, resolve);
    });
    await repository.close();
    return { json: { stopped: repository.url }, text: "stopped" };
  },
};

export const commands = [repoServe];
