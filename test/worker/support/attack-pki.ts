import { generateKeyPair, issueCaCertificate, loadSigningAuthority, type CaCertificateOptions, type SigningAuthority } from "../../../src/pki";
import { pki, register, signedIdentity, uniquePath, type SignOptions } from "./stir";

/**
 * CA certificates for path-validation attacks, built with our own issuing code (src/pki) on top of the
 * fixture PKI: by default under the fixture root, which `installTrust()` makes the trust anchor.
 */
export const fixtureRoot = () => loadSigningAuthority(pki.root, pki.rootKeyPkcs8);
export const fixtureIntermediate = () => loadSigningAuthority(pki.intermediate, pki.intermediateKeyPkcs8);

/** The fixture CAs' validity; every fixture leaf and call falls inside it. */
const CA_VALIDITY = { notBefore: new Date("2025-01-01T00:00:00Z"), notAfter: new Date("2035-01-01T00:00:00Z") };

/** A CA certificate `CN=<commonName>`, issued by the fixture root with fresh keys unless `options` says otherwise (`issuer: undefined`: self-signed). */
export async function issueTestCa(commonName: string, options: Partial<CaCertificateOptions> = {}): Promise<SigningAuthority> {
  return issueCaCertificate({
    issuer: await fixtureRoot(),
    subject: [{ C: ["KZ"] }, { O: ["shaken-edge Attack"] }, { CN: [commonName] }],
    keys: options.keys ?? (await generateKeyPair()),
    ...CA_VALIDITY,
    ...options,
  });
}

export const pemOf = (authority: SigningAuthority): string => authority.certificate.toString("pem");

/** An Identity header signed with `key` whose x5u serves exactly `chain` (PEMs, leaf first). */
export async function signedThrough(chain: string[], key: string, options: SignOptions = {}): Promise<string> {
  const x5u = await register({ path: uniquePath("path"), body: chain.join("") });
  return (await signedIdentity({ ...options, x5u, key })).identity;
}
