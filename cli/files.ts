import { randomBytes } from "node:crypto";
import { access, chmod, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { CliInputError } from "./command";

const SYSTEM_ERRORS: Record<string, string> = { ENOENT: "no such file", EACCES: "permission denied", EISDIR: "is a directory", EEXIST: "already exists" };

/** A Node system error as a few words; any other error by its message. */
const describe = (error: unknown): string => {
  if (error instanceof Error && "syscall" in error && "code" in error && typeof error.code === "string") return SYSTEM_ERRORS[error.code] ?? error.code;
  return error instanceof Error ? error.message : String(error);
};

/** Private keys are readable by their owner only. */
export const PRIVATE_KEY_MODE = 0o600;

export async function readInputFile(path: string): Promise<string> {
  return new TextDecoder().decode(await readInputBytes(path));
}

/** The file's bytes, for inputs that may be binary (a DER certificate). */
export async function readInputBytes(path: string): Promise<Uint8Array<ArrayBuffer>> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (error) {
    throw new CliInputError(`${path}: cannot be read: ${describe(error)}`);
  }
}

/** Runs `parse` over a file's contents; any failure becomes a one-line error naming the file. */
export async function parseInputFile<T>(path: string, parse: (text: string, bytes: Uint8Array<ArrayBuffer>) => T | Promise<T>): Promise<T> {
  const bytes = await readInputBytes(path);
  try {
    return await parse(new TextDecoder().decode(bytes), bytes);
  } catch (error) {
    throw new CliInputError(`${path}: ${describe(error)}`);
  }
}

export const fileExists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false,
  );

export interface OutputFile {
  path: string;
  content: string;
  /** 0o600 for private keys. */
  mode?: number;
}

/**
 * Writes every file or none: refuses existing files unless `force`, writes each to a temporary
 * sibling, then renames them all into place, so a failure leaves nothing half-written.
 */
export async function writeOutputFiles(files: OutputFile[], options: { force: boolean }): Promise<void> {
  if (!options.force) {
    for (const file of files) {
      if (await fileExists(file.path)) throw new CliInputError(`${file.path}: already exists; use --force to replace it`);
    }
  }
  const staged: { temporary: string; path: string }[] = [];
  try {
    for (const file of files) {
      await mkdir(dirname(file.path), { recursive: true });
      const temporary = join(dirname(file.path), `.${basename(file.path)}.${randomBytes(6).toString("hex")}.tmp`);
      await writeFile(temporary, file.content, { mode: file.mode ?? 0o644, flag: "wx" });
      if (file.mode !== undefined) await chmod(temporary, file.mode);
      staged.push({ temporary, path: file.path });
    }
  } catch (error) {
    await Promise.all(staged.map((file) => rm(file.temporary, { force: true })));
    throw new CliInputError(`${files[staged.length]?.path ?? "output"}: cannot be written: ${describe(error)}`);
  }
  for (const file of staged) await rename(file.temporary, file.path);
}
