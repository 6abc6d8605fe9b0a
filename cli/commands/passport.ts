import "reflect-metadata";
import type { X509Crl } from "@peculiar/x509";
import { CachingCertificateSource, DEFAULT_MINIMUM_TTL_SECONDS, staticCertificateSource, type CertificateSource } from "../../src/certificate/certificate-source";
import type { TrustUse } from "../../src/certificate/trust-format";
import type { TrustMaterial, TrustSource } from "../../src/certificate/trust-store";
import { checkX5uUrl, type X5uPolicy } from "../../src/certificate/x5u-policy";
import { ConfigError, readVerifierConfig, type VerifierConfig } from "../../src/config";
import { parseIdentityHeader } from "../../src/identity/identity-header";
import { fixedClock, systemClock, type Clock } from "../../src/lib/clock";
import { canonicalizeTn, telephoneNumberDigits, UnknownCountryError } from "../../src/numbers/telephone-number";
import { decodePassport, SUPPORTED_PPT, type SupportedPpt } from "../../src/passport/passport";
import { PassportSigningError, signPassport, type SignPassportOptions } from "../../src/passport/sign";
import type { Attestation } from "../../src/verdict/verdict";
import type { Check } from "../../src/verdict/check";
import { verifierOptionsFrom } from "../../src/runtime";
import { verifyIdentity, type CallNumbers, type VerifierOptions } from "../../src/verification/verify-identity";
import { CliInputError, listOption, printableLines, requiredOption, requiredPositional, stringOption, booleanOption, type CliCommand } from "../command";
import { assertKeyMatchesCertificate, DEFAULT_PATHS, loadCertificate, loadCrl, loadPrivateKey, loadRepositoryBody } from "../inputs";
import { listAnchors } from "../trust-directory";

const ATTESTATIONS = new Set(["A", "B", "C"]);

const epochOption = (name: string, value: string | undefined): number | undefined => {
  if (value === undefined) return undefined;
  // Up to 11 digits: a 13-digit value is milliseconds, the usual slip, and is refused rather than read as year 50 000.
  if (!/^\d{1,11}$/.test(value)) throw new CliInputError(`--${name} must be epoch seconds (at most 11 digits; milliseconds are not accepted), got ${JSON.stringify(value)}`);
  return Number(value);
};

const numberList = (value: string): string[] => value.split(",").map((tn) => tn.trim()).filter(Boolean);

const passportSign: CliCommand = {
  name: "passport sign",
  summary: "Sign a SHAKEN (or div) PASSporT and print the Identity header value",
  options: {
    key: { type: "string", valueName: "file", description: "signer's P-256 private key (required)" },
    cert: { type: "string", valueName: "file", description: "signer's certificate (chain): refuses a key that does not match it" },
    x5u: { type: "string", valueName: "url", description: "where verifiers fetch the chain (required)" },
    orig: { type: "string", valueName: "tn", description: "calling number (required)" },
    dest: { type: "string", valueName: "tn[,tn]", description: "called number(s) (required)" },
    attest: { type: "string", valueName: "A|B|C", description: "attestation level (shaken)" },
    origid: { type: "string", valueName: "uuid", description: "origination id (default: random UUID)" },
    iat: { type: "string", valueName: "epoch", description: "issued-at (default: now)" },
    ppt: { type: "string", valueName: "shaken|div", description: "PASSporT type", default: "shaken" },
    div: { type: "string", valueName: "tn", description: "diverting number (div)" },
  },
  async run(context) {
    const keyPath = requiredOption(context, "key");
    const key = await loadPrivateKey(keyPath);
    const certPath = stringOption(context, "cert");
    if (certPath) await assertKeyMatchesCertificate(keyPath, key, certPath, await loadCertificate(certPath));
    const ppt = requiredOption(context, "ppt");
    if (!(SUPPORTED_PPT as readonly string[]).includes(ppt)) throw new CliInputError(`--ppt must be shaken or div`);
    const attest = stringOption(context, "attest");
    if (ppt === "shaken" && !ATTESTATIONS.has(attest ?? "")) throw new CliInputError(`--attest must be A, B or C`);
    if (ppt === "div" && !stringOption(context, "div")) throw new CliInputError(`--div <tn> is required with --ppt div`);
    const signed = await signAsCli({
      key,
      x5u: requiredOption(context, "x5u"),
      orig: requiredOption(context, "orig"),
      dest: numberList(requiredOption(context, "dest")),
      attest: attest as Attestation | undefined,
      origid: stringOption(context, "origid"),
      iat: epochOption("iat", stringOption(context, "iat")),
      ppt: ppt as SupportedPpt,
      div: stringOption(context, "div"),
    });
    return { json: signed, text: signed.identity };
  },
};

/** A claim the signer refuses is bad input, named by its flag (each claim's flag has its name). */
async function signAsCli(options: SignPassportOptions) {
  try {
    return await signPassport(options);
  } catch (error) {
    if (error instanceof PassportSigningError) throw new CliInputError(`--${error.claim} ${error.problem}`);
    throw error;
  }
}

/**
 * The trust set the CLI verifies against: the anchor directory (anchors and CRL signers) and the CRL
 * files, as the Worker gets them pushed. No directory: no anchor, as a deployment none was pushed to.
 */
export async function directoryTrustSource(trustDir: string | undefined, crlPaths: string[]): Promise<TrustSource> {
  const stored = trustDir === undefined ? [] : await listAnchors(trustDir);
  const certificates = (use: TrustUse) => stored.filter((anchor) => anchor.use === use).map((anchor) => anchor.certificate);
  const crls: X509Crl[] = await Promise.all(crlPaths.map(loadCrl));
  const material: TrustMaterial = { version: "cli", anchors: certificates("anchor"), crlSigners: certificates("crl-signer"), crls, available: true, staleBecause: null };
  return { current: async () => material };
}

function verifierConfig(context: Parameters<CliCommand["run"]>[0]): VerifierConfig {
  try {
    return readVerifierConfig({
      HOME_COUNTRY: requiredOption(context, "country"),
      FRESHNESS_SECONDS: stringOption(context, "freshness"),
      X5U_ALLOW_INSECURE_LOOPBACK: booleanOption(context, "allow-insecure-loopback") ? "true" : "false",
      CRL_MODE: stringOption(context, "crl-mode"),
      STRICT_PROFILE: booleanOption(context, "strict") ? "true" : "false",
    });
  } catch (error) {
    if (error instanceof ConfigError || error instanceof UnknownCountryError) throw new CliInputError(error.message);
    throw error;
  }
}

/**
 * Without --orig/--dest the PASSporT's own numbers stand in for the call's, so only the credential is
 * judged: as the E.164 digits the verifier reads claims as. The call's numbers given on the command line
 * are read as the service reads a call's From and To, national formats included.
 */
function callNumbers(identity: string, config: VerifierConfig, orig: string | undefined, dest: string[]): CallNumbers {
  let signed: { orig: string | null; dest: string[] } = { orig: null, dest: [] };
  try {
    const header = parseIdentityHeader(identity);
    const { claims } = decodePassport(header.jws, header);
    signed = { orig: claims.orig.tn ?? null, dest: claims.dest.tn ?? [] };
  } catch {
    // verifyIdentity reports the malformed header itself
  }
  const canonical = (tn: string, flag: string) => {
    const number = canonicalizeTn(tn, config.plan);
    if (number === null) throw new CliInputError(`--${flag} ${JSON.stringify(tn.slice(0, 40))} is not a telephone number`);
    return number;
  };
  return {
    orig: orig !== undefined ? canonical(orig, "orig") : signed.orig && telephoneNumberDigits(signed.orig),
    dest: dest.length > 0 ? dest.map((tn) => canonical(tn, "dest")) : signed.dest.flatMap((tn) => telephoneNumberDigits(tn) ?? []),
    date: null,
  };
}

/** The options every command that verifies as the service does takes (passport verify, invite verify). */
export const VERIFY_OPTIONS: CliCommand["options"] = {
  chain: { type: "string", valueName: "file", description: "use this PEM chain (or one DER certificate) instead of fetching x5u" },
  at: { type: "string", valueName: "epoch", description: "verify as of this time (default: now)" },
  "trust-dir": { type: "string", valueName: "dir", description: "trust anchors", default: DEFAULT_PATHS.trustDir },
  crl: { type: "string", valueName: "file", description: "CRL file(s) to check revocation against", multiple: true },
  country: { type: "string", valueName: "CC", description: "home country for national-format numbers", default: "KZ" },
  freshness: { type: "string", valueName: "seconds", description: "iat freshness window", default: "60" },
  "crl-mode": { type: "string", valueName: "soft|hard", description: "when no current CRL covers the signing certificate: skip the check (soft) or fail (hard)", default: "soft" },
  strict: { type: "boolean", description: "profile lint errors fail the credential" },
  "allow-insecure-loopback": { type: "boolean", description: "development: allow http://127.0.0.1 x5u" },
};

/** The verifier the service runs, from VERIFY_OPTIONS: a --chain file or the x5u fetched, the trust directory, the clock. */
export async function verifierFrom(context: Parameters<CliCommand["run"]>[0]): Promise<{ config: VerifierConfig; options: VerifierOptions }> {
  const config = verifierConfig(context);
  const at = epochOption("at", stringOption(context, "at"));
  const clock: Clock = at === undefined ? systemClock : fixedClock(at);
  const chainPath = stringOption(context, "chain");
  const chainText = chainPath ? await loadRepositoryBody(chainPath) : undefined;
  const certificates: CertificateSource = chainText
    ? staticCertificateSource(() => chainText)
    : new CachingCertificateSource({
        fetcher: (request) => fetch(request),
        limits: { timeoutMs: config.x5uFetchTimeoutMs, maxBytes: config.x5uMaxBytes },
        clock,
        sharedCache: null,
        minimumTtlSeconds: DEFAULT_MINIMUM_TTL_SECONDS,
      });
  return {
    config,
    options: verifierOptionsFrom(config, { clock, certificates, trust: await directoryTrustSource(requiredOption(context, "trust-dir"), listOption(context, "crl")) }),
  };
}

/** One line per check, as `passport verify` and `invite verify` print them. */
export const checkLines = (checks: Check[]): string[] => checks.map((check) => `${check.result.padEnd(4)}  ${check.id}${check.detail ? `  ${check.detail}` : ""}`);

const acceptedBy = (policy: X5uPolicy, x5u: string): boolean => {
  try {
    checkX5uUrl(x5u, policy);
    return true;
  } catch {
    return false;
  }
};

/**
 * `hint:` lines naming the option that would change a failure which comes from how the command was
 * run rather than from the credential: an x5u on a plain-http loopback repository, such as the one
 * `npm run dev` serves, which only --allow-insecure-loopback admits (the Worker under `npm run dev`
 * has the same switch on; it stays an explicit choice here, since the PASSporT picks the URL the CLI
 * would fetch from this machine); or a PASSporT or INVITE captured earlier, judged by its age now
 * instead of --at its own time.
 */
export function optionHints(checks: Check[], context: Parameters<CliCommand["run"]>[0], x5uPolicy: X5uPolicy): string[] {
  const failed = (id: string) => checks.find((check) => check.id === id && check.result === "fail")?.evidence ?? {};
  const hints: string[] = [];
  const { x5u } = failed("x5u.policy");
  if (typeof x5u === "string" && !x5uPolicy.allowInsecureLoopback && acceptedBy({ ...x5uPolicy, allowInsecureLoopback: true }, x5u)) {
    hints.push(`hint: ${x5u} is a development repository on loopback; add --allow-insecure-loopback to fetch it`);
  }
  const stale = failed("passport.freshness");
  const capturedAt = [stale.Date, stale.iat].find((at) => typeof at === "number");
  if (capturedAt !== undefined && stringOption(context, "at") === undefined) {
    hints.push(`hint: to judge it as of when it was sent rather than now, add --at ${capturedAt}`);
  }
  return hints;
}

const passportVerify: CliCommand = {
  name: "passport verify",
  summary: "Verify an Identity header exactly as the service does and print every check",
  positionals: '"<identity header value>"',
  options: {
    ...VERIFY_OPTIONS,
    orig: { type: "string", valueName: "tn", description: "the call's calling number (default: the PASSporT's orig)" },
    dest: { type: "string", valueName: "tn[,tn]", description: "the call's called number(s) (default: the PASSporT's dest)" },
  },
  async run(context) {
    const identity = requiredPositional(context, 0, "Identity header value").trim();
    const { config, options } = await verifierFrom(context);
    const result = await verifyIdentity(identity, callNumbers(identity, config, stringOption(context, "orig"), numberList(stringOption(context, "dest") ?? "")), options);
    const { passport: _decoded, ...json } = result;
    const text = printableLines([
      ...checkLines(result.checks),
      result.failure
        ? `${result.verstat}: ${result.failure.reasonCode} ${result.failure.reasonText} (${result.failure.reasondesc})`
        : `${result.verstat}${result.signer ? `: signed by ${result.signer.subject}${result.signer.spc ? `, SPC ${result.signer.spc}` : ""}` : ""}`,
      ...optionHints(result.checks, context, options.x5u),
    ]);
    return { json, text, exitCode: result.outcome === "verified" ? 0 : 1 };
  },
};

export const commands = [passportSign, passportVerify];
