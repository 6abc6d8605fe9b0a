import "../lib/reflect-metadata";
import { X509Certificate } from "@peculiar/x509";
import { VerificationError } from "../verification/outcomes";

/** A repository body holding more certificates than this is not a SHAKEN chain (leaf + a few CAs). */
export const MAX_CERTIFICATES_IN_CHAIN = 8;

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

const notAChain = (description: string) => new VerificationError("X5U_NOT_CERTIFICATE_CHAIN", description);

/**
 * Parses an `application/pem-certificate-chain` body (RFC 8555 §9.1): leaf first, then its CAs.
 * Every certificate is kept — caches that dropped the intermediates broke libstirshaken (#123)
 * and Kamailio (PR #3289). A body with anything but CERTIFICATE blocks is refused outright.
 */
export function parsePemChain(body: string): X509Certificate[] {
  const certificates: X509Certificate[] = [];
  for (const match of body.matchAll(PEM_BLOCK)) {
    const label = match[1]!;
    if (label !== "CERTIFICATE") throw notAChain(`repository body contains a '${label}' PEM block; only CERTIFICATE is accepted`);
    if (certificates.length === MAX_CERTIFICATES_IN_CHAIN) {
      throw notAChain(`repository body holds more than ${MAX_CERTIFICATES_IN_CHAIN} certificates`);
    }
    try {
      certificates.push(new X509Certificate(match[0]));
    } catch {
      throw notAChain(`certificate #${certificates.length + 1} in the repository body is not valid DER`);
    }
  }
  if (certificates.length === 0) throw notAChain("repository body holds no PEM certificate");
  return certificates;
}
