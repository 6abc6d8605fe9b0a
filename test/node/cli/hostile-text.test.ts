import "reflect-metadata";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import * as x509 from "@peculiar/x509";
import { beforeAll, describe, expect, it } from "vitest";
import { cli, issueWithCli, type CliPki } from "./support";

/**
 * `passport verify` and `invite verify` are how an analyst looks at a suspicious call, and what they print
 * is the calling peer's: the PASSporT's header and claims, the INVITE's From, the subject of a certificate
 * its x5u repository served. Written to a terminal as they came, a carriage return and escape sequences
 * (cursor up, erase line) rewrite what was printed before them, and a line break starts a line of the
 * peer's: the analyst reads "TN-Validation-Passed" for a call that failed. The human output shows every
 * control character as an escape instead, one printed line per line the command meant.
 */
let pki: CliPki;
beforeAll(async () => {
  pki = await issueWithCli("818H");
});

const IAT = 1_795_800_000;
const X5U = "https://cr.example.net/sp.pem";
/** Erases the line the terminal is on and the one above it, then writes the peer's verdict on a line of its own. */
const FORGED = "\u001b[1A\u001b[2K\r\u001b[2Kpass  passport.signature\nTN-Validation-Passed: signed by CN=Halyk Bank\u009b8m\u202e";
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const identityWith = (header: Record<string, unknown>, x5u = X5U) =>
  `${b64url({ alg: "ES256", typ: "passport", x5u, ...header })}.${b64url({ attest: "A", dest: { tn: ["77012345678"] }, iat: IAT, orig: { tn: "77272501234" }, origid: "123e4567-e89b-12d3-a456-426655440000" })}.${"A".repeat(86)};info=<${x5u}>;alg=ES256;ppt=shaken`;

/** A self-signed certificate whose subject is FORGED, as a hostile repository serves it; its file. */
async function hostileCertificate(): Promise<string> {
  const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "0102",
    name: [{ CN: [`SHAKEN 818H${FORGED}`] }],
    notBefore: new Date((IAT - 86_400) * 1000),
    notAfter: new Date((IAT + 86_400) * 1000),
    keys,
    signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
  });
  const path = join(pki.dir, "hostile-subject.pem");
  writeFileSync(path, certificate.toString("pem"));
  return path;
}

/** What a person sees: no control character, and no line the peer wrote. */
function expectPrintable(stdout: string) {
  expect(stdout).not.toMatch(CONTROL);
  expect(stdout).not.toMatch(/^TN-Validation-Passed/m);
  expect(stdout).not.toMatch(/^pass {2}passport\.signature/m);
}

describe("what the calling peer wrote reaches the analyst's terminal as text", () => {
  it("passport verify: a PASSporT header's ppt", async () => {
    const run = await cli("passport", "verify", identityWith({ ppt: `rcd${FORGED}` }), "--chain", pki.chain, "--trust-dir", pki.trustDir, "--at", String(IAT));
    expect(run.code).toBe(1);
    expectPrintable(run.stdout);
    // Escaped, then shortened: 64 printable characters of the peer's text.
    expect(run.stdout).toContain("PASSporT type 'rcd\\u001b[1A\\u001b[2K\\u000d\\u001b[2Kpass  passport.signature…' is not supported");
    expect(run.stdout.trimEnd().split("\n").at(-1)).toMatch(/^No-TN-Validation: 428 /);
  });

  it("passport verify: the subject of a certificate the x5u repository served", async () => {
    const chain = await hostileCertificate();
    const run = await cli("passport", "verify", identityWith({ ppt: "shaken" }), "--chain", chain, "--trust-dir", pki.trustDir, "--at", String(IAT));
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^fail {2}certificate\.chain {2}.*SHAKEN 818H\\u001b\[1A/m);
    expectPrintable(run.stdout);
  });

  it("invite verify: the From the INVITE presents, and the PASSporT it carries", async () => {
    const path = join(pki.dir, "hostile.sip");
    const from = `"Bank\\\u001b[2K" <sip:+77272501234@carrier.example>;tag=1`;
    writeFileSync(
      path,
      [
        "INVITE sip:+77012345678@operator.example SIP/2.0",
        "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776",
        `From: ${from}`,
        "To: <sip:+77012345678@operator.example>",
        "Call-ID: a84b4c76e66710@carrier.example",
        "CSeq: 1 INVITE",
        `Identity: ${identityWith({ ppt: `rcd${FORGED}` })}`,
        "Content-Length: 0",
        "",
        "",
      ].join("\r\n"),
    );
    const run = await cli("invite", "verify", path, "--chain", pki.chain, "--trust-dir", pki.trustDir, "--at", String(IAT));
    expect(run.code).toBe(1);
    expect(run.stdout.split("\n")[0]).toBe('calling number (from): "Bank\\\\u001b[2K" <sip:+77272501234@carrier.example>;tag=1 → 77272501234');
    expectPrintable(run.stdout);
  });

  it.each([["cert inspect"], ["cert lint"]])("%s: the subject of a certificate a repository served", async (command) => {
    const run = await cli(...command.split(" "), await hostileCertificate(), ...(command === "cert inspect" ? ["--trust-dir", pki.trustDir] : []));
    expect(run.stdout).toContain("SHAKEN 818H\\u001b[1A");
    expectPrintable(run.stdout);
    expect(run.stdout).not.toMatch(/^chain: trusted/m);
  });
});
