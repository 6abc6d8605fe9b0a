import type { X509Certificate } from "@peculiar/x509";
import { VerificationError } from "../verification/outcomes";

/** The longest path (leaf → … → anchor) the verifier will build. */
const MAX_PATH_LENGTH = 5;

const BASIC_CONSTRAINTS = "2.5.29.19";

export interface TrustedPath {
  /** Leaf first, then intermediates; the anchor last. */
  certificates: X509Certificate[];
  anchor: X509Certificate;
  /** The window in which every certificate of the path is valid: checked against each PASSporT's iat. */
  validFrom: number;
  validUntil: number;
}

function isCertificateAuthority(certificate: X509Certificate): boolean {
  const extension = certificate.getExtension(BASIC_CONSTRAINTS) as { ca?: boolean } | null;
  return extension?.ca === true;
}

async function issuedBy(subject: X509Certificate, issuer: X509Certificate): Promise<boolean> {
  if (subject.issuer !== issuer.subject) return false;
  try {
    return await subject.verify({ publicKey: issuer.publicKey, signatureOnly: true });
  } catch {
    return false; // an issuer key the runtime cannot use (e.g. an unsupported curve) issues nothing
  }
}

/**
 * Builds a path from the leaf to a configured trust anchor through the intermediates the repository
 * served (RFC 5280 §6, reduced to what SHAKEN needs: names chain, signatures verify, issuers are CAs).
 * Validity is not judged here but returned as a window, because it is checked at each PASSporT's iat.
 */
export async function buildTrustedPath(chain: X509Certificate[], anchors: X509Certificate[]): Promise<TrustedPath> {
  const [leaf, ...intermediates] = chain;
  if (!leaf) throw new VerificationError("CHAIN_UNTRUSTED", "no certificate to validate");
  const path: X509Certificate[] = [leaf];
  let current = leaf;
  while (path.length <= MAX_PATH_LENGTH) {
    for (const anchor of anchors) {
      if (await issuedBy(current, anchor)) return withValidity([...path, anchor], anchor);
    }
    let next: X509Certificate | undefined;
    for (const candidate of intermediates) {
      if (path.includes(candidate) || !isCertificateAuthority(candidate)) continue;
      if (await issuedBy(current, candidate)) {
        next = candidate;
        break;
      }
    }
    if (!next) {
      throw new VerificationError("CHAIN_UNTRUSTED", `no trusted issuer found for '${current.subject}' (issuer '${current.issuer}')`, {
        issuer: current.issuer,
      });
    }
    path.push(next);
    current = next;
  }
  throw new VerificationError("CHAIN_UNTRUSTED", `certificate path longer than ${MAX_PATH_LENGTH}`);
}

function withValidity(certificates: X509Certificate[], anchor: X509Certificate): TrustedPath {
  return {
    certificates,
    anchor,
    validFrom: Math.max(...certificates.map((certificate) => certificate.notBefore.getTime())),
    validUntil: Math.min(...certificates.map((certificate) => certificate.notAfter.getTime())),
  };
}

/** ATIS-1000074 (spec digest §4 Decision): certificates are judged at the PASSporT's iat. */
export function checkValidityAt(path: TrustedPath, atMs: number): void {
  if (atMs >= path.validFrom && atMs <= path.validUntil) return;
  const offender = path.certificates.find((certificate) => atMs < certificate.notBefore.getTime() || atMs > certificate.notAfter.getTime())!;
  const when = new Date(atMs).toISOString();
  throw new VerificationError(
    "CERTIFICATE_NOT_VALID_AT_IAT",
    `certificate '${offender.subject}' is not valid at iat ${when} (valid ${offender.notBefore.toISOString()} to ${offender.notAfter.toISOString()})`,
    { subject: offender.subject, notBefore: offender.notBefore.toISOString(), notAfter: offender.notAfter.toISOString() },
  );
}
