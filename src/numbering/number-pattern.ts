import * as z from "zod";
import { canonicalizeTn, canonicalizeTnPreferringE164, nationalReadingOfPrefix, telephoneNumberDigits, type DiallingPlan } from "../numbers/telephone-number";

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

export const NOT_A_NUMBER = "expected a telephone number, e.g. +7 727 250 12 34, 8 727 250 12 34 or 77272501234";

/**
 * A number as a person types it, read the way the verdict reads a caller ID (issue 23 item 5): visual
 * separators (RFC 8224 §8.3), a leading `+`, national format by the home dialling plan; the canonical
 * form is what is kept.
 */
export const dialledNumberSchema = (plan: DiallingPlan) =>
  z
    .string()
    // A value that is no number reads as "", refused by a check that lets the other fields' checks run too.
    .transform((value) => canonicalizeTn(value, plan) ?? "")
    .pipe(z.string().min(1, NOT_A_NUMBER));

/**
 * Why a prefix written as `value` (its digits `digits`) names two prefixes, or null: without `+` and
 * starting with the home plan's trunk prefix, it is also a prefix dialled at home.
 */
function homeReadingOfPrefix(value: string, digits: string, plan: DiallingPlan): string | null {
  const national = value.trim().startsWith("+") ? null : nationalReadingOfPrefix(digits, plan);
  return national === null ? null : `may be dialled at home: write +${national} for that, or +${digits} for the international prefix`;
}

/**
 * Why a prefix's digits `digits` hold `*` or `#`, or null. A caller ID may carry them (RFC 8224 §8.3), but
 * a prefix written `+7727250*` is a wildcard meant: the verdicts and rule hits show a prefix so
 * (describePattern), and kept as written it covered only numbers with a literal `*`, none of the calls meant.
 */
function wildcardIn(digits: string): string | null {
  if (!/[*#]/.test(digits)) return null;
  const meant = digits.replace(/[*#]+$/, "");
  return /^[0-9]+$/.test(meant) ? `'*' and '#' are no wildcards: a prefix covers every number that starts with it; write +${meant}` : "'*' and '#' are no wildcards: a prefix is the leading digits of numbers";
}

/**
 * The leading digits of numbers, with the same separators allowed, in international form (`+7 727` →
 * 7727). A prefix is not a whole number, so its length cannot tell a national one from an international
 * one: written without `+` and starting with the home plan's trunk prefix (`8 701 555` in Kazakhstan),
 * it is +7 701 555 to whoever dialled it at home and +870 1555 as international digits, and kept as
 * either a rule meant for the other matches nothing. Such a prefix is refused, naming both readings.
 */
const dialledPrefixSchema = (plan: DiallingPlan) =>
  z
    .string()
    .superRefine((value, ctx) => {
      const digits = telephoneNumberDigits(value);
      if (digits === null) {
        ctx.addIssue({ code: "custom", message: `expected the leading 1–${MAX_TN_DIGITS} digits of numbers in international form, e.g. +7 727` });
        return;
      }
      const problem = wildcardIn(digits) ?? homeReadingOfPrefix(value, digits, plan);
      if (problem !== null) ctx.addIssue({ code: "custom", message: problem });
    })
    .transform((value) => telephoneNumberDigits(value) ?? "");

/** Exactly one of `exact`, `prefix` or `from`+`to`; errors name the offending member. */
const patternSchemaOf = (number: z.ZodType<string, string>, prefix: z.ZodType<string, string>) =>
  z
    .object({ exact: number.optional(), prefix: prefix.optional(), from: number.optional(), to: number.optional() })
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
      } else if (!/^[0-9]+$/.test(pattern.from) || !/^[0-9]+$/.test(pattern.to)) {
        // A range is compared as numbers (pattern-index.ts): `7727*` is none, and the index and the matcher disagreed on what it covered.
        ctx.addIssue({ code: "custom", path: [/^[0-9]+$/.test(pattern.from) ? "to" : "from"], message: "a range's ends are numbers of digits only" });
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

/** What a write is refused for, by the field that holds it. */
export interface PatternRefusal {
  field: string;
  message: string;
}

/**
 * The prefixes of a configuration document, as written, that may be dialled at home (as
 * dialledPrefixSchema refuses them in rules): written without `+` and starting with the home plan's
 * trunk prefix, `8800` is the Kazakh toll-free +7 800 to whoever wrote it and +880 0 (Bangladesh) as
 * the international digits a configuration keeps, so a Do-Not-Originate or own-subscriber entry
 * meant for the one silently matched nothing. Refused when written; a document stored before this
 * check still loads as it did, so a deploy never turns a working configuration into an outage.
 */
export function ambiguousPrefixes(document: unknown, plan: DiallingPlan, path = "document"): PatternRefusal[] {
  if (Array.isArray(document)) return document.flatMap((item, index) => ambiguousPrefixes(item, plan, `${path}.${index}`));
  if (typeof document !== "object" || document === null) return [];
  return Object.entries(document).flatMap(([key, value]) => {
    if (key !== "prefix" || typeof value !== "string") return ambiguousPrefixes(value, plan, `${path}.${key}`);
    const digits = telephoneNumberDigits(value);
    const ambiguity = digits === null ? null : homeReadingOfPrefix(value, digits, plan);
    return ambiguity === null ? [] : [{ field: `${path}.prefix`, message: ambiguity }];
  });
}

/**
 * A configuration document as the admin API shows it: each prefix with `+`, as it is meant (a
 * configuration keeps prefixes as international digits), so that a section read and sent back is not
 * refused by ambiguousPrefixes.
 */
export function withInternationalPrefixes<T>(document: T): T {
  if (Array.isArray(document)) return document.map(withInternationalPrefixes) as T;
  if (typeof document !== "object" || document === null) return document;
  return Object.fromEntries(
    Object.entries(document).map(([key, value]) => [key, key === "prefix" && typeof value === "string" && !value.startsWith("+") ? `+${value}` : withInternationalPrefixes(value)]),
  ) as T;
}

/** Patterns in configuration documents: canonical digits, optionally after `+`. */
export const numberPatternSchema = patternSchemaOf(canonicalDigits, canonicalDigits);

/** Patterns analysts type (rules): numbers read as the verdict reads a caller ID, prefixes in international form (`+` where they could be national). */
export const dialledNumberPatternSchema = (plan: DiallingPlan) => patternSchemaOf(dialledNumberSchema(plan), dialledPrefixSchema(plan));

/**
 * A configured pattern's numbers as the calls' numbers are read. A configuration document holds
 * canonical digits, but an operator may write a bank's line as it is dialled at home (`87272501234`,
 * `7272501234`): kept as written, such an entry named +8 727… and never matched the number it meant.
 * Digits that are a valid international number stay that number (4930123456 is Berlin); others are
 * read in the home dialling plan, as a request's canonical TN is (canonicalizeTnPreferringE164). A
 * prefix is international digits already. A range whose ends do not read as one range stays as written.
 */
export function patternInPlan(pattern: NumberPattern, plan: DiallingPlan): NumberPattern {
  if ("prefix" in pattern) return pattern;
  const read = (digits: string) => canonicalizeTnPreferringE164(digits, plan) ?? digits;
  if ("exact" in pattern) return { exact: read(pattern.exact) };
  const from = read(pattern.from);
  const to = read(pattern.to);
  return from.length === to.length && from <= to ? { from, to } : pattern;
}

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
