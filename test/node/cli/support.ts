import "reflect-metadata";
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../../cli/main";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process, capturing what it prints. */
export async function cli(...argv: string[]): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(argv, { stdout: (text) => (stdout += `${text}\n`), stderr: (text) => (stderr += `${text}\n`) });
  return { code, stdout, stderr };
}

export async function cliJson<T>(...argv: string[]): Promise<{ code: number; json: T }> {
  const run = await cli(...argv, "--json");
  return { code: run.code, json: JSON.parse(run.stdout) as T };
}

export const temporaryDirectory = (): string => mkdtempSync(join(tmpdir(), "shaken-edge-test-"));

export const openssl = (...args: string[]): string => execFileSync("openssl", args, { encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });

export interface CliPki {
  dir: string;
  root: string;
  intermediate: string;
  crl: string;
  trustDir: string;
  key: string;
  /** Leaf + intermediate. */
  chain: string;
}

/** A development PKI built only with CLI commands, as an operator would. */
export async function issueWithCli(spc = "818H"): Promise<CliPki> {
  const dir = temporaryDirectory();
  const path = (name: string) => join(dir, name);
  const steps = [
    ["ca", "init", "--dir", path("ca"), "--crl", path("crl/intermediate.crl.pem")],
    ["key", "new", "--out", path("sp.key.pem")],
    ["csr", "new", "--key", path("sp.key.pem"), "--spc", spc, "--org", "Test SP", "--country", "KZ", "--out", path("sp.csr.pem")],
    ["cert", "issue", "--csr", path("sp.csr.pem"), "--ca-dir", path("ca"), "--chain", "--out", path("sp.pem")],
    ["trust", "add", path("ca/root.pem"), "--trust-dir", path("trust"), "--source", "dev"],
  ];
  for (const step of steps) {
    const run = await cli(...step);
    if (run.code !== 0) throw new Error(`${step.join(" ")}: ${run.stderr}`);
  }
  return {
    dir,
    root: path("ca/root.pem"),
    intermediate: path("ca/intermediate.pem"),
    crl: path("crl/intermediate.crl.pem"),
    trustDir: path("trust"),
    key: path("sp.key.pem"),
    chain: path("sp.pem"),
  };
}
