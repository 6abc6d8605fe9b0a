import { printable } from "../src/lib/printable";

/**
 * The shape of one CLI command. A new command is a file under cli/commands/ exporting `commands`
 * and one line in cli/registry.ts.
 */
export interface OptionSpec {
  type: "string" | "boolean";
  description: string;
  /** Shown in help as `--name <valueName>`. */
  valueName?: string;
  /** A one-letter alias: `-h`. */
  short?: string;
  multiple?: boolean;
  default?: string | boolean;
}

export interface CommandOutput {
  /** What a person reads (stdout). */
  text: string;
  /** What `--json` prints instead. */
  json: unknown;
  /** 0 unless the command found a problem in what it examined (lint errors, failed verification). */
  exitCode?: number;
  /** The command already wrote its output through `context.write` (one line per record of a long run): nothing is left to print. */
  streamed?: boolean;
}

export interface CommandContext {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  /** Warnings go to stderr immediately, in human and JSON mode alike. */
  warn(message: string): void;
  /**
   * Reports how far a long operation is (`imported 1200/10000 rules`) on stderr, at most about once
   * a second and always for the last item; silent unless stderr is a terminal or `--progress` is given.
   */
  progress(done: number, total: number, what: string): void;
  /** Writes to stdout now, for output too long to hold until the end; resolves when stdout can take more. */
  write(text: string): Promise<void>;
}

export interface CliCommand {
  /** One or two words: `cert issue`, `key new`. */
  name: string;
  summary: string;
  /** Positional arguments, for help: `<file>`. */
  positionals?: string;
  options: Record<string, OptionSpec>;
  /** Long-running commands (repo serve) print their own output and resolve when done. */
  run(context: CommandContext): Promise<CommandOutput>;
}

/**
 * Human output of text that someone else wrote (a calling peer's From, a PASSporT's claims, the subject of
 * a certificate a repository served): one printed line per line given, each control character shown as
 * its `\u` escape (src/lib/printable.ts), so that nothing in a value can rewrite or add to what is printed.
 */
export const printableLines = (lines: string[]): string => lines.map(printable).join("\n");

/** For commands that call `context.progress`: forces the progress lines when stderr is not a terminal. */
export const PROGRESS_OPTION: OptionSpec = { type: "boolean", description: "show progress on stderr (default when stderr is a terminal)" };

/** Wrong usage or bad input: a one-line message and exit status 2. */
export class CliInputError extends Error {
  readonly code = "ERR_CLI_INPUT";
}

export const stringOption = (context: CommandContext, name: string): string | undefined => {
  const value = context.values[name];
  return typeof value === "string" ? value : undefined;
};

export const requiredOption = (context: CommandContext, name: string): string => {
  const value = stringOption(context, name);
  if (value === undefined || value === "") throw new CliInputError(`--${name} is required`);
  return value;
};

export const booleanOption = (context: CommandContext, name: string): boolean => context.values[name] === true;

export const listOption = (context: CommandContext, name: string): string[] => {
  const value = context.values[name];
  return Array.isArray(value) ? value : typeof value === "string" ? [value] : [];
};

export const requiredPositional = (context: CommandContext, index: number, name: string): string => {
  const value = context.positionals[index];
  if (value === undefined) throw new CliInputError(`missing ${name}`);
  return value;
};
