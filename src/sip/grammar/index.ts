import { parse, SyntaxError } from "./compiled.js";

/**
 * What one of sip.js's grammar rules made of an input: what the rule's actions built, or where the
 * input stopped matching (the grammar's furthest failure, as its SyntaxError reports it; null when
 * an action refused what it read rather than the grammar).
 */
export type RuleMatch = { matched: true; data: unknown } | { matched: false; stoppedAt: number | null };

/**
 * Runs one rule of the grammar built once per isolate (compiled.js) on the whole of `input`. Only the
 * offset of a refusal is read, so the grammar is asked for that alone rather than for its SyntaxError.
 */
export function matchSipRule(input: string, rule: string): RuleMatch {
  const options: { startRule: string; offsetOnly: true; data?: unknown; failedAt?: number } = { startRule: rule, offsetOnly: true };
  try {
    parse(input, options);
  } catch (error) {
    const stoppedAt = error instanceof SyntaxError ? (error.location as { start: { offset: number } }).start.offset : null;
    return { matched: false, stoppedAt };
  }
  if (options.failedAt !== undefined) return { matched: false, stoppedAt: options.failedAt };
  // sip.js's actions set the result to -1 themselves when they cannot build what they read.
  return options.data === -1 ? { matched: false, stoppedAt: null } : { matched: true, data: options.data };
}

