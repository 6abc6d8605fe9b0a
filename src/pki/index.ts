/** The runtime-agnostic issuing library, used by the CLI and the test fixtures (only its profile constants reach the request path, via lint). */
export * from "./authority";
export * from "./crl";
export * from "./csr";
export * from "./deviations";
export * from "./errors";
export * from "./extensions";
export * from "./issue";
export * from "./keys";
export * from "./pem";
export * from "./profile";
export * from "./serial";
