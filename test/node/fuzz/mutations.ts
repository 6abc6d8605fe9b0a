import fc from "fast-check";

/**
 * Hostile-input generation shared by the parser (Node) and endpoint (worker) fuzz suites: arbitrary
 * text, and real valid inputs mutated by small edits — the near-misses a parser is most likely to
 * mishandle. Runs per property: the CI default, or VITE_FUZZ_RUNS (`npm run fuzz` sets it from
 * FUZZ_RUNS): read from the environment in Node, and from what Vite exposes (VITE_*) in workerd.
 */
export function fuzzRuns(ciDefault: number): number {
  const fromNode = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.VITE_FUZZ_RUNS;
  const configured = Number(fromNode ?? (import.meta as ImportMeta & { env?: Record<string, string | undefined> }).env?.VITE_FUZZ_RUNS);
  return Number.isSafeInteger(configured) && configured > 0 ? configured : ciDefault;
}

/** A test's time limit for `runs` runs of a property, with room for the slowest (endpoint) properties. */
export const fuzzTimeoutMs = (runs: number): number => Math.max(60_000, runs * 10);

/** Characters and fragments that carry meaning in SIP, Identity parameters, JWS and JSON. */
const INTERESTING = [";", ",", "=", "<", ">", '"', "'", ".", ":", "@", "\r\n", "\n", "\r", "\0", " ", "\t", "\\", "{", "}", "[", "]", "%00", "\u2028", "\ud800", "\ufeff", "€", "🙂", "-1", "1e309", "null", "true", "[]", "{}", "..", "=".repeat(64), "A".repeat(1_000)];

type Edit =
  | { kind: "insert"; at: number; text: string }
  | { kind: "delete"; at: number; length: number }
  | { kind: "duplicate"; at: number; length: number }
  | { kind: "truncate"; at: number };

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), text: fc.oneof(fc.constantFrom(...INTERESTING), fc.string({ unit: "binary", maxLength: 12 })) }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 24 }) }),
  fc.record({ kind: fc.constant("duplicate" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
);

function apply(text: string, change: Edit): string {
  const at = change.at % (text.length + 1);
  switch (change.kind) {
    case "insert":
      return text.slice(0, at) + change.text + text.slice(at);
    case "delete":
      return text.slice(0, at) + text.slice(at + change.length);
    case "duplicate":
      return text.slice(0, at + change.length) + text.slice(at);
    case "truncate":
      return text.slice(0, at);
  }
}

/** `seed` after one to five random edits (an edit may also replace a character with an interesting one). */
export const mutationOf = (seed: string): fc.Arbitrary<string> => fc.array(edit, { minLength: 1, maxLength: 5 }).map((edits) => edits.reduce(apply, seed));

/** Arbitrary text: any code points (lone surrogates included), or mostly-ASCII with the interesting fragments mixed in. */
export const hostileText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: "binary", maxLength: 300 }),
  fc.array(fc.oneof(fc.constantFrom(...INTERESTING), fc.string({ unit: "binary-ascii", maxLength: 8 })), { maxLength: 40 }).map((parts) => parts.join("")),
);

/** A valid INVITE carrying `identity` (the fixture call: +77272501234 → +77012345678), the seed for SIP mutations. */
export function inviteSeed(identity: string): string {
  return [
    "INVITE sip:+77012345678@operator.example;user=phone SIP/2.0",
    "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-1",
    "Max-Forwards: 70",
    'From: "Caller" <sip:+77272501234@carrier.example;user=phone>;tag=1',
    "To: <sip:+77012345678@operator.example;user=phone>",
    "Call-ID: fuzz-1@192.0.2.10",
    "CSeq: 1 INVITE",
    "P-Asserted-Identity: <sip:+77272501234@carrier.example;user=phone>, <tel:+77272501234>",
    'Remote-Party-ID: "Caller" <sip:+77272501234@carrier.example>;party=calling;screen=yes;privacy=off',
    "Date: Fri, 28 Nov 2025 00:00:00 GMT",
    `Identity: ${identity}`,
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");
}
