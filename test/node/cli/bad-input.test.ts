import "reflect-metadata";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { cli, issueWithCli, temporaryDirectory, type CliPki } from "./support";

let pki: CliPki;
let other: CliPki;
beforeAll(async () => {
  [pki, other] = await Promise.all([issueWithCli("818H"), issueWithCli("709J")]);
});

/** Exit 2 and exactly one line on stderr that names the file (or option) and the problem. */
async function expectOneLineError(argv: string[], ...mentions: (string | RegExp)[]) {
  const run = await cli(...argv);
  expect(run.code).toBe(2);
  const lines = run.stderr.trim().split("\n");
  expect(lines).toHaveLength(1);
  for (const mention of mentions) expect(lines[0]).toMatch(mention);
  expect(run.stdout).toBe("");
}

describe("bad input: one line, exit 2, nothing written", () => {
  it("an argument a command does not take, rather than silently ignoring it", async () => {
    await expectOneLineError(["cert", "lint", pki.chain, pki.root], "cert lint", `unexpected argument ${JSON.stringify(pki.root)}`, "it takes <file|dir>");
    await expectOneLineError(["trust", "list", "--trust-dir", pki.trustDir, "extra"], /unexpected argument "extra"; it takes no argument/);
  });

  it("a command group without its command, or with one it lacks, names the group's commands", async () => {
    await expectOneLineError(["cert"], /unknown command "cert"; the cert commands are cert issue, cert inspect, cert lint$/);
    await expectOneLineError(["passport", "forge"], /unknown command "passport forge"; the passport commands are .*passport verify/);
    await expectOneLineError(["nonsense"], /unknown command "nonsense"; see shaken-edge --help/);
  });

  it("epoch seconds of any length up to 11 digits, never milliseconds", async () => {
    await expectOneLineError(["passport", "verify", "x", "--trust-dir", pki.trustDir, "--at", String(Date.now())], /--at must be epoch seconds \(at most 11 digits; milliseconds are not accepted\)/);
    const early = await cli("passport", "verify", "x", "--trust-dir", pki.trustDir, "--at", "32312341");
    expect([early.code, early.stdout]).toEqual([1, expect.stringContaining("identity.syntax")]);
  });

  it("an unreadable file", async () => {
    await expectOneLineError(["cert", "lint", "/nonexistent/leaf.pem"], "/nonexistent/leaf.pem", /no such file/);
  });

  it("a PEM of the wrong type", async () => {
    await expectOneLineError(["cert", "lint", pki.key], pki.key, /found a PRIVATE KEY PEM block, expected CERTIFICATE/);
    const out = join(pki.dir, "never.csr.pem");
    await expectOneLineError(["csr", "new", "--key", pki.chain, "--spc", "818H", "--org", "O", "--country", "KZ", "--out", out], pki.chain, /expected PRIVATE KEY/);
    expect(existsSync(out)).toBe(false);
  });

  it("a key that does not match the certificate (Asterisk #907)", async () => {
    await expectOneLineError(
      ["passport", "sign", "--key", other.key, "--cert", pki.chain, "--x5u", "https://cr.example.net/sp.pem", "--orig", "1", "--dest", "2", "--attest", "A"],
      other.key, pki.chain, /does not match/,
    );
  });

  it("a number passport sign would sign as no telephone number, named by its flag", async () => {
    const sign = ["passport", "sign", "--key", pki.key, "--x5u", "https://cr.example.net/sp.pem", "--attest", "A"];
    await expectOneLineError([...sign, "--orig", "abc", "--dest", "77012345678"], /^shaken-edge passport sign: --orig "abc" is not a telephone number: 1 to 15 digits/);
    await expectOneLineError([...sign, "--orig", "7".repeat(16), "--dest", "77012345678"], /--orig "7{16}" is not a telephone number/);
    await expectOneLineError([...sign, "--orig", "77272501234", "--dest", "77012345678,+7 701 x"], /--dest "\+7 701 x" is not a telephone number/);
    await expectOneLineError([...sign, "--orig", "77272501234", "--dest", ","], /--dest needs at least one telephone number/);
    await expectOneLineError([...sign, "--orig", "77272501234", "--dest", "77012345678", "--ppt", "div", "--div", "sip:bob@example.com"], /--div "sip:bob@example.com" is not a telephone number/);
  });

  it("a call number passport verify cannot read", async () => {
    await expectOneLineError(["passport", "verify", "x", "--trust-dir", pki.trustDir, "--orig", "abc"], /--orig "abc" is not a telephone number/);
    await expectOneLineError(["passport", "verify", "x", "--trust-dir", pki.trustDir, "--dest", "77012345678,bob"], /--dest "bob" is not a telephone number/);
  });

  /** An INVITE the SIP parser takes, without an Identity header. */
  const unsignedInvite = () => {
    const invite = join(pki.dir, "unsigned.sip");
    writeFileSync(invite, "INVITE sip:+77012345678@op.example SIP/2.0\r\nFrom: <sip:+77272501234@gw.example>;tag=1\r\nTo: <sip:+77012345678@op.example>\r\nCall-ID: 1@gw\r\nCSeq: 1 INVITE\r\n\r\n");
    return invite;
  };

  it("a --trust-dir that does not exist, wherever the CLI takes one, instead of an empty trust set", async () => {
    const missing = join(pki.dir, "no-such-trust");
    const commands = [["passport", "verify", "x"], ["invite", "verify", unsignedInvite()], ["cert", "inspect", pki.chain], ["trust", "list"], ["trust", "export"], ["trust", "push"], ["trust", "remove", "0123456789abcdef"]];
    for (const argv of commands) await expectOneLineError([...argv, "--trust-dir", missing], `${missing}: no such trust-anchor directory (--trust-dir)`);
    expect(existsSync(missing)).toBe(false);
  });

  it("a --crl file that does not exist, for passport verify and invite verify", async () => {
    const missing = join(pki.dir, "no-such.crl.pem");
    for (const argv of [["passport", "verify", "x"], ["invite", "verify", unsignedInvite()]]) {
      await expectOneLineError([...argv, "--trust-dir", pki.trustDir, "--crl", pki.crl, "--crl", missing], `${missing}: cannot be read: no such file`);
    }
  });

  it("an SPC with characters outside [A-Z0-9]", async () => {
    const out = join(pki.dir, "lower.csr.pem");
    await expectOneLineError(["csr", "new", "--key", pki.key, "--spc", "818h", "--org", "O", "--country", "KZ", "--out", out], /SPC "818h" is invalid/, /\[A-Z0-9\]/);
    expect(existsSync(out)).toBe(false);
  });

  it("an existing key without --force, which stays untouched", async () => {
    const before = readFileSync(pki.key, "utf8");
    await expectOneLineError(["key", "new", "--out", pki.key], pki.key, /already exists; use --force/);
    expect(readFileSync(pki.key, "utf8")).toBe(before);
    expect((await cli("key", "new", "--out", pki.key, "--force")).code).toBe(0);
    expect(readFileSync(pki.key, "utf8")).not.toBe(before);
  });

  it("a CA directory over existing files writes none of them, and leaves no temporary files", async () => {
    const dir = temporaryDirectory();
    writeFileSync(join(dir, "intermediate.pem"), "keep");
    await expectOneLineError(["ca", "init", "--dir", dir, "--crl", join(dir, "crl.pem")], join(dir, "intermediate.pem"));
    expect(readdirSync(dir)).toEqual(["intermediate.pem"]);
  });

  it("an unknown option or command", async () => {
    await expectOneLineError(["cert", "lint", "--frobnicate"], /frobnicate/);
    await expectOneLineError(["cert", "frob"], /unknown command/);
  });

  it("a missing required option", async () => {
    await expectOneLineError(["key", "new"], /--out is required/);
  });
});

describe("help", () => {
  it("every command answers --help with its usage", async () => {
    const overall = await cli("--help");
    const commands = ["ca init", "key new", "csr new", "cert issue", "cert inspect", "cert lint", "crl revoke", "crl show", "crl push", "crl list", "crl remove", "trust add", "trust list", "trust remove", "trust export", "trust push", "trust import-stipa", "passport sign", "passport verify", "invite verify", "repo serve"];
    for (const command of commands) {
      expect(overall.stdout).toContain(command);
      const help = await cli(...command.split(" "), "--help");
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: shaken-edge ${command}`);
    }
  });

  it("without any argument prints the usage on stderr and exits 2, as for any other usage mistake", async () => {
    const run = await cli();
    expect(run).toMatchObject({ code: 2, stdout: "", stderr: (await cli("--help")).stdout });
  });

  it("answers -h as --help, and --version with the package's version", async () => {
    expect((await cli("-h")).stdout).toBe((await cli("--help")).stdout);
    expect((await cli("cert", "lint", "-h")).stdout).toContain("Usage: shaken-edge cert lint <file|dir>");
    const version = JSON.parse(readFileSync(join(import.meta.dirname, "../../../package.json"), "utf8")) as { version: string };
    expect(await cli("--version")).toMatchObject({ code: 0, stdout: `shaken-edge ${version.version}\n` });
  });
});

describe("the bin", () => {
  const bin = join(import.meta.dirname, "../../../bin/shaken-edge.js");

  it("runs the CLI under Node: help exits 0, bad input exits 2 with one line", () => {
    expect(execFileSync(process.execPath, [bin, "cert", "lint", "--help"], { encoding: "utf8" })).toContain("Usage: shaken-edge cert lint <file|dir>");
    let failure: { status: number; stderr: string } | undefined;
    try {
      execFileSync(process.execPath, [bin, "cert", "lint", "/nonexistent.pem"], { stdio: "pipe", encoding: "utf8" });
    } catch (error) {
      failure = error as { status: number; stderr: string };
    }
    expect(failure?.status).toBe(2);
    expect(failure?.stderr).toBe("shaken-edge cert lint: /nonexistent.pem: cannot be read: no such file\n");
  });
});
