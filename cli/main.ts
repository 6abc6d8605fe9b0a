import "reflect-metadata";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { PkiError } from "../src/pki";
import { CliInputError, type CliCommand, type OptionSpec } from "./command";
import { progressReporter } from "./progress";
import { COMMANDS } from "./registry";

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Progress is shown by default only to a person watching a terminal. */
  stderrIsTerminal?: boolean;
  /** Resolves when stdout has taken what was written (back-pressure for long output); absent: at once. */
  drained?(): Promise<void>;
}

const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text.endsWith("\n") ? text : `${text}\n`),
  stderr: (text) => process.stderr.write(text.endsWith("\n") ? text : `${text}\n`),
  stderrIsTerminal: process.stderr.isTTY === true,
  drained: () => (process.stdout.writableNeedDrain ? once(process.stdout, "drain").then(() => {}) : Promise.resolve()),
};

export const EXIT = { ok: 0, findings: 1, badInput: 2 } as const;

const VERSION = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;

const COMMON_OPTIONS: Record<string, OptionSpec> = {
  json: { type: "boolean", description: "print machine-readable JSON" },
  help: { type: "boolean", short: "h", description: "show this help" },
};

/** How many positional arguments a command takes: one per `<name>` in its declared `positionals`. */
const positionalCount = (command: CliCommand): number => command.positionals?.match(/<[^>]+>/g)?.length ?? 0;

/** `cert`, `passport`, …: the commands whose first word is `group`. */
const commandsOf = (group: string): CliCommand[] => COMMANDS.filter((command) => command.name.split(" ")[0] === group && command.name.includes(" "));

function findCommand(argv: string[]): { command: CliCommand; rest: string[] } | undefined {
  for (const words of [2, 1]) {
    const name = argv.slice(0, words).join(" ");
    const command = COMMANDS.find((candidate) => candidate.name === name);
    if (command) return { command, rest: argv.slice(words) };
  }
  return undefined;
}

function commandHelp(command: CliCommand): string {
  const options = Object.entries({ ...command.options, ...COMMON_OPTIONS }).map(([name, spec]) => {
    const flag = `--${name}${spec.type === "string" ? ` <${spec.valueName ?? "value"}>` : ""}`;
    const fallback = spec.default !== undefined ? ` (default: ${String(spec.default)})` : "";
    return `  ${flag.padEnd(28)} ${spec.description}${fallback}`;
  });
  return [`Usage: shaken-edge ${command.name}${command.positionals ? ` ${command.positionals}` : ""} [options]`, "", command.summary, "", "Options:", ...options].join("\n");
}

function overallHelp(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  return [
    "Usage: shaken-edge <command> [options]   (shaken-edge <command> --help for its options)",
    "",
    "STIR/SHAKEN certificates, trust anchors and PASSporTs for shaken-edge.",
    "",
    "Commands:",
    ...COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
  ].join("\n");
}

/** Runs one command line; returns the exit status (0 ok, 1 findings, 2 bad input). */
export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  if (argv[0] === "--version" || argv[0] === "-v") {
    io.stdout(`shaken-edge ${VERSION}`);
    return EXIT.ok;
  }
  if (argv.length === 0) {
    // No command is a usage mistake (a script calling the CLI with an empty variable): usage on stderr, exit 2.
    io.stderr(overallHelp());
    return EXIT.badInput;
  }
  const found = findCommand(argv);
  if (!found) {
    if (argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help") {
      io.stdout(overallHelp());
      return EXIT.ok;
    }
    const group = commandsOf(argv[0]!);
    const known = group.length > 0 ? `the ${argv[0]} commands are ${group.map((command) => command.name).join(", ")}` : "see shaken-edge --help";
    io.stderr(`shaken-edge: unknown command "${argv.slice(0, 2).join(" ")}"; ${known}`);
    return EXIT.badInput;
  }
  const { command, rest } = found;
  const options = Object.fromEntries(
    Object.entries({ ...command.options, ...COMMON_OPTIONS }).map(([name, spec]) => [
      name,
      {
        type: spec.type,
        ...(spec.short ? { short: spec.short } : {}),
        ...(spec.multiple ? { multiple: true } : {}),
        ...(spec.default !== undefined ? { default: spec.default } : {}),
      },
    ]),
  ) as ParseArgsConfig["options"];
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
  } catch (error) {
    io.stderr(`shaken-edge ${command.name}: ${(error as Error).message.split("\n")[0]}`);
    return EXIT.badInput;
  }
  if (parsed.values.help) {
    io.stdout(commandHelp(command));
    return EXIT.ok;
  }
  const extra = parsed.positionals.slice(positionalCount(command));
  if (extra.length > 0) {
    const takes = command.positionals ? `it takes ${command.positionals}` : "it takes no argument besides its options";
    io.stderr(`shaken-edge ${command.name}: unexpected argument ${JSON.stringify(extra[0])}; ${takes}`);
    return EXIT.badInput;
  }
  try {
    const output = await command.run({
      values: parsed.values as Record<string, string | boolean | string[] | undefined>,
      positionals: parsed.positionals,
      warn: (message) => io.stderr(`warning: ${message}`),
      progress: progressReporter(io.stderr, parsed.values.progress === true || io.stderrIsTerminal === true),
      write: async (text) => {
        io.stdout(text);
        await io.drained?.();
      },
    });
    if (!output.streamed) io.stdout(parsed.values.json ? JSON.stringify(output.json, null, 2) : output.text);
    return output.exitCode ?? EXIT.ok;
  } catch (error) {
    if (error instanceof CliInputError || error instanceof PkiError) {
      io.stderr(`shaken-edge ${command.name}: ${error.message}`);
      return EXIT.badInput;
    }
    throw error;
  }
}
