import "reflect-metadata";
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { startCertificateRepository } from "../../../cli/repository";
import { cli, cliJson, issueWithCli, openssl, type CliPki } from "./support";

let pki: CliPki;
beforeAll(async () => {
  pki = await issueWithCli("818H");
});

const IAT = 1_795_800_000;
const X5U = "https://cr.example.net/sp.pem";

/**
 * An Identity header built with openssl and the shell only (RFC 8225 by hand): base64url segments,
 * `openssl dgst -sha256 -sign`, then the DER ECDSA signature turned into raw R||S from asn1parse.
 */
const OPENSSL_IDENTITY_SCRIPT = String.raw`
set -euo pipefail
b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
header=$(printf '%s' '{"alg":"ES256","ppt":"shaken","typ":"passport","x5u":"'"$X5U"'"}' | b64url)
claims=$(printf '%s' '{"attest":"A","dest":{"tn":["77012345678"]},"iat":'"$IAT"',"orig":{"tn":"77272501234"},"origid":"123e4567-e89b-12d3-a456-426655440000"}' | b64url)
printf '%s.%s' "$header" "$claims" > "$WORK/signing-input"
openssl dgst -sha256 -sign "$KEY" -out "$WORK/signature.der" "$WORK/signing-input"
integers=$(openssl asn1parse -inform DER -in "$WORK/signature.der" | grep INTEGER | sed 's/.*://')
raw=""
for integer in $integers; do raw="$raw$(printf '%064s' "$(printf '%s' "$integer" | sed 's/^0*\(.\{64\}\)$/\1/')" | tr ' ' '0')"; done
signature=$(printf '%s' "$raw" | xxd -r -p | b64url)
printf '%s.%s.%s;info=<%s>;alg=ES256;ppt=shaken' "$header" "$claims" "$signature" "$X5U"
`;

const opensslIdentity = () =>
  execFileSync("bash", ["-c", OPENSSL_IDENTITY_SCRIPT], { encoding: "utf8", env: { ...process.env, X5U, IAT: String(IAT), KEY: pki.key, WORK: pki.dir } });

const verify = (identity: string, ...extra: string[]) =>
  cliJson<{ outcome: string; verstat: string; failure: { reasonCode: number; checkId: string } | null }>(
    "passport", "verify", identity, "--chain", pki.chain, "--trust-dir", pki.trustDir, "--at", String(IAT + 5), ...extra,
  );

describe("passport verify", () => {
  it("verifies an Identity header built with openssl and the shell (no jose)", async () => {
    const identity = opensslIdentity();
    expect(identity).toMatch(/^[\w-]+\.[\w-]+\.[\w-]{86};info=<https:\/\/cr\.example\.net\/sp\.pem>;alg=ES256;ppt=shaken$/);
    const { code, json } = await verify(identity, "--orig", "77272501234", "--dest", "77012345678");
    expect(json).toMatchObject({ outcome: "verified", verstat: "TN-Validation-Passed", failure: null });
    expect(code).toBe(0);
  });

  it("verifies what passport sign produced, and fails with one changed byte of the signature", async () => {
    const signed = await cliJson<{ identity: string }>(
      "passport", "sign", "--key", pki.key, "--cert", pki.chain, "--x5u", X5U, "--orig", "77272501234", "--dest", "77012345678", "--attest", "B", "--iat", String(IAT),
    );
    expect(signed.code).toBe(0);
    expect((await verify(signed.json.identity)).json.outcome).toBe("verified");
    const jwsEnd = signed.json.identity.indexOf(";");
    const flipped = signed.json.identity[jwsEnd - 10] === "A" ? "B" : "A";
    const tampered = `${signed.json.identity.slice(0, jwsEnd - 10)}${flipped}${signed.json.identity.slice(jwsEnd - 9)}`;
    const { code, json } = await verify(tampered);
    expect(json.failure).toMatchObject({ reasonCode: 438, checkId: "passport.signature" });
    expect(code).toBe(1);
  });

  it("takes a DER certificate for --chain as that certificate, where a repository must serve PEM", async () => {
    const signed = await cliJson<{ identity: string }>("passport", "sign", "--key", pki.key, "--cert", pki.chain, "--x5u", X5U, "--orig", "77272501234", "--dest", "77012345678", "--attest", "A", "--iat", String(IAT));
    const der = join(pki.dir, "sp-leaf.der");
    openssl("x509", "-in", pki.chain, "-outform", "DER", "-out", der);
    const { json } = await cliJson<{ checks: { id: string; result: string; evidence?: Record<string, unknown> }[]; failure: { checkId: string } | null }>(
      "passport", "verify", signed.json.identity, "--chain", der, "--trust-dir", pki.trustDir, "--at", String(IAT + 5),
    );
    expect(json.checks).toContainEqual(expect.objectContaining({ id: "x5u.fetch", result: "pass", evidence: { certificates: 1 } }));
    // The leaf alone does not reach the root without its intermediate: the chain step says so.
    expect(json.failure).toMatchObject({ checkId: "certificate.chain" });
  });

  it("prints every check in human output", async () => {
    const run = await cli("passport", "verify", opensslIdentity(), "--chain", pki.chain, "--trust-dir", pki.trustDir, "--at", String(IAT));
    expect(run.stdout).toMatch(/^pass {2}passport\.signature$/m);
    expect(run.stdout).toMatch(/TN-Validation-Passed: signed by .*SHAKEN 818H, SPC 818H/);
  });

  it("fetches the x5u from a loopback repository when development loopback is allowed", async () => {
    const repository = await startCertificateRepository({ dir: pki.dir, port: 0, host: "127.0.0.1" });
    try {
      const response = await fetch(`${repository.url}/sp.pem`);
      expect(response.headers.get("content-type")).toBe("application/pem-certificate-chain");
      expect(response.headers.get("cache-control")).toBe("max-age=86400");
      expect((await fetch(`${repository.url}/..%2Fsp.key.pem`)).status).toBe(404);
      const signed = await cliJson<{ identity: string }>(
        "passport", "sign", "--key", pki.key, "--x5u", `${repository.url}/sp.pem`, "--orig", "77272501234", "--dest", "77012345678", "--attest", "A",
      );
      const args = ["passport", "verify", signed.json.identity, "--trust-dir", pki.trustDir, "--json"];
      expect(JSON.parse((await cli(...args)).stdout).failure.checkId).toBe("x5u.policy");
      const allowed = JSON.parse((await cli(...args, "--allow-insecure-loopback")).stdout);
      expect(allowed.outcome).toBe("verified");
    } finally {
      await repository.close();
    }
  });

  it("signs numbers as the E.164 digits the verifier reads them as, visual separators stripped (RFC 8224 §8.3)", async () => {
    const { json } = await cliJson<{ identity: string }>(
      "passport", "sign", "--key", pki.key, "--x5u", X5U, "--orig", "+7 727 250-12-34", "--dest", "+7 (701) 234-56.78, +49 30 123456", "--attest", "A", "--iat", String(IAT),
    );
    const claims = JSON.parse(Buffer.from(json.identity.split(".")[1]!, "base64url").toString());
    expect(claims).toMatchObject({ orig: { tn: "77272501234" }, dest: { tn: ["77012345678", "4930123456"] } });
    expect((await verify(json.identity, "--orig", "+77272501234", "--dest", "+4930123456")).json.outcome).toBe("verified");
  });

  it("signs a div PASSporT (RFC 8946) with ppt=div", async () => {
    const { json } = await cliJson<{ identity: string }>(
      "passport", "sign", "--key", pki.key, "--x5u", X5U, "--orig", "77272501234", "--dest", "77012345679", "--ppt", "div", "--div", "77012345678", "--iat", String(IAT),
    );
    expect(json.identity).toMatch(/;ppt=div$/);
    const claims = JSON.parse(Buffer.from(json.identity.split(".")[1]!, "base64url").toString());
    expect(claims).toEqual({ dest: { tn: ["77012345679"] }, div: { tn: "77012345678" }, iat: IAT, orig: { tn: "77272501234" } });
    expect((await verify(json.identity)).json.outcome).toBe("verified");
  });
});

describe("invite verify", () => {
  /** An INVITE as an SBC receives it, carrying `identity`, from `caller` to 77012345678. */
  const inviteFile = (name: string, identity: string, fromLines = ["<sip:+77272501234@carrier.example;user=phone>;tag=1"]) => {
    const path = join(pki.dir, `${name}.sip`);
    const lines = [
      "INVITE sip:+77012345678@operator.example;user=phone SIP/2.0",
      "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776",
      ...fromLines.map((value) => `From: ${value}`),
      "To: <sip:+77012345678@operator.example;user=phone>",
      "Call-ID: a84b4c76e66710@carrier.example",
      "CSeq: 1 INVITE",
      `Identity: ${identity}`,
      "Content-Length: 0",
      "",
      "",
    ];
    writeFileSync(path, lines.join("\r\n"));
    return path;
  };
  const signed = async () =>
    (await cliJson<{ identity: string }>("passport", "sign", "--key", pki.key, "--cert", pki.chain, "--x5u", X5U, "--orig", "77272501234", "--dest", "77012345678", "--attest", "A", "--iat", String(IAT))).json.identity;
  const verifyInvite = (path: string) => cliJson<{ verstat: string; attest: string | null; failure: { reasonCode: number; checkId: string } | null; call: { cli: unknown; cliSource: string; called: string[] } }>(
    "invite", "verify", path, "--chain", pki.chain, "--trust-dir", pki.trustDir, "--at", String(IAT + 5),
  );

  it("verifies a captured INVITE's Identity header against the INVITE's own numbers", async () => {
    const { code, json } = await verifyInvite(inviteFile("good", await signed()));
    expect(json).toMatchObject({ verstat: "TN-Validation-Passed", attest: "A", failure: null, call: { cliSource: "from", called: ["77012345678"] } });
    expect(code).toBe(0);
  });

  it("fails, with the check that failed, when the INVITE presents another calling number", async () => {
    const { code, json } = await verifyInvite(inviteFile("other-caller", await signed(), ["<sip:+77272509999@carrier.example>;tag=1"]));
    expect(json.failure).toMatchObject({ reasonCode: 438, checkId: "passport.orig" });
    expect(code).toBe(1);
  });

  it("judges an INVITE with two From headers as the service does: it presents no calling number", async () => {
    const { code, json } = await verifyInvite(inviteFile("two-from", await signed(), ["<sip:+77019999999@c.example>;tag=1", "<sip:+77272501234@c.example>;tag=2"]));
    expect(json).toMatchObject({ failure: { checkId: "passport.orig" }, call: { cli: { tn: null, unreadable: "more than one From header" } } });
    expect(code).toBe(1);
  });

  it("refuses, as bad input, a message the service would refuse", async () => {
    const path = join(pki.dir, "options.sip");
    writeFileSync(path, "OPTIONS sip:+77012345678@operator.example SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776\r\n\r\n");
    const run = await cli("invite", "verify", path, "--trust-dir", pki.trustDir);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/options\.sip: SIP request is OPTIONS; only INVITE is evaluated/);
  });
});

describe("a failure the command line caused names the option that would help (issue 23 item 8)", () => {
  const LOOPBACK_X5U = "http://127.0.0.1:8788/sp.pem";
  const LOOPBACK_HINT = `hint: ${LOOPBACK_X5U} is a development repository on loopback; add --allow-insecure-loopback to fetch it`;
  const signedNow = async (x5u: string) =>
    (await cliJson<{ identity: string }>("passport", "sign", "--key", pki.key, "--x5u", x5u, "--orig", "77272501234", "--dest", "77012345678", "--attest", "A")).json.identity;

  it("passport verify: an x5u on the plain-http loopback repository `npm run dev` serves names --allow-insecure-loopback", async () => {
    const run = await cli("passport", "verify", await signedNow(LOOPBACK_X5U), "--trust-dir", pki.trustDir);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^fail {2}x5u\.policy {2}x5u scheme 'http:' is not allowed; only https$/m);
    expect(run.stdout.trimEnd().split("\n").at(-1)).toBe(LOOPBACK_HINT);
  });

  it("passport verify: an x5u that the development switch would not admit either gets no hint", async () => {
    for (const x5u of ["http://cr.example.net/sp.pem", "http://10.0.0.1:8788/sp.pem", "https://127.0.0.1:8788/sp.pem?x=1"]) {
      const run = await cli("passport", "verify", await signedNow(x5u), "--trust-dir", pki.trustDir);
      expect(run.stdout, x5u).toMatch(/^fail {2}x5u\.policy/m);
      expect(run.stdout, x5u).not.toContain("hint:");
    }
  });

  it("passport verify: a PASSporT judged by its age now names --at with its iat, unless --at was given", async () => {
    const { json } = await cliJson<{ identity: string }>("passport", "sign", "--key", pki.key, "--x5u", X5U, "--orig", "77272501234", "--dest", "77012345678", "--attest", "A", "--iat", String(IAT));
    const stale = await cli("passport", "verify", json.identity, "--chain", pki.chain, "--trust-dir", pki.trustDir);
    expect(stale.stdout).toMatch(/^fail {2}passport\.freshness {2}iat is \d+ s old/m);
    expect(stale.stdout.trimEnd().split("\n").at(-1)).toBe(`hint: to judge it as of when it was sent rather than now, add --at ${IAT}`);
    const then = await cli("passport", "verify", json.identity, "--chain", pki.chain, "--trust-dir", pki.trustDir, "--at", String(IAT));
    expect([then.code, then.stdout.includes("hint:")]).toEqual([0, false]);
    // A time given and still too late is the person's choice: no hint to add what is there.
    const chosen = await cli("passport", "verify", json.identity, "--chain", pki.chain, "--trust-dir", pki.trustDir, "--at", String(IAT + 3600));
    expect(chosen.stdout).toMatch(/^fail {2}passport\.freshness/m);
    expect(chosen.stdout).not.toContain("hint:");
  });

  it("invite verify: the same hint for an Identity header whose x5u is the loopback repository", async () => {
    const path = join(pki.dir, "loopback.sip");
    const identity = await signedNow(LOOPBACK_X5U);
    writeFileSync(path, `INVITE sip:+77012345678@op.example SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\nFrom: <sip:+77272501234@gw.example>;tag=1\r\nTo: <sip:+77012345678@op.example>\r\nCall-ID: 1@gw\r\nCSeq: 1 INVITE\r\nIdentity: ${identity}\r\nContent-Length: 0\r\n\r\n`);
    const run = await cli("invite", "verify", path, "--trust-dir", pki.trustDir);
    expect(run.code).toBe(1);
    expect(run.stdout.trimEnd().split("\n").at(-1)).toBe(LOOPBACK_HINT);
  });
});
