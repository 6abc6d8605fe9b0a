import { parse } from "./compiled.js";

/**
 * sip.js's `Grammar.parse(input, rule)`, on the grammar built once per isolate (compiled.js): what
 * the rule's actions built, or -1 when the input does not match it. Same contract as sip.js's, whose
 * wrapper this repeats; the parse itself is sip.js's grammar, unchanged.
 */
export function parseSipRule(input: string, rule: string): unknown {
  const options: { startRule: string; data?: unknown } = { startRule: rule };
  try {
    parse(input, options);
  } catch {
    options.data = -1;
  }
  return options.data;
}
