/**
 * Errors of the issuing library, in the jose manner: callers (the CLI, fixtures) branch on `code`.
 * Messages say what was wrong and what would be right.
 */
export class PkiError extends Error {
  readonly code: string = "ERR_PKI";
  override name = this.constructor.name;
}

/** ATIS-1000080 v005 §6.4.1: the TNAuthList of an end-entity cert holds exactly one SPC of [A-Z0-9]. */
export class ServiceProviderCodeError extends PkiError {
  override readonly code = "ERR_PKI_SPC_INVALID";
}

/** A PEM block of another type than the one asked for (e.g. a certificate where a key was expected). */
export class PemTypeError extends PkiError {
  override readonly code = "ERR_PKI_PEM_TYPE";
}

/** A key that is not usable for SHAKEN (not an ECDSA P-256 PKCS#8 key). */
export class KeyImportError extends PkiError {
  override readonly code = "ERR_PKI_KEY_IMPORT";
}

/** A PKCS#10 request whose signature does not verify or that does not request a SHAKEN certificate. */
export class CertificateRequestError extends PkiError {
  override readonly code = "ERR_PKI_CSR_INVALID";
}

/** A private key that does not belong to the certificate it is used with (Asterisk #907). */
export class KeyMismatchError extends PkiError {
  override readonly code = "ERR_PKI_KEY_MISMATCH";
}
