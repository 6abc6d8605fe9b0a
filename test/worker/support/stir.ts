import "../provided-context";
import { env } from "cloudflare:workers";
import { beforeEach, inject, vi } from "vitest";
import { createApp } from "../../../src/app";
import { CRLS_KEY, TRUST_ANCHORS_KEY, type CrlDocument, type TrustAnchorDocument } from "../../../src/certificate/trust-format";
import { fixedClock } from "../../../src/lib/clock";
import type { RuntimeOverrides } from "../../../src/runtime";
import { signPassport, type SignPassportOptions } from "../../../src/passport/sign";
import {
  exportPrivateKeyPem,
  generateKeyPair,
  issueShakenCertificate,
  loadSigningAuthority,
  type KeyType,
  type ProfileDeviations,
  type SigningAuthority,
} from "../../../src/pki";
import { AsnConvert } from "@peculiar/asn1-schema";
import { id_pe_JWTClaimConstraints, JWTClaimConstraints, JWTClaimNames, JWTClaimPermittedValues, JWTClaimPermittedValuesList } from "@peculiar/asn1-rfc8226";
import { Extension, type X509Certificate } from "@peculiar/x509";
import { ENHANCED_JWT_CLAIM_CONSTRAINTS_OID, EnhancedJWTClaimConstraints, JWTClaimValues, JWTClaimValuesList } from "../../../src/certificate/claim-constraints";
import type { Registration } from "./registration";
import { sbcAuth } from "./auth";

/** The fixture PKI built by our own issuing code in globalSetup (test/setup/pki-fixtures.ts). */
export const pki = inject("pki");
export const repositoryUrl = inject("repositoryUrl");

/** The moment the fixture calls happen: 2025-11-28T00:00:00Z, inside every fixture certificate's validity. */
export const IAT = 1_764_288_000;
export const CALLER = "77272501234";
export const CALLEE = "77012345678";

/** Puts a trust set into KV: anchors (default: the fixture root), CRL signers (`trust add --crl-signer`) and CRLs. */
export async function installTrust(options: { anchors?: string[]; crlSigners?: string[]; crls?: string[] } = {}): Promise<void> {
  const entries = [...(options.anchors ?? [pki.root]).map((pem) => ({ pem, use: "anchor" as const })), ...(options.crlSigners ?? []).map((pem) => ({ pem, use: "crl-signer" as const }))];
  const anchors: TrustAnchorDocument = {
    version: 1,
    updated: "2025-11-01T00:00:00Z",
    anchors: entries.map((entry, index) => ({ ...entry, subject: `anchor ${index}`, sha256: `${index}`.padStart(64, "0"), source: "test" })),
  };
  await env.TRUST.put(TRUST_ANCHORS_KEY, JSON.stringify(anchors));
  const crls: CrlDocument = { version: 1, updated: "2025-11-01T00:00:00Z", crls: (options.crls ?? []).map((pem) => ({ pem, issuer: "test", nextUpdate: null })) };
  await env.TRUST.put(CRLS_KEY, JSON.stringify(crls));
}

/**
 * For a test file that verifies calls through the endpoints: the fixture trust installed before each
 * test, and the log line every /v1/verdict call prints kept out of the test output.
 */
export function verifyWithFixtureTrust(): void {
  beforeEach(async () => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    await installTrust();
  });
}

let pathCounter = 0;
/** A repository path no other test uses, so caches and hit counts never leak between tests. */
export const uniquePath = (name: string) => `/${name}-${++pathCounter}-${crypto.randomUUID().slice(0, 8)}.pem`;

export async function register(registration: Registration): Promise<string> {
  const response = await fetch(`${repositoryUrl}/__register`, { method: "POST", body: JSON.stringify(registration) });
  if (response.status !== 204) throw new Error(`repository registration failed: ${response.status}`);
  return `${repositoryUrl}${registration.path}`;
}

export async function hits(url: string): Promise<number> {
  const path = new URL(url).pathname;
  const response = await fetch(`${repositoryUrl}/__hits?path=${encodeURIComponent(path)}`);
  return ((await response.json()) as { hits: number }).hits;
}

/** Serves `leaf` + the intermediate at a fresh repository path and returns its URL. */
export function serveChain(leaf = pki.leaf, extra: Omit<Registration, "path" | "body"> = {}): Promise<string> {
  return register({ path: uniquePath("chain"), body: `${leaf}${pki.intermediate}`, ...extra });
}

export type SignOptions = Partial<Omit<SignPassportOptions, "key">> & { key?: string };

/** A signed call: a chain served by the repository and an Identity header signed with the matching key. */
export async function signedIdentity(options: SignOptions = {}): Promise<{ identity: string; x5u: string; jws: string }> {
  const x5u = options.x5u ?? (await serveChain());
  const signed = await signPassport({
    key: options.key ?? pki.leafKeyPkcs8,
    orig: CALLER,
    dest: [CALLEE],
    attest: "A",
    iat: IAT,
    ...options,
    x5u,
  });
  return { ...signed, x5u };
}

/** A fresh application whose clock reads `IAT + offsetSeconds`, sharing nothing with other tests. */
export function appAt(offsetSeconds = 0, overrides: RuntimeOverrides = {}) {
  return createApp({ clock: fixedClock(IAT + offsetSeconds), sharedCache: null, ...overrides });
}

/** A fresh application whose clock starts at IAT and moves only when the test advances it. */
export function movableApp() {
  let now = IAT * 1000;
  const app = createApp({ clock: { now: () => now }, sharedCache: null });
  return { app, advance: (seconds: number) => void (now += seconds * 1000) };
}

type App = ReturnType<typeof createApp>;

/** `bindings` stand in for the Worker's environment, e.g. `{ ...env, FUTURE_SKEW_SECONDS: "5" }`. */
export function postVerdict(app: App, body: unknown, headers: Record<string, string> = {}, bindings: object = env) {
  return app.request("/v1/verdict", { method: "POST", headers: { ...sbcAuth, "Content-Type": "application/json", ...headers }, body: JSON.stringify(body) }, bindings);
}

export function postAtis(app: App, body: unknown, headers: Record<string, string> = {}, bindings: object = env) {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  return app.request(
    "/stir/v1/verification",
    { method: "POST", headers: { ...sbcAuth, "Content-Type": "application/json", "Content-Length": String(new TextEncoder().encode(text).length), ...headers }, body: text },
    bindings,
  );
}

export const atisRequest = (identity: string, overrides: Record<string, unknown> = {}) => ({
  verificationRequest: { from: { tn: CALLER }, to: { tn: [CALLEE] }, time: IAT, identity, ...overrides },
});

export const verdictRequest = (identity: string[], overrides: Record<string, unknown> = {}) => ({
  identity,
  from: `<sip:+${CALLER}@carrier.example;user=phone>;tag=1`,
  to: `<sip:+${CALLEE}@operator.example>`,
  ruri: `sip:+${CALLEE}@operator.example`,
  ingress: { trunk: "domestic-1", carrier: "DomesticCo", international: false },
  ...overrides,
});

/**
 * One call verified through both endpoints, each with a PASSporT of its own from `identity`: its
 * numbers as ATIS-1000082's tn digits on /stir/v1/verification, in E.164 with `+` on /v1/verdict; its
 * SIP Date as ATIS `time` and the verdict's `date` (left out: the verdict has none, and ATIS, whose
 * `time` is required, gets IAT).
 */
export async function verifyThroughBoth(
  app: App,
  identity: () => Promise<string>,
  { orig = CALLER, dest = CALLEE, date }: { orig?: string; dest?: string; date?: number } = {},
  bindings: object = env,
) {
  const dated = (name: string) => (date === undefined ? {} : { [name]: date });
  const atis = await postAtis(app, atisRequest(await identity(), { from: { tn: orig }, to: { tn: [dest] }, ...dated("time") }), {}, bindings);
  const native = await postVerdict(
    app,
    verdictRequest([await identity()], {
      from: `<sip:+${orig}@carrier.example;user=phone>;tag=1`,
      to: `<sip:+${dest}@operator.example>`,
      ruri: `sip:+${dest}@operator.example`,
      ...dated("date"),
    }),
    {},
    bindings,
  );
  return {
    atis: ((await atis.json()) as { verificationResponse: Record<string, unknown> }).verificationResponse,
    // The verdict's shape is the API's, checked field by field by each test.
    verdict: ((await native.json()) as { verdict: any }).verdict,
  };
}

const encoder = new TextEncoder();
const base64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

async function importSigningKey(pkcs8Pem: string): Promise<CryptoKey> {
  const der = Uint8Array.from(atob(pkcs8Pem.replace(/-----[^-]+-----|\s/g, "")), (c) => c.charCodeAt(0));
  return crypto.subtle.importKey("pkcs8", der, { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
}

/**
 * Builds a PASSporT byte by byte — any header, any claims text — and signs it with ES256 through
 * Web Crypto, for the malformed cases a well-behaved signer refuses to produce.
 */
export async function craftIdentity(options: {
  header?: Record<string, unknown>;
  claims?: Record<string, unknown> | string;
  x5u?: string;
  params?: string;
  key?: string;
}): Promise<string> {
  const x5u = options.x5u ?? (await serveChain());
  const header = options.header ?? { alg: "ES256", ppt: "shaken", typ: "passport", x5u };
  const claims = options.claims ?? { attest: "A", dest: { tn: [CALLEE] }, iat: IAT, orig: { tn: CALLER }, origid: "123e4567-e89b-12d3-a456-426655440000" };
  const signingInput = `${base64url(encoder.encode(JSON.stringify(header)))}.${base64url(encoder.encode(typeof claims === "string" ? claims : JSON.stringify(claims)))}`;
  const key = await importSigningKey(options.key ?? pki.leafKeyPkcs8);
  const signature = new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key, encoder.encode(signingInput)));
  return `${signingInput}.${base64url(signature)}${options.params ?? `;info=<${x5u}>;alg=ES256;ppt=${String(header.ppt)}`}`;
}

/**
 * A leaf issued by the fixture intermediate (or `issuer`) with our own issuing code, for cases the
 * fixture set does not hold (another key type, a profile deviation, validity around the real now).
 */
export async function issueTestLeaf(options: {
  keyType?: KeyType;
  notBefore?: Date;
  notAfter?: Date;
  deviations?: ProfileDeviations;
  issuer?: SigningAuthority;
  /** The cRLIssuer its CRL distribution point names (default: the issuing CA); null for none. */
  crlIssuer?: string | null;
} = {}): Promise<{ pem: string; keyPkcs8: string; privateKey: CryptoKey; certificate: X509Certificate }> {
  const intermediate = options.issuer ?? (await loadSigningAuthority(pki.intermediate, pki.intermediateKeyPkcs8));
  const keys = await generateKeyPair(options.keyType ?? "P-256");
  const leaf = await issueShakenCertificate({
    issuer: intermediate,
    subjectPublicKey: keys.publicKey,
    spc: "818H",
    organization: "shaken-edge Test SP",
    country: "KZ",
    notBefore: options.notBefore ?? new Date("2025-01-01T00:00:00Z"),
    notAfter: options.notAfter ?? new Date("2027-01-01T00:00:00Z"),
    crlDistributionPoint: { url: "http://crl.shaken-edge.test/intermediate.crl", crlIssuer: options.crlIssuer !== undefined ? options.crlIssuer : intermediate.certificate.subject },
    deviations: options.deviations,
  });
  return { pem: leaf.toString("pem"), keyPkcs8: await exportPrivateKeyPem(keys.privateKey), privateKey: keys.privateKey, certificate: leaf };
}

export interface ClaimConstraintsOf {
  mustInclude?: string[];
  /** Each claim with the values it may take. */
  permittedValues?: Record<string, string[]>;
  /** RFC 9118 only. */
  mustExclude?: string[];
}

/** A non-critical JWT Claim Constraints extension for issueTestLeaf: RFC 8226 §8's, or RFC 9118 §3's enhanced one. */
export function claimConstraintsExtension({ mustInclude, permittedValues, mustExclude }: ClaimConstraintsOf, form: "rfc8226" | "rfc9118"): Extension {
  const names = (list: string[] | undefined) => list && new JWTClaimNames(list);
  const entries = Object.entries(permittedValues ?? {});
  const permitted = entries.length === 0 ? undefined : entries;
  if (form === "rfc8226") {
    if (mustExclude) throw new Error("RFC 8226's JWTClaimConstraints has no mustExclude");
    const value = new JWTClaimConstraints({
      mustInclude: names(mustInclude),
      permittedValues: permitted && new JWTClaimPermittedValuesList(permitted.map(([claim, values]) => new JWTClaimPermittedValues({ claim, permitted: values as never[] }))),
    });
    return new Extension(id_pe_JWTClaimConstraints, false, AsnConvert.serialize(value));
  }
  const value = new EnhancedJWTClaimConstraints({
    mustInclude: names(mustInclude),
    permittedValues: permitted && new JWTClaimValuesList(permitted.map(([claim, values]) => new JWTClaimValues({ claim, values }))),
    mustExclude: names(mustExclude),
  });
  return new Extension(ENHANCED_JWT_CLAIM_CONSTRAINTS_OID, false, AsnConvert.serialize(value));
}
