import "reflect-metadata";
import { createHash } from "node:crypto";
import { exportJWK } from "jose";
import { CRLS_KEY, TRUST_ANCHORS_KEY, type CrlDocument, type TrustAnchorDocument } from "../../src/certificate/trust-format";
import { signPassport } from "../../src/passport/sign";
import { createCrl, createDevelopmentCa, encodeCrlPem, generateKeyPair, issueShakenCertificate } from "../../src/pki";

/** The credentials the bench presents; the worker only ever sees their SHA-256 (as in production). */
export const BENCH_SBC_KEY = "bench-sbc-key";
export const BENCH_ADMIN_TOKEN = "bench-admin-token";
export const sha256Hex = (text: string) => createHash("sha256").update(text).digest("hex");
export const sbcHeaders = { Authorization: `Bearer ${BENCH_SBC_KEY}` };
export const adminHeaders = { Authorization: `Bearer ${BENCH_ADMIN_TOKEN}` };

/** Calling and called numbers of the signed calls: an Almaty landline calling a Kcell mobile. */
export const SIGNED_CALLER = "77272501234";
export const CALLEE = "77012345678";

const DAY_MS = 86_400_000;

export interface BenchPki {
  rootPem: string;
  /** Leaf then intermediate, as a repository serves it. */
  chainPem: string;
  leafKey: CryptoKey;
  leafPublicJwk: string;
  /** A key whose certificate nobody has: PASSporTs signed with it fail at the signature check. */
  strangerKey: CryptoKey;
  trustAnchors: string;
  crls: string;
}

/**
 * A development STI-CA, a SHAKEN leaf and a current CRL, issued now by our own PKI code (src/pki) so
 * that every certificate is valid for the whole run, whatever the date.
 */
export async function buildBenchPki(): Promise<BenchPki> {
  const now = Date.now();
  const notBefore = new Date(now - DAY_MS);
  const ca = await createDevelopmentCa({ organization: "shaken-edge Bench", country: "KZ", notBefore, notAfter: new Date(now + 3650 * DAY_MS) });
  const [leafKeys, strangerKeys] = await Promise.all([generateKeyPair(), generateKeyPair()]);
  const leaf = await issueShakenCertificate({
    issuer: ca.intermediate,
    subjectPublicKey: leafKeys.publicKey,
    spc: "818H",
    organization: "shaken-edge Bench SP",
    country: "KZ",
    notBefore,
    notAfter: new Date(now + 365 * DAY_MS),
    crlDistributionPoint: { url: "http://crl.shaken-edge.test/intermediate.crl", crlIssuer: ca.intermediate.certificate.subject },
  });
  const nextUpdate = new Date(now + 30 * DAY_MS);
  const crl = await createCrl({ issuer: ca.intermediate, revoked: [], thisUpdate: notBefore, nextUpdate, crlNumber: 1 });
  const rootPem = ca.root.certificate.toString("pem");
  const updated = new Date(now).toISOString();
  const anchors: TrustAnchorDocument = {
    version: 1,
    updated,
    anchors: [{ pem: rootPem, subject: ca.root.certificate.subject, sha256: sha256Hex(rootPem), source: "dev" }],
  };
  const crls: CrlDocument = { version: 1, updated, crls: [{ pem: encodeCrlPem(crl), issuer: ca.intermediate.certificate.subject, nextUpdate: nextUpdate.toISOString() }] };
  return {
    rootPem,
    chainPem: `${leaf.toString("pem")}\n${ca.intermediate.certificate.toString("pem")}\n`,
    leafKey: leafKeys.privateKey,
    leafPublicJwk: JSON.stringify(await exportJWK(leafKeys.publicKey)),
    strangerKey: strangerKeys.privateKey,
    trustAnchors: JSON.stringify(anchors),
    crls: JSON.stringify(crls),
  };
}

export const TRUST_KEYS = { anchors: TRUST_ANCHORS_KEY, crls: CRLS_KEY };

export interface SignedCall {
  /** The SIP Identity header value. */
  identity: string;
  jws: string;
  iat: number;
}

/** Signs `count` SHAKEN PASSporTs (distinct origids) for `orig` → `dest`, with iat = now unless given. */
export async function signCalls(pki: BenchPki, x5u: string | ((index: number) => string), count: number, options: { orig?: string; iat?: number; key?: CryptoKey } = {}): Promise<SignedCall[]> {
  const iat = options.iat ?? Math.floor(Date.now() / 1000);
  const calls: SignedCall[] = [];
  for (let index = 0; index < count; index++) {
    const url = typeof x5u === "string" ? x5u : x5u(index);
    const signed = await signPassport({ key: options.key ?? pki.leafKey, x5u: url, orig: options.orig ?? SIGNED_CALLER, dest: [CALLEE], attest: "A", iat });
    calls.push({ identity: signed.identity, jws: signed.jws, iat });
  }
  return calls;
}

/** The ATIS-1000082 verification request body (S1). */
export const atisBody = (call: SignedCall) =>
  JSON.stringify({ verificationRequest: { from: { tn: SIGNED_CALLER }, to: { tn: [CALLEE] }, time: call.iat, identity: call.identity } });

/** A raw INVITE as an SBC forwards it (S2): PAI, Date, one Identity header, an SDP body. */
export function inviteText(call: SignedCall, sequence: number): string {
  const sdp = "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\n";
  return [
    `INVITE sip:+${CALLEE}@operator.example;user=phone SIP/2.0`,
    `Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-${sequence}`,
    "Max-Forwards: 69",
    `From: "Caller" <sip:+${SIGNED_CALLER}@carrier.example;user=phone>;tag=${sequence}`,
    `To: <sip:+${CALLEE}@operator.example;user=phone>`,
    `P-Asserted-Identity: <sip:+${SIGNED_CALLER}@carrier.example;user=phone>`,
    `Call-ID: bench-${sequence}@192.0.2.10`,
    "CSeq: 1 INVITE",
    `Date: ${new Date(call.iat * 1000).toUTCString()}`,
    `Identity: ${call.identity}`,
    "Contact: <sip:192.0.2.10:5060>",
    "Content-Type: application/sdp",
    `Content-Length: ${sdp.length}`,
    "",
    sdp,
  ].join("\r\n");
}

/** The native JSON verdict request for a signed call on a domestic interconnect (S5's signed share). */
export const signedVerdictBody = (call: SignedCall, orig = SIGNED_CALLER) =>
  JSON.stringify({
    identity: [call.identity],
    from: `<sip:+${orig}@carrier.example;user=phone>;tag=1`,
    to: `<sip:+${CALLEE}@operator.example>`,
    ruri: `sip:+${CALLEE}@operator.example`,
    date: call.iat,
    ingress: { trunk: "domestic-1", carrier: "DomesticCo", international: false },
  });
