/** sip.js's generated grammar with its tables built once (compiled.js, generated: see scripts/compile-sip-grammar.ts). */
export declare class SyntaxError extends Error {
  expected: unknown;
  found: unknown;
  location: unknown;
}

/**
 * Parses `input` from `options.startRule` (sip.js's grammar's rule names: `Request_Response`,
 * `Name_Addr_Header`, `SIP_URI`, …). The rule's actions leave what they built in `options.data`;
 * throws SyntaxError when the input does not match, unless `options.offsetOnly` is set: then the
 * offset where it stopped matching (the SyntaxError's `location.start.offset`) is left in
 * `options.failedAt` and nothing is thrown.
 */
export declare function parse(input: string, options: { startRule?: string; data?: unknown; offsetOnly?: boolean; failedAt?: number }): unknown;
