/**
 * Number types, libphonenumber's classification in our spelling, plus the two kinds its metadata does
 * not cover: emergency numbers and short codes (spec digest §3, check 3).
 */
export const NUMBER_TYPES = [
  "fixed",
  "mobile",
  "fixed-or-mobile",
  "voip",
  "toll-free",
  "premium",
  "shared-cost",
  "uan",
  "personal",
  "pager",
  "voicemail",
  "emergency",
  "short-code",
  "unknown",
] as const;
export type NumberType = (typeof NUMBER_TYPES)[number];

const FROM_LIBPHONENUMBER: Record<string, NumberType> = {
  FIXED_LINE: "fixed",
  MOBILE: "mobile",
  FIXED_LINE_OR_MOBILE: "fixed-or-mobile",
  VOIP: "voip",
  TOLL_FREE: "toll-free",
  PREMIUM_RATE: "premium",
  SHARED_COST: "shared-cost",
  UAN: "uan",
  PERSONAL_NUMBER: "personal",
  PAGER: "pager",
  VOICEMAIL: "voicemail",
};

export const numberTypeFromLibphonenumber = (type: string | undefined): NumberType =>
  (type !== undefined ? FROM_LIBPHONENUMBER[type] : undefined) ?? "unknown";

/**
 * Emergency numbers per country: libphonenumber-js ships no short-number metadata. Kazakhstan:
 * 101 fire, 102 police, 103 ambulance, 104 gas, 112 single emergency number (spec digest §3, check 3).
 */
export const EMERGENCY_NUMBERS: Record<string, readonly string[]> = {
  KZ: ["101", "102", "103", "104", "112"],
  RU: ["101", "102", "103", "104", "112"],
};
export const UNIVERSAL_EMERGENCY_NUMBERS: readonly string[] = ["112", "911"];

/** No E.164 number is this short (the shortest, e.g. +290 xxxx, have 7 digits): anything shorter is a short code. */
export const MAX_SHORT_CODE_DIGITS = 6;
