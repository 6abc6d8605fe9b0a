import { getCountryCallingCode, isSupportedCountry } from "libphonenumber-js/max";
import * as z from "zod";
import { diallingPlanFor } from "../numbers/telephone-number";
import { numberPatternSchema, patternInPlan, type NumberPattern } from "./number-pattern";
import { buildPatternIndex, type PatternIndex } from "./pattern-index";
import { NUMBER_TYPES, type NumberType } from "./number-type";

/**
 * The operator's view of its home numbering plan: libphonenumber's metadata, corrected and extended
 * by what only the operator knows (issue 4 "Inputs"): ranges the metadata misses, allocated and
 * in-service ranges, its own subscribers (with ports), and Do-Not-Originate numbers.
 */
export const numberingOverridesSchema = z
  .object({
    /** Ranges that belong to the home country though the metadata assigns them to nobody. */
    homeRanges: z.array(numberPatternSchema).max(10_000).default([]),
    /** Number types the metadata gets wrong or does not know. */
    typeOverrides: z.array(z.object({ pattern: numberPatternSchema, type: z.enum(NUMBER_TYPES) }).strict()).max(10_000).default([]),
    /** When non-empty, a home CLI outside every listed range is unallocated (Ireland's Protected Number List model). */
    allocated: z.array(numberPatternSchema).max(50_000).default([]),
    /** Allocated blocks that are not in service: never a legitimate caller. */
    notInService: z.array(numberPatternSchema).max(50_000).default([]),
    /** Numbers of our own subscribers, including numbers ported in. */
    ownSubscribers: z.array(numberPatternSchema).max(50_000).default([]),
    /** Our numbers that were ported away: another carrier legitimately originates them. */
    portedOut: z.array(numberPatternSchema).max(50_000).default([]),
    /** Inbound-only numbers (banks, tax office, police hotlines) that never call out (check 4). */
    doNotOriginate: z.array(numberPatternSchema).max(50_000).default([]),
  })
  .strict();
export type NumberingOverrides = z.infer<typeof numberingOverridesSchema>;

/**
 * Gaps in libphonenumber-js 1.13 metadata for Kazakhstan, filled from the spec digest §2:
 * the 6xx zone is Kazakh but the metadata assigns +7 6… to no country; +7 750 is reported VoIP
 * (the metadata knows 751 as VoIP but treats 750 as unassigned).
 */
const METADATA_GAPS: Record<string, Pick<NumberingOverrides, "homeRanges" | "typeOverrides">> = {
  KZ: {
    homeRanges: [{ prefix: "76" }],
    typeOverrides: [{ pattern: { prefix: "7750" }, type: "voip" }],
  },
};

export function defaultNumberingOverrides(country: string): NumberingOverrides {
  const gaps = METADATA_GAPS[country];
  return numberingOverridesSchema.parse({ homeRanges: gaps?.homeRanges ?? [], typeOverrides: gaps?.typeOverrides ?? [] });
}

export interface HomeNumberingPlan {
  country: string;
  countryCallingCode: string;
  homeRanges: PatternIndex<true>;
  typeOverrides: PatternIndex<NumberType>;
  /** Null when the operator keeps no allocation inventory: the metadata alone decides. */
  allocated: PatternIndex<true> | null;
  notInService: PatternIndex<true>;
  ownSubscribers: PatternIndex<true>;
  portedOut: PatternIndex<true>;
  doNotOriginate: PatternIndex<NumberPattern>;
}

export class UnsupportedHomeCountryError extends Error {
  readonly code = "ERR_HOME_COUNTRY";
}

export function compileHomeNumberingPlan(country: string, overrides: NumberingOverrides): HomeNumberingPlan {
  if (!isSupportedCountry(country)) throw new UnsupportedHomeCountryError(`home country '${country}' is not a country libphonenumber knows`);
  // Every number as a call's is read: one written in national format names the number it means.
  const dialling = diallingPlanFor(country);
  const inPlan = (pattern: NumberPattern) => patternInPlan(pattern, dialling);
  const asSet = (patterns: NumberPattern[]) => buildPatternIndex(patterns.map((pattern) => ({ pattern: inPlan(pattern), value: true as const })));
  return {
    country,
    countryCallingCode: getCountryCallingCode(country),
    homeRanges: asSet(overrides.homeRanges),
    typeOverrides: buildPatternIndex(overrides.typeOverrides.map(({ pattern, type }) => ({ pattern: inPlan(pattern), value: type }))),
    allocated: overrides.allocated.length > 0 ? asSet(overrides.allocated) : null,
    notInService: asSet(overrides.notInService),
    ownSubscribers: asSet(overrides.ownSubscribers),
    portedOut: asSet(overrides.portedOut),
    doNotOriginate: buildPatternIndex(overrides.doNotOriginate.map(inPlan).map((pattern) => ({ pattern, value: pattern }))),
  };
}
