import "../lib/reflect-metadata";
import { AsnArray, AsnConvert, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes } from "@peculiar/asn1-schema";
import { TelephoneNumberRange, TNAuthorizationList, TNEntry, id_pe_TNAuthList } from "@peculiar/asn1-rfc8226";
import type { X509Certificate } from "@peculiar/x509";
import { isValidServiceProviderCode } from "../pki/profile";

/** RFC 8226 §9: id-pe-TNAuthList. */
export const TN_AUTH_LIST_OID = id_pe_TNAuthList;

/** RFC 8226 §9 TelephoneNumberRange: `count` consecutive numbers from `start`. */
export interface TelephoneNumberRangeEntry {
  start: string;
  count: number;
}

export type TnAuthListReading =
  | { form: "rfc8226"; spcs: string[]; ranges: TelephoneNumberRangeEntry[]; tns: string[] }
  | { form: "bare-ia5string" | "bare-printablestring" | "sequence-of-printablestring"; spcs: string[]; note: string }
  | { form: "absent" }
  | { form: "unparseable"; error: string };

export interface TnAuthListEntry {
  spc?: string;
  range?: TelephoneNumberRangeEntry;
  tn?: string;
}

/** Thrown only by the encoder, for an entry that is not exactly one CHOICE alternative. */
export class TnAuthListEntryError extends Error {
  readonly code = "ERR_TNAUTHLIST_ENTRY_INVALID";
}

/**
 * RFC 8226 §9: `TNAuthorizationList ::= SEQUENCE SIZE (1..MAX) OF TNEntry` with EXPLICIT context tags,
 * so SPC "818H" encodes as `30 08 A0 06 16 04 38 31 38 48`.
 */
export function encodeTnAuthList(entries: TnAuthListEntry[]): ArrayBuffer {
  const asnEntries = entries.map((entry) => {
    const alternatives = [entry.spc, entry.range, entry.tn].filter((value) => value !== undefined);
    if (alternatives.length !== 1) {
      throw new TnAuthListEntryError("a TNAuthList entry is exactly one of spc, range or tn (RFC 8226 §9 TNEntry CHOICE)");
    }
    if (entry.range) return new TNEntry({ range: Object.assign(new TelephoneNumberRange(), entry.range) });
    return new TNEntry(entry.spc !== undefined ? { spc: entry.spc } : { one: entry.tn });
  });
  return AsnConvert.serialize(new TNAuthorizationList(asnEntries));
}

// Encodings STI-CAs have issued that are not RFC 8226 (spec §6, realworld README). They are modelled
// with the ASN.1 library so that they can be named in lint findings instead of failing as "garbage".
// The schema decorators are applied as plain calls: the module must load the same way whatever
// decorator mode the compiler of the day (wrangler, vitest, tsx outside the repo) assumes.
class BareServiceProviderCode {
  ia5?: string;
  printable?: string;
}
AsnProp({ type: AsnPropTypes.IA5String })(BareServiceProviderCode.prototype, "ia5");
AsnProp({ type: AsnPropTypes.PrintableString })(BareServiceProviderCode.prototype, "printable");
AsnType({ type: AsnTypeTypes.Choice })(BareServiceProviderCode);

/** One SPC as a bare IA5String (libstirshaken) or PrintableString, for fixtures that reproduce those certificates. */
export function encodeBareServiceProviderCode(spc: string, type: "ia5" | "printable"): ArrayBuffer {
  return AsnConvert.serialize(Object.assign(new BareServiceProviderCode(), { [type]: spc }));
}

class SequenceOfPrintableString extends AsnArray<string> {}
AsnType({ type: AsnTypeTypes.Sequence, itemType: AsnPropTypes.PrintableString })(SequenceOfPrintableString);

const describeError = (error: unknown): string => (error instanceof Error ? error.message : String(error));

function readRfc8226(value: ArrayBuffer): TnAuthListReading {
  const list = AsnConvert.parse(value, TNAuthorizationList);
  // A CHOICE that matched no alternative parses to an empty object instead of failing.
  if (list.length === 0 || list.some((entry) => entry.spc === undefined && entry.range === undefined && entry.one === undefined)) {
    throw new Error("not a SEQUENCE OF TNEntry");
  }
  return {
    form: "rfc8226",
    spcs: list.flatMap((entry) => (entry.spc === undefined ? [] : [entry.spc])),
    // asn1-schema reads an INTEGER of four bytes or more (a count from 2^23) as its decimal text, whatever the type says:
    // a number here, so that no sum with it is a concatenation and the verdict reports it as the number it is.
    ranges: list.flatMap((entry) => (entry.range ? [{ start: entry.range.start, count: Number(entry.range.count) }] : [])),
    tns: list.flatMap((entry) => (entry.one === undefined ? [] : [entry.one])),
  };
}

function readNonConforming(value: ArrayBuffer): TnAuthListReading | undefined {
  try {
    const bare = AsnConvert.parse(value, BareServiceProviderCode);
    if (bare.ia5 !== undefined) {
      return { form: "bare-ia5string", spcs: [bare.ia5], note: "SPC encoded as a bare IA5String, not a SEQUENCE OF TNEntry (RFC 8226 §9)" };
    }
    if (bare.printable !== undefined) {
      return { form: "bare-printablestring", spcs: [bare.printable], note: "SPC encoded as a bare PrintableString, not a SEQUENCE OF TNEntry (RFC 8226 §9)" };
    }
  } catch {
    // not a bare string; try the SEQUENCE form below
  }
  try {
    const strings = AsnConvert.parse(value, SequenceOfPrintableString);
    if (strings.length > 0 && strings.every((item) => typeof item === "string")) {
      return {
        form: "sequence-of-printablestring",
        spcs: [...strings],
        note: "SPC encoded as SEQUENCE OF PrintableString without the [0] spc tag and IA5String type (RFC 8226 §9)",
      };
    }
  } catch {
    // fall through: unparseable
  }
  return undefined;
}

/**
 * Reads the TNAuthList of a certificate (or of a PKCS#10 request's extensionRequest). Never throws:
 * certificates in the wild carry non-RFC encodings (spec §6), and a verifier must classify them rather than crash.
 */
export function readTnAuthList(cert: Pick<X509Certificate, "extensions">): TnAuthListReading {
  let value: ArrayBuffer;
  try {
    const extension = cert.extensions.find((candidate) => candidate.type === TN_AUTH_LIST_OID);
    if (!extension) return { form: "absent" };
    value = extension.value;
  } catch (error) {
    return { form: "unparseable", error: `extensions unreadable: ${describeError(error)}` };
  }
  try {
    return readRfc8226(value);
  } catch (error) {
    return readNonConforming(value) ?? { form: "unparseable", error: describeError(error) };
  }
}

/**
 * What a TNAuthList lets its certificate sign for. A valid service provider code (ATIS-1000080 §6.4.1:
 * [A-Z0-9]+) vouches for every number that provider serves, which no verifier can list; telephone
 * numbers and ranges (RFC 8226 §9 `one` and `range`: the delegate certificates of RFC 9060 and
 * ATIS-1000092) vouch for exactly those numbers. A "code" that is no SPC — libstirshaken's URL in a bare
 * IA5String — vouches for nothing.
 */
export type TnAuthorisation =
  | { scope: "service-provider"; spc: string }
  | { scope: "numbers"; tns: string[]; ranges: TelephoneNumberRangeEntry[] }
  | { scope: "nothing"; invalidSpcs: string[] };

export function authorisationOf(reading: Extract<TnAuthListReading, { spcs: string[] }>): TnAuthorisation {
  const spc = reading.spcs.find(isValidServiceProviderCode);
  if (spc !== undefined) return { scope: "service-provider", spc };
  if (reading.form === "rfc8226" && reading.tns.length + reading.ranges.length > 0) return { scope: "numbers", tns: reading.tns, ranges: reading.ranges };
  return { scope: "nothing", invalidSpcs: reading.spcs };
}

const DIGITS = /^[0-9]+$/;

/**
 * RFC 8226 §9: a range is `count` consecutive numbers from `start`, each as long as `start` (so
 * `0771…` is not in a range of `771…` numbers). Up to 15 digits, the arithmetic is exact in a double.
 */
function rangeHolds(range: TelephoneNumberRangeEntry, tn: string): boolean {
  if (tn.length !== range.start.length || !DIGITS.test(tn) || !DIGITS.test(range.start)) return false;
  const offset = Number(tn) - Number(range.start);
  return offset >= 0 && offset < range.count;
}

/** The `one` or `range` entry of a TN-scoped TNAuthList that names `tn` (E.164 digits), or null. */
export function entryNaming(authorisation: Extract<TnAuthorisation, { scope: "numbers" }>, tn: string): TnAuthListEntry | null {
  if (authorisation.tns.includes(tn)) return { tn };
  const range = authorisation.ranges.find((candidate) => rangeHolds(candidate, tn));
  return range ? { range } : null;
}
