// One metadata set for the whole Worker: importing `libphonenumber-js/min` beside `/max` put both in the
// bundle and both parsed objects in every isolate's heap (BENCHMARKS.md "The half-rate tail").
import { getCountryCallingCode, isSupportedCountry, isValidPhoneNumber, Metadata, parseDigits } from "libphonenumber-js/max";

/**
 * How national-format numbers become international ones. Signer and verifier must agree
 * (spec digest §3), so the plan comes from the operator's home country, via libphonenumber's metadata.
 */
export interface DiallingPlan {
  country: string;
  countryCode: string;
  /** Trunk prefix of national dialling, e.g. "8" in Kazakhstan. */
  nationalPrefix: string | null;
  /** International call prefix, e.g. "810" in Kazakhstan. */
  internationalPrefix: string | null;
  /** Lengths of a national significant number, e.g. [10]. */
  nationalNumberLengths: number[];
}

export class UnknownCountryError extends Error {
  readonly code = "ERR_UNKNOWN_COUNTRY";
}

const plans = new Map<string, DiallingPlan>();

export function diallingPlanFor(country: string): DiallingPlan {
  const cached = plans.get(country);
  if (cached) return cached;
  if (!isSupportedCountry(country)) throw new UnknownCountryError(`HOME_COUNTRY '${country}' is not an ISO 3166 country libphonenumber knows`);
  const metadata = new Metadata();
  metadata.selectNumberingPlan(country);
  // nationalPrefix() exists at runtime but is missing from libphonenumber-js's type declarations.
  const numberingPlan = metadata.numberingPlan as NonNullable<typeof metadata.numberingPlan> & { nationalPrefix(): string | undefined };
  const plan: DiallingPlan = {
    country,
    countryCode: getCountryCallingCode(country),
    nationalPrefix: numberingPlan.nationalPrefix() ?? null,
    internationalPrefix: numberingPlan.IDDPrefix() ?? null,
    nationalNumberLengths: numberingPlan.possibleLengths(),
  };
  plans.set(country, plan);
  return plan;
}

/** RFC 8224 §8.3: everything but digits, `*` and `#` is a visual separator (including the leading `+`). */
const NON_TN_CHARACTERS = /[^0-9*#]/g;
const MAX_TN_LENGTH = 15;

const NON_ASCII = /[^\x00-\x7f]/g;

/** The full-width plus sign, which libphonenumber reads as `+` (its PLUS_CHARS). */
const FULL_WIDTH_PLUS = "\uFF0B";

/**
 * Full-width and Arabic-Indic digits as the ASCII digits they are, by libphonenumber's own table, and
 * the full-width plus sign as `+`: it reads them so when it parses a number, as phones do, so
 * `+７７２７…` and `＋7727…` present +7727…. Any other character stays, and makes the value no number.
 */
const withAsciiDigits = (value: string): string => value.replace(NON_ASCII, (character) => parseDigits(character) || (character === FULL_WIDTH_PLUS ? "+" : character));

/**
 * Canonical form of a call's telephone number (a SIP From, P-Asserted-Identity or To): digits only
 * (plus `*`/`#`), no `+`, 1–15 characters, national-format numbers converted to international with the
 * dialling plan. Null when the value is not a telephone number. Never for a PASSporT's `tn` claim,
 * which is E.164 digits as written (`telephoneNumberDigits`).
 */
export function canonicalizeTn(value: string, plan: DiallingPlan): string | null {
  const trimmed = asDialled(value);
  const digits = dialledDigits(trimmed, AS_DIALLED);
  if (digits === null) return null;
  // A national-format value may run past 15 digits before its international prefix is taken off.
  const international = trimmed.startsWith("+") ? digits : fromNationalFormat(digits, plan);
  return international.length <= MAX_TN_LENGTH ? international : null;
}

/** A number written with RFC 8224 §8.3's usual visual separators: an optional `+`, then digits, `(`, `)`, `.`, `-`, white space. */
const AS_WRITTEN = /^\+?[0-9*#().\-\s]+$/;
/**
 * A number as a phone reads one: those separators and every other punctuation libphonenumber takes as
 * part of a number (its VALID_PUNCTUATION: the other dashes and the minus sign, slashes, full-width
 * dots and brackets, tildes, the soft hyphen and the zero-width spaces). `8‐727‐250‐12‐34` with U+2010
 * hyphens is an Almaty landline to the callee's phone and to its contact list: read so here, it is
 * judged; read as no number, it went unjudged beside a foreign P-Asserted-Identity.
 */
const DIALLED_SEPARATORS = "().\\-\\s\\u2010-\\u2015\\u2212\\u30FC\\uFF0D\\/\\uFF0F\\uFF0E\\u00AD\\u200B\\u2060\\uFF08\\uFF09\\uFF3B\\uFF3D[\\]~\\u2053\\u223C\\uFF5E";
const AS_DIALLED = new RegExp(`^\\+?[0-9*#${DIALLED_SEPARATORS}]+$`);
/**
 * Separators before a global number's `+`: libphonenumber, and the phones built on it, read a number
 * from its first `+` or digit, so `(+7) 727 250 12 34` is +7 727 250 12 34 to the callee. Read as a
 * local number it was no number at all, and went unjudged beside a foreign P-Asserted-Identity.
 */
const BEFORE_GLOBAL_PLUS = new RegExp(`^[${DIALLED_SEPARATORS}]+(?=\\+)`);

/** A call's number as a phone reads it: ASCII digits, trimmed, from its `+` when separators precede one. */
const asDialled = (value: string): string => withAsciiDigits(value).trim().replace(BEFORE_GLOBAL_PLUS, "");

/** Whether a call's number is a global one (RFC 3966 §5.1.4): it starts with `+` as a phone reads it (asDialled). */
export const isGlobalNumber = (value: string): boolean => asDialled(value).startsWith("+");

/** The digits (and `*`, `#`) of a trimmed value written as a number: an optional `+`, then digits with separators. */
function dialledDigits(trimmed: string, written: RegExp = AS_WRITTEN): string | null {
  if (!written.test(trimmed)) return null;
  const digits = trimmed.replace(NON_TN_CHARACTERS, "");
  return digits.length > 0 ? digits : null;
}

/**
 * The digits of a value written as a telephone number in canonical form (a PASSporT's `tn`, RFC 8225
 * §5.2.1, with RFC 8224 §8.3's visual separators allowed): 1 to 15 of them; null for anything else.
 * A claim is E.164 digits, always: no dialling plan ever reads it as a national number.
 */
export function telephoneNumberDigits(value: string): string | null {
  const digits = dialledDigits(value.trim());
  return digits !== null && digits.length <= MAX_TN_LENGTH ? digits : null;
}

/**
 * A number a request names as a canonical TN (ATIS-1000082's `from`/`to` `tn`: RFC 8224 §8.3 digits)
 * that an SBC may still have written in the home plan's national format. Digits that are a valid
 * international number are that number (`4930123456` is Berlin, not a Kazakh national number); the
 * national reading applies only to digits that are not (`87272501234`, `7272501234` stay Almaty).
 * Only a value the national reading would change is looked up in the numbering metadata.
 */
export function canonicalizeTnPreferringE164(value: string, plan: DiallingPlan): string | null {
  const canonical = canonicalizeTn(value, plan);
  const digits = telephoneNumberDigits(value);
  if (digits === null || digits === canonical) return canonical;
  return isValidPhoneNumber(`+${digits}`) ? digits : canonical;
}

/**
 * What the leading digits of numbers mean if they were dialled at home, when that differs from reading
 * them as international digits: `8 727` (the trunk prefix 8) is +7 727, `8 10 49` (the international
 * prefix 810) +49. Null when they do not start with the trunk prefix, or when that prefix begins the
 * country code itself (1 in the US: `1 212` is +1 212 either way).
 */
export function nationalReadingOfPrefix(digits: string, plan: DiallingPlan): string | null {
  const { internationalPrefix, nationalPrefix, countryCode } = plan;
  if (!nationalPrefix || !digits.startsWith(nationalPrefix) || countryCode.startsWith(nationalPrefix)) return null;
  if (internationalPrefix && digits.startsWith(internationalPrefix) && digits.length > internationalPrefix.length) return digits.slice(internationalPrefix.length);
  return countryCode + digits.slice(nationalPrefix.length);
}

function fromNationalFormat(digits: string, plan: DiallingPlan): string {
  const { internationalPrefix, nationalPrefix } = plan;
  // "8 10 49 30 …" dialled from Kazakhstan: strip the international prefix.
  if (internationalPrefix && digits.startsWith(internationalPrefix) && digits.length > internationalPrefix.length + 7) {
    return digits.slice(internationalPrefix.length);
  }
  // "8 727 250 12 34": trunk prefix followed by a national significant number of a known length.
  if (nationalPrefix && digits.startsWith(nationalPrefix)) {
    const national = digits.slice(nationalPrefix.length);
    if (plan.nationalNumberLengths.includes(national.length)) return plan.countryCode + national;
  }
  // "727 250 12 34": a national significant number written without the trunk prefix.
  if (plan.nationalNumberLengths.includes(digits.length)) return plan.countryCode + digits;
  return digits;
}
