/** What a path of the test repository (test/setup/test-repository.ts) answers. */
export interface Registration {
  path: string;
  body?: string;
  /** A binary body (a DER CRL), base64: JSON carries no bytes. */
  bodyBase64?: string;
  status?: number;
  headers?: Record<string, string>;
  delayMs?: number;
  /** Stream bytes forever (until the client goes away). */
  endless?: boolean;
  location?: string;
}
