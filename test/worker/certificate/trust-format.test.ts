import "reflect-metadata";
import { X509CrlGenerator, type X509Crl } from "@peculiar/x509";
import { beforeAll, describe, expect, it } from "vitest";
import { crlEntry, mergeCrls, parseCrlDocument, parseTrustAnchorDocument, TrustDocumentError, type CrlDocument } from "../../../src/certificate/trust-format";
import { createCrl, encodeCrlPem, generateKeyPair, issueCaCertificate, SHAKEN_SIGNING_ALGORITHM, type CrlOptions, type SigningAuthority } from "../../../src/pki";

/**
 * The trust-anchor and CRL documents of the TRUST namespace: what a reader refuses, and how the CRL set
 * takes a new CRL (one per issuer, never replaced by an older one). The CLI's and the scheduled
 * refresh's tests cover them end to end (test/node/cli/{trust,crl}.test.ts, crl-refresh.test.ts).
 */
const DAY = 86_400_000;
const T = Date.parse("2026-12-01T00:00:00Z");
const VALIDITY = { notBefore: new Date("2025-01-01T00:00:00Z"), notAfter: new Date("2035-01-01T00:00:00Z") };

let alpha: SigningAuthority;
let alphaKeys: CryptoKeyPair;
let beta: SigningAuthority;

const crlOf = (issuer: SigningAuthority, options: Partial<CrlOptions> = {}) =>
  createCrl({ issuer, revoked: [], thisUpdate: new Date(T - DAY), nextUpdate: new Date(T + 6 * DAY), crlNumber: 5, ...options });

beforeAll(async () => {
  alphaKeys = await generateKeyPair();
  alpha = await issueCaCertificate({ subject: [{ CN: ["Alpha CA"] }], keys: alphaKeys, ...VALIDITY });
  beta = await issueCaCertificate({ subject: [{ CN: ["Beta CA"] }], keys: await generateKeyPair(), ...VALIDITY });
});

function refusedWith(parse: () => unknown): string {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(TrustDocumentError);
    expect(error).toHaveProperty("code", "ERR_TRUST_DOCUMENT_INVALID");
    return (error as Error).message;
  }
  throw new Error("the document was read");
}

describe("the trust-anchor document", () => {
  const anchor = { pem: "-----BEGIN CERTIFICATE-----", sha256: "00", subject: "CN=x", source: "dev" };
  const document = (anchors: unknown, version: unknown = 1) => JSON.stringify({ version, updated: "2026-12-01T00:00:00.000Z", anchors });

  it("is read with anchors of either use, or none given", () => {
    const read = parseTrustAnchorDocument(document([anchor, { ...anchor, use: "anchor" }, { ...anchor, use: "crl-signer" }]));
    expect(read.anchors.map((entry) => entry.use)).toEqual([undefined, "anchor", "crl-signer"]);
  });

  it("is refused unless it is an object of version 1 with a list of anchors", () => {
    const expected = "trust-anchor document must be {version: 1, anchors: [...]}";
    for (const json of ["[]", "null", document([anchor], 2), document({ 0: anchor }), JSON.stringify({ version: 1 })]) expect(refusedWith(() => parseTrustAnchorDocument(json))).toBe(expected);
  });

  it("is refused when an anchor lacks its pem or sha256, or is no object", () => {
    for (const entry of [{ ...anchor, pem: undefined }, { ...anchor, sha256: 1 }, [anchor], null]) {
      expect(refusedWith(() => parseTrustAnchorDocument(document([entry])))).toBe("every trust anchor needs a pem and a sha256");
    }
  });

  it("is refused when an anchor is trusted for a use this verifier does not know, rather than read as an anchor", () => {
    expect(refusedWith(() => parseTrustAnchorDocument(document([{ ...anchor, use: "ocsp" }])))).toBe("trust anchor use must be one of anchor, crl-signer");
  });
});

describe("the CRL document", () => {
  const document = (crls: unknown, version: unknown = 1) => JSON.stringify({ version, updated: "2026-12-01T00:00:00.000Z", crls });

  it("is read with its entries", () => {
    expect(parseCrlDocument(document([{ pem: "x", issuer: "CN=a", nextUpdate: null }])).crls).toHaveLength(1);
  });

  it("is refused unless it is an object of version 1 with a list of CRLs, each with a pem", () => {
    for (const json of ["[]", "null", document([], 2), document({}), JSON.stringify({ version: 1 })]) {
      expect(refusedWith(() => parseCrlDocument(json))).toBe("CRL document must be {version: 1, crls: [...]}");
    }
    for (const entry of [{}, { pem: 1 }, ["x"], null]) expect(refusedWith(() => parseCrlDocument(document([entry])))).toBe("every CRL entry needs a pem");
  });
});

describe("the CRL set, one CRL per issuer", () => {
  const now = new Date(T);
  let held: CrlDocument;
  let alphaFive: X509Crl;

  beforeAll(async () => {
    alphaFive = await crlOf(alpha);
    held = { version: 1, updated: "2026-11-01T00:00:00.000Z", crls: [crlEntry(alphaFive, "push")] };
  });

  it("describes a CRL from its own fields", () => {
    expect(crlEntry(alphaFive, "https://crl.example/alpha.crl")).toEqual({
      pem: encodeCrlPem(alphaFive),
      issuer: "CN=Alpha CA",
      crlNumber: "5",
      thisUpdate: new Date(T - DAY).toISOString(),
      nextUpdate: new Date(T + 6 * DAY).toISOString(),
      source: "https://crl.example/alpha.crl",
    });
  });

  it("adds the first CRL of an issuer beside the others, and dates the set", async () => {
    const betaCrl = await crlOf(beta, { crlNumber: 1 });
    const { document, changes } = mergeCrls(held, [{ crl: betaCrl, source: "push" }], now);
    expect(document.crls.map((entry) => entry.issuer)).toEqual(["CN=Alpha CA", "CN=Beta CA"]);
    expect(changes).toEqual([{ issuer: "CN=Beta CA", change: "added", crlNumber: "1", heldCrlNumber: null }]);
    expect(document.updated).toBe(now.toISOString());
  });

  it("makes a set from nothing", () => {
    const { document, changes } = mergeCrls(null, [{ crl: alphaFive, source: "push" }], now);
    expect(document).toEqual({ version: 1, updated: now.toISOString(), crls: [crlEntry(alphaFive, "push")] });
    expect(changes[0]!.change).toBe("added");
  });

  it("replaces an issuer's CRL with one of a greater number, in its place", async () => {
    const six = await crlOf(alpha, { crlNumber: 6 });
    const { document, changes } = mergeCrls(held, [{ crl: six, source: "https://crl.example/alpha.crl" }], now);
    expect(document.crls).toEqual([crlEntry(six, "https://crl.example/alpha.crl")]);
    expect(changes).toEqual([{ issuer: "CN=Alpha CA", change: "replaced", crlNumber: "6", heldCrlNumber: "5" }]);
    expect(document.updated).toBe(now.toISOString());
  });

  it("keeps the held CRL, and the set's date, against an older one or the same one", async () => {
    const four = await crlOf(alpha, { crlNumber: 4, thisUpdate: new Date(T) });
    for (const [crl, change] of [[four, "older"], [alphaFive, "unchanged"]] as const) {
      const { document, changes } = mergeCrls(held, [{ crl, source: "push" }], now);
      expect(document).toEqual(held);
      expect(changes).toEqual([{ issuer: "CN=Alpha CA", change, crlNumber: change === "older" ? "4" : "5", heldCrlNumber: "5" }]);
    }
  });

  it("tells CRLs of one number, or of none, apart by their thisUpdate; a CRL with a number is newer than one without", async () => {
    const later = await crlOf(alpha, { thisUpdate: new Date(T) });
    expect(mergeCrls(held, [{ crl: later, source: "push" }], now).changes[0]!.change).toBe("replaced");
    const earlier = await crlOf(alpha, { thisUpdate: new Date(T - 2 * DAY) });
    expect(mergeCrls(held, [{ crl: earlier, source: "push" }], now).changes[0]!.change).toBe("older");
    const unnumbered = await X509CrlGenerator.create({ issuer: alpha.certificate.subjectName, thisUpdate: new Date(T), signingKey: alpha.privateKey, signingAlgorithm: SHAKEN_SIGNING_ALGORITHM });
    expect(mergeCrls(held, [{ crl: unnumbered, source: "push" }], now).changes[0]).toEqual({ issuer: "CN=Alpha CA", change: "older", crlNumber: null, heldCrlNumber: "5" });
    const heldUnnumbered: CrlDocument = { version: 1, updated: held.updated, crls: [crlEntry(unnumbered, "push")] };
    expect(mergeCrls(heldUnnumbered, [{ crl: alphaFive, source: "push" }], now).changes[0]).toEqual({ issuer: "CN=Alpha CA", change: "replaced", crlNumber: "5", heldCrlNumber: null });
  });

  it("takes a CRL whose issuer is spelt in other case and spacing as the same issuer's: it replaces the older, and no second entry is kept", async () => {
    const respelt = await issueCaCertificate({ subject: [{ CN: ["ALPHA  ca"] }], keys: alphaKeys, ...VALIDITY });
    const six = await crlOf(respelt, { crlNumber: 6 });
    expect(six.issuer).not.toBe(alphaFive.issuer);
    const { document, changes } = mergeCrls(held, [{ crl: six, source: "push" }], now);
    expect(changes).toEqual([{ issuer: "CN=ALPHA  ca", change: "replaced", crlNumber: "6", heldCrlNumber: "5" }]);
    expect(document.crls).toEqual([crlEntry(six, "push")]);
    expect(mergeCrls(document, [{ crl: alphaFive, source: "push" }], now).changes[0]!.change).toBe("older");
  });

  it("takes each of several incoming CRLs against the set as the earlier ones left it", async () => {
    const six = await crlOf(alpha, { crlNumber: 6 });
    const seven = await crlOf(alpha, { crlNumber: 7 });
    const { document, changes } = mergeCrls(held, [{ crl: seven, source: "push" }, { crl: six, source: "push" }], now);
    expect(changes.map((change) => change.change)).toEqual(["replaced", "older"]);
    expect(document.crls).toEqual([crlEntry(seven, "push")]);
  });
});
