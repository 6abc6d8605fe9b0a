import { printable } from "./printable";

/**
 * JSON.parse with the hardening a PASSporT decoder needs (as sipral does): duplicate member names
 * are refused — two parsers could otherwise read different `orig` values from the same bytes — and
 * nesting is bounded. JSON.parse does the decoding; this pass only checks the structure first.
 */
export class StrictJsonError extends Error {
  readonly code = "ERR_STRICT_JSON";
  constructor(
    message: string,
    /** The member name given twice, when that is what is wrong. */
    readonly duplicateMember: string | null = null,
  ) {
    super(message);
  }
}

export function parseStrictJson(text: string, maxDepth = 8): unknown {
  const value: unknown = JSON.parse(text); // throws SyntaxError on anything that is not JSON
  checkStructure(text, maxDepth);
  return value;
}

/** Walks valid JSON text tracking object keys per nesting level. */
function checkStructure(text: string, maxDepth: number): void {
  const stack: (Set<string> | null)[] = []; // a Set for objects, null for arrays
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "{" || ch === "[") {
      stack.push(ch === "{" ? new Set() : null);
      if (stack.length > maxDepth) throw new StrictJsonError(`JSON nested deeper than ${maxDepth} levels`);
      expectKey = ch === "{";
    } else if (ch === "}" || ch === "]") {
      stack.pop();
      expectKey = false;
    } else if (ch === ",") {
      expectKey = stack.at(-1) instanceof Set;
    } else if (ch === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === "\\" ? 2 : 1;
      if (expectKey) {
        // A name without escapes is its own characters; only an escaped one needs decoding to compare.
        const raw = text.slice(i + 1, end);
        const key = raw.includes("\\") ? (JSON.parse(`"${raw}"`) as string) : raw;
        const keys = stack.at(-1) as Set<string>;
        if (keys.has(key)) throw new StrictJsonError(`duplicate member name '${shortened(key)}'`, key);
        keys.add(key);
        expectKey = false;
      }
      i = end;
    }
  }
}

/**
 * A value a caller sent, for an error message: its JSON text, except for the numbers JSON cannot write
 * (`1e400` parses as Infinity, which JSON.stringify would show as `null`).
 */
export const showJsonValue = (value: unknown): string => (typeof value === "number" && !Number.isFinite(value) ? String(value) : (JSON.stringify(value) ?? "null"));

/** How much of a text a caller sent an error message quotes. */
const MAX_QUOTED_CHARS = 64;
/** A control character's escape: `\u` and four hexadecimal digits. */
const ESCAPE_LENGTH = 6;

/**
 * Text a caller sent, as an error message quotes it: printable (src/lib/printable.ts), then its first
 * MAX_QUOTED_CHARS characters and `…`. A message names what was wrong; quoted whole, 4 KiB of a calling
 * peer's text would be repeated in each place a failure is reported (a verdict's checks, the ATIS
 * reasondesc, the dashboard's recent verdicts), and an SBC copies a reason into a SIP header's text or a
 * log line, where a CR LF would start a line of the peer's own. An escape is not cut in two.
 */
export function shortened(text: string): string {
  // Each character is shown in one character or more: the first MAX_QUOTED_CHARS + 1 decide.
  const shown = printable(text.slice(0, MAX_QUOTED_CHARS + 1));
  if (shown.length <= MAX_QUOTED_CHARS) return shown;
  const escape = shown.lastIndexOf("\\u", MAX_QUOTED_CHARS - 1);
  return `${shown.slice(0, escape > MAX_QUOTED_CHARS - ESCAPE_LENGTH ? escape : MAX_QUOTED_CHARS)}…`;
}
