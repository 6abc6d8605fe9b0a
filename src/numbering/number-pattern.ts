import { z } from "zod";

/**
 * A set of telephone numbers as operators and analysts write them: one number, every number under a
 * prefix, or an inclusive range of numbers of the same length. Numbers are canonical TNs (digits,
 * no `+`; RFC 8224 §8.3); a leading `+` is accepted on input and dropped.
 */
export type NumberPattern = { exact: string } | { prefix: string } | { from: string; to: string };

const MAX_TN_DIGITS = 15;
const canonicalDigits = z
  .string()
  .trim()
  .transform((value) => value.replace(/^\+/, ""))
  .pipe(z.string().regex(/^[0-9]{1,15}$/, `expected 1–${MAX_TN_DIGITS} digits, optionally after '+'`));

/** Exactly one of `exact`, `prefix` or `from`+`to`; errors name the offending member. */
export const numberPatternSchema = z
  .object({ exact: canonicalDigits.optional(), prefix: canonicalDigits.optional(), from: canonicalDigits.optional(), to: canonicalDigits.optional() })
  .strict()
  .superRefine((pattern, ctx) => {
    const forms = [pattern.exact !== undefined, pattern.prefix !== undefined, pattern.from !== undefined || pattern.to !== undefined].filter(Boolean).length;
    if (forms !== 1) {
      ctx.addIssue({ code: "custom", message: "give exactly one of exact, prefix, or from+to" });
      return;
    }
    if (pattern.from === undefined && pattern.to === undefined) return;
    if (pattern.from === undefined || pattern.to === undefined) {
      ctx.addIssue({ code: "custom", path: [pattern.from === undefined ? "from" : "to"], message: "a range needs both from and to" });
    } else if (pattern.from.length !== pattern.to.length) {
      ctx.addIssue({ code: "custom", path: ["to"], message: "from and to must have the same number of digits" });
    } else if (pattern.from > pattern.to) {
      ctx.addIssue({ code: "custom", path: ["to"], message: "to must not be below from" });
    }
  })
  .transform((pattern): NumberPattern => {
    if (pattern.exact !== undefined) return { exact: pattern.exact };
    if (pattern.prefix !== undefined) return { prefix: pattern.prefix };
    return { from: pattern.from!, to: pattern.to! };
  });

export function describePattern(pattern: NumberPattern): string {
  if ("exact" in pattern) return pattern.exact;
  if ("prefix" in pattern) return `${pattern.prefix}*`;
  return `${pattern.from}..${pattern.to}`;
}

export function patternCovers(pattern: NumberPattern, tn: string): boolean {
  if ("exact" in pattern) return tn === pattern.exact;
  if ("prefix" in pattern) return tn.startsWith(pattern.prefix);
  // Same length, so digit strings order as the numbers they spell.
  return tn.length === pattern.from.length && tn >= pattern.from && tn <= pattern.to;
}
