import "../lib/reflect-metadata";
import { X509Certificate } from "@peculiar/x509";
import { Constructed, fromBER, Sequence } from "asn1js";
import { shortened } from "../lib/strict-json";
import { VerificationError } from "../verification/outcomes";

/** A repository body holding more certificates than this is not a SHAKEN chain (leaf + a few CAs). */
export const MAX_CERTIFICATES_IN_CHAIN = 8;
/**
 * The most extensions a certificate may carry. The ATIS-1000080 end-entity profile allows seven
 * (BasicConstraints, KeyUsage, SKI, AKI, CertificatePolicies, CRL distribution points, TNAuthList) and
 * a CA fewer; of 139 certificates served by real STI repositories, the most carry 10. Parsing costs
 * heap and CPU per extension (a body of ~1 900 two-byte extensions held ~100 times its size once
 * parsed and took ~54 ms), so a certificate with more is refused before it is parsed.
 */
export const MAX_EXTENSIONS_IN_CERTIFICATE = 32;
/** The largest certificate read, in DER bytes: the largest of those 139 is 1 753 bytes. */
export const MAX_CERTIFICATE_BYTES = 8_192;

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
    if (label !== "CERTIFICATE") throw notAChain(`repository body contains a '${shortened(label)}' PEM block; only CERTIFICATE is accepted`);
    if (certificates.length === MAX_CERTIFICATES_IN_CHAIN) {
      throw notAChain(`repository body holds more than ${MAX_CERTIFICATES_IN_CHAIN} certificates`);
    }
    const place = `certificate #${certificates.length + 1} in the repository body`;
    const der = derOf(match[2]!);
    if (der !== null && der.length > MAX_CERTIFICATE_BYTES) throw notAChain(`${place} is ${der.length} bytes long; at most ${MAX_CERTIFICATE_BYTES} are accepted`);
    const extensions = der && extensionCount(der);
    if (der === null || extensions === null) throw notAChain(`${place} is not valid DER`);
    if (extensions > MAX_EXTENSIONS_IN_CERTIFICATE) throw notAChain(`${place} carries ${extensions} extensions; at most ${MAX_EXTENSIONS_IN_CERTIFICATE} are accepted`);
    try {
      certificates.push(new X509Certificate(der));
    } catch {
      throw notAChain(`${place} is not valid DER`);
    }
  }
  if (certificates.length === 0) throw notAChain("repository body holds no PEM certificate");
  return certificates;
}

/** How many extensions a parsed certificate carries, read from its DER's outline: without decoding them (as `extensions` does), which may throw. */
export function extensionCountOf(certificate: X509Certificate): number {
  return extensionCount(new Uint8Array(certificate.rawData)) ?? 0;
}

/** The bytes a PEM block's base64 text encodes, or null when it is no base64. */
function derOf(base64: string): Uint8Array | null {
  try {
    return Uint8Array.from(atob(base64.replace(/\s+/g, "")), (character) => character.charCodeAt(0));
  } catch {
    return null;
  }
}

/** TBSCertificate's `extensions [3] EXPLICIT Extensions` (RFC 5280 §4.1): context-specific class, tag 3. */
const CONTEXT_SPECIFIC = 3;
const EXTENSIONS_TAG = 3;

/**
 * How many extensions a certificate carries, read from its ASN.1 outline alone (asn1js, which the
 * X.509 parser is built on: Certificate, TBSCertificate, its [3] Extensions), so that a certificate
 * stuffed with them is refused before the X.509 parser builds its objects for each. Null when the
 * outline is no certificate's.
 */
function extensionCount(der: Uint8Array): number | null {
  const { offset, result } = fromBER(der);
  // DER, not BER: every byte read, and definite lengths (asn1js reads BER's indefinite ones too).
  if (offset !== der.length || !(result instanceof Sequence) || result.lenBlock.isIndefiniteForm) return null;
  const tbs = result.valueBlock.value[0];
  if (!(tbs instanceof Sequence) || tbs.lenBlock.isIndefiniteForm) return null;
  const field = tbs.valueBlock.value.find(({ idBlock }) => idBlock.tagClass === CONTEXT_SPECIFIC && idBlock.tagNumber === EXTENSIONS_TAG);
  if (!field) return 0;
  const extensions = field instanceof Constructed ? field.valueBlock.value[0] : undefined;
  return extensions instanceof Sequence ? extensions.valueBlock.value.length : null;
}
