import { parsePhoneNumberFromString } from "libphonenumber-js/max";
import type { HomeNumberingPlan } from "./home-plan";
import { EMERGENCY_NUMBERS, MAX_SHORT_CODE_DIGITS, UNIVERSAL_EMERGENCY_NUMBERS, numberTypeFromLibphonenumber, type NumberType } from "./number-type";

/** Why a canonical TN cannot be a caller ID at all (check 1, spec digest §3). */
export type FormatProblem = "non-digit" | "too-long" | "unknown-country-code" | "wrong-length";

export interface NumberFacts {
  /**
   * The number as libphonenumber reads it, which the checks look up: a national trunk prefix written
   * after the country code (`+7 8 701 …`, `+49 0 170 …`) dropped, as the callee's phone drops it to show
   * and match the number. Looked up as written, +7 8 701 … escaped the roaming table, the rules and the
   * Do-Not-Originate list that name +7 701 ….
   */
  tn: string;
  /** ISO 3166 country, when the metadata (or the operator's home ranges) place the number. */
  country: string | null;
  /** Inside the home country's national ranges: decided by the zone code, never by +7 alone (digest §2). */
  home: boolean;
  type: NumberType;
  /** The number lies in a range the metadata (or an operator type override) knows as assigned. */
  assigned: boolean;
  typeSource: "metadata" | "operator-override" | "short-code-table";
}

export type Classification = { facts: NumberFacts } | { problem: FormatProblem };

const E164_MAX_DIGITS = 15;

/** Classifies a canonical TN (RFC 8224 §8.3 form: digits, no `+`) against the home plan. */
export function classifyNumber(written: string, plan: HomeNumberingPlan): Classification {
  if (!/^[0-9]+$/.test(written)) return { problem: "non-digit" };
  if (written.length > E164_MAX_DIGITS) return { problem: "too-long" };
  if (written.length <= MAX_SHORT_CODE_DIGITS) return { facts: classifyShortCode(written, plan) };

  const parsed = parsePhoneNumberFromString(`+${written}`);
  const tn = parsed?.number.slice(1) ?? written;
  const override = plan.typeOverrides.matching(tn).at(-1);
  const operatorHome = plan.homeRanges.matching(tn).length > 0;
  if (!parsed && !override && !operatorHome) return { problem: "unknown-country-code" };
  if (parsed && !parsed.isPossible() && !override) return { problem: "wrong-length" };

  const metadataCountry = parsed?.country ?? null;
  const home = operatorHome || metadataCountry === plan.country;
  // With the "max" metadata every country has per-type patterns, and libphonenumber's isValid() is
  // exactly "getType() found a type" (isValid.js): one type lookup answers both, instead of two.
  const metadataType = parsed?.getType();
  return {
    facts: {
      tn,
      country: home ? plan.country : metadataCountry,
      home,
      type: override ?? numberTypeFromLibphonenumber(metadataType),
      assigned: override !== undefined || metadataType !== undefined,
      typeSource: override ? "operator-override" : "metadata",
    },
  };
}

/**
 * Short codes and emergency numbers never originate calls on the public network. A normalizer may
 * have put the home country code in front ("7112"), so the code is also looked up without it.
 */
function classifyShortCode(tn: string, plan: HomeNumberingPlan): NumberFacts {
  const emergency = [...(EMERGENCY_NUMBERS[plan.country] ?? []), ...UNIVERSAL_EMERGENCY_NUMBERS];
  const withoutCountryCode = tn.startsWith(plan.countryCallingCode) ? tn.slice(plan.countryCallingCode.length) : tn;
  const isEmergency = emergency.includes(tn) || emergency.includes(withoutCountryCode);
  return { tn, country: plan.country, home: true, type: isEmergency ? "emergency" : "short-code", assigned: true, typeSource: "short-code-table" };
}
