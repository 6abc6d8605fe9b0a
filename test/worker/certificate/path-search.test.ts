import "reflect-metadata";
import { AsnConvert } from "@peculiar/asn1-schema";
import * as asn1X509 from "@peculiar/asn1-x509";
import { type JsonName, X509Certificate } from "@peculiar/x509";
import { beforeAll, describe, expect, it } from "vitest";
import { buildTrustedPaths } from "../../../src/certificate/chain";
import { generateKeyPair, issueCaCertificate, issueShakenCertificate, type SigningAuthority } from "../../../src/pki";

/**
 * The path search of src/certificate/chain.ts on what a repository serves: which certificates become
 * issuer candidates, which paths are kept, and what a refusal says. Built with our own issuing code;
 * the verdict-level cases are in test/worker/verification/path-validation.test.ts.
 */
const VALIDITY = { notBefore: new Date("2025-01-01T00:00:00Z"), notAfter: new Date("2035-01-01T00:00:00Z") };
const named = (commonName: string): JsonName => [{ C: ["KZ"] }, { O: ["Path Search"] }, { CN: [commonName] }];

async function ca(commonName: string, issuer?: SigningAuthority, keys?: CryptoKeyPair): Promise<SigningAuthority> {
  return issueCaCertificate({ issuer, subject: named(commonName), keys: keys ?? (await generateKeyPair()), ...VALIDITY });
}

async function leafUnder(issuer: SigningAuthority): Promise<X509Certificate> {
  const keys = await generateKeyPair();
  return issueShakenCertificate({
    issuer,
    subjectPublicKey: keys.publicKey,
    spc: "818H",
    organization: "Path Search SP",
    country: "KZ",
    ...VALIDITY,
    crlDistributionPoint: { url: "https://crl.example/path-search.crl", crlIssuer: null },
  });
}

/** The same certificate as another object, as a second copy in a repository body parses. */
const copyOf = (certificate: X509Certificate) => new X509Certificate(certificate.rawData);

async function refusal(chain: X509Certificate[], anchors: X509Certificate[]): Promise<string> {
  const error: unknown = await buildTrustedPaths(chain, anchors).then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toMatchObject({ failure: "CHAIN_UNTRUSTED" });
  return (error as Error).message;
}

let root: SigningAuthority;
let otherRoot: SigningAuthority;
let intermediateKeys: CryptoKeyPair;
let intermediate: SigningAuthority;
let leaf: X509Certificate;

beforeAll(async () => {
  root = await ca("Root");
  otherRoot = await ca("Other Root");
  intermediateKeys = await generateKeyPair();
  intermediate = await ca("Intermediate", root, intermediateKeys);
  leaf = await leafUnder(intermediate);
});

describe("the certificates a repository serves above the leaf", () => {
  it("takes a served copy of a trust anchor for the anchor: one path, ending at the configured anchor", async () => {
    const anchors = [otherRoot.certificate, root.certificate];
    const paths = await buildTrustedPaths([leaf, intermediate.certificate, copyOf(root.certificate)], anchors);
    expect(paths).toHaveLength(1);
    expect(paths[0]!.certificates).toEqual([leaf, intermediate.certificate, root.certificate]);
    expect(paths[0]!.anchor).toBe(root.certificate);
  });

  it("takes a certificate served twice for one issuer candidate: one path", async () => {
    const paths = await buildTrustedPaths([leaf, intermediate.certificate, copyOf(intermediate.certificate)], [root.certificate]);
    expect(paths).toHaveLength(1);
    expect(paths[0]!.certificates).toHaveLength(3);
  });
});

describe("the paths kept", () => {
  it("keeps every path through an intermediate re-issued under the same name and key, up to 8", async () => {
    // Nine certificates of one CA (its name and key), each a different serial: nine trusted paths.
    const reissues = await Promise.all(Array.from({ length: 9 }, () => ca("Intermediate", root, intermediateKeys)));
    const paths = await buildTrustedPaths([leaf, ...reissues.map((reissue) => reissue.certificate)], [root.certificate]);
    expect(paths).toHaveLength(8);
    expect(new Set(paths.map((path) => path.certificates[1]))).toHaveProperty("size", 8);
  });
});

describe("what a refusal says", () => {
  it("names a served root that is no trust anchor as having no trusted issuer: it is not its own candidate", async () => {
    const strangerRoot = await ca("Stranger Root");
    const strangerIntermediate = await ca("Stranger Intermediate", strangerRoot);
    const strangerLeaf = await leafUnder(strangerIntermediate);
    const name = "C=KZ, O=Path Search, CN=Stranger Root";
    expect(await refusal([strangerLeaf, strangerIntermediate.certificate, strangerRoot.certificate], [root.certificate])).toBe(`no trusted issuer found for '${name}' (issuer '${name}')`);
  });

  it("refuses a certificate whose signature value cannot even be read, rather than take its issuer for the signer", async () => {
    // The leaf, its signature value replaced by bytes that are no ECDSA-Sig-Value: the library throws.
    const asn = AsnConvert.parse(leaf.rawData, asn1X509.Certificate);
    asn.signatureValue = new Uint8Array([0xde, 0xad, 0xbe, 0xef]).buffer;
    const garbled = new X509Certificate(AsnConvert.serialize(asn));
    expect(await refusal([garbled, intermediate.certificate], [root.certificate])).toBe(
      `signature of '${leaf.subject}' does not verify with the key of intermediate 'C=KZ, O=Path Search, CN=Intermediate'`,
    );
  });

  describe("names at most three reasons, and counts the rest", () => {
    // Look-alikes of the leaf's issuer: names that chain to it (RFC 5280 §7.1 ignores case), each
    // spelled differently, none holding the key that signed the leaf: one distinct reason each.
    const spellings = ["Intermediate", "INTERMEDIATE", "intermediate", "InterMediate"];
    const reasonFor = (spelling: string) => `signature of '${leaf.subject}' does not verify with the key of intermediate 'C=KZ, O=Path Search, CN=${spelling}'`;
    let lookAlikes: X509Certificate[];
    beforeAll(async () => {
      lookAlikes = await Promise.all(spellings.map(async (spelling) => (await ca(spelling, root)).certificate));
    });

    it("three, all named", async () => {
      expect(await refusal([leaf, ...lookAlikes.slice(0, 3)], [root.certificate])).toBe(spellings.slice(0, 3).map(reasonFor).join("; "));
    });

    it("four: three named, one counted", async () => {
      expect(await refusal([leaf, ...lookAlikes], [root.certificate])).toBe(`${spellings.slice(0, 3).map(reasonFor).join("; ")}; and 1 more`);
    });
  });
});
