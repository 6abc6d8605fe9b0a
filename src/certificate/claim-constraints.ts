import "../lib/reflect-metadata";
import { AsnArray, AsnConvert, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes } from "@peculiar/asn1-schema";
import { id_pe, id_pe_JWTClaimConstraints, JWTClaimConstraints, JWTClaimNames } from "@peculiar/asn1-rfc8226";
import type { X509Certificate } from "@peculiar/x509";
import { shortened, showJsonValue } from "../lib/strict-json";
import { toHex } from "../pki/keys";

/** RFC 9118 §3: id-pe-eJWTClaimConstraints. */
export const ENHANCED_JWT_CLAIM_CONSTRAINTS_OID = `${id_pe}.33`;

// RFC 9118 §3, in a module of EXPLICIT TAGS as RFC 8226's is:
//   EnhancedJWTClaimConstraints ::= SEQUENCE {
//     mustInclude [0] JWTClaimNames OPTIONAL, permittedValues [1] JWTClaimValuesList OPTIONAL,
//     mustExclude [2] JWTClaimNames OPTIONAL }
//   JWTClaimValuesList ::= SEQUENCE SIZE (1..MAX) OF JWTClaimValues
//   JWTClaimValues ::= SEQUENCE { claim JWTClaimName, values SEQUENCE SIZE (1..MAX) OF UTF8String }
// @peculiar/asn1-rfc8226 has RFC 8226's types, not these. The decorators are applied as plain calls,
// as in tnauthlist.ts, so that the module loads the same way whatever decorator mode its compiler assumes.
export class JWTClaimValues {
  claim = "";
  values: string[] = [];
  constructor(params: Partial<JWTClaimValues> = {}) {
    Object.assign(this, params);
  }
}
AsnProp({ type: AsnPropTypes.IA5String })(JWTClaimValues.prototype, "claim");
AsnProp({ type: AsnPropTypes.Utf8String, repeated: "sequence" })(JWTClaimValues.prototype, "values");

export class JWTClaimValuesList extends AsnArray<JWTClaimValues> {}
AsnType({ type: AsnTypeTypes.Sequence, itemType: JWTClaimValues })(JWTClaimValuesList);

export class EnhancedJWTClaimConstraints {
  mustInclude?: JWTClaimNames;
  permittedValues?: JWTClaimValuesList;
  mustExclude?: JWTClaimNames;
  constructor(params: Partial<EnhancedJWTClaimConstraints> = {}) {
    Object.assign(this, params);
  }
}
AsnProp({ type: JWTClaimNames, optional: true, context: 0 })(EnhancedJWTClaimConstraints.prototype, "mustInclude");
AsnProp({ type: JWTClaimValuesList, optional: true, context: 1 })(EnhancedJWTClaimConstraints.prototype, "permittedValues");
AsnProp({ type: JWTClaimNames, optional: true, context: 2 })(EnhancedJWTClaimConstraints.prototype, "mustExclude");

/** One extension's constraints, named as a reasondesc names them. */
export interface ClaimConstraints {
  extension: "JWTClaimConstraints (RFC 8226 §8)" | "EnhancedJWTClaimConstraints (RFC 9118 §3)";
  mustInclude: string[];
  permittedValues: { claim: string; values: string[] }[];
  mustExclude: string[];
}

export type ClaimConstraintsReading = { constraints: ClaimConstraints[] } | { unreadable: string };

const describeError = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * The DER of one extension's value, read with `schema`. The parser reads BER and ignores bytes after
 * the value, so the value must be the DER encoding of what was read: nothing in it goes unread.
 */
function parseExactly<T extends object>(value: ArrayBuffer, schema: new () => T): T {
  const parsed = AsnConvert.parse(value, schema);
  if (toHex(AsnConvert.serialize(parsed)) !== toHex(value)) throw new Error("not the DER encoding of its type");
  return parsed;
}

type ExtensionName = ClaimConstraints["extension"];
type Components = Partial<Omit<ClaimConstraints, "extension">>;

/** The two extensions, each read into the components it has: RFC 9118's adds mustExclude to RFC 8226's. */
const EXTENSIONS: { oid: string; name: ExtensionName; read: (value: ArrayBuffer) => Components }[] = [
  {
    oid: id_pe_JWTClaimConstraints,
    name: "JWTClaimConstraints (RFC 8226 §8)",
    read: (value) => {
      const { mustInclude, permittedValues } = parseExactly(value, JWTClaimConstraints);
      return { mustInclude: mustInclude && [...mustInclude], permittedValues: permittedValues?.map(({ claim, permitted }) => ({ claim, values: permitted })) };
    },
  },
  {
    oid: ENHANCED_JWT_CLAIM_CONSTRAINTS_OID,
    name: "EnhancedJWTClaimConstraints (RFC 9118 §3)",
    read: (value) => {
      const { mustInclude, permittedValues, mustExclude } = parseExactly(value, EnhancedJWTClaimConstraints);
      return { mustInclude: mustInclude && [...mustInclude], permittedValues: permittedValues?.map(({ claim, values }) => ({ claim, values })), mustExclude: mustExclude && [...mustExclude] };
    },
  },
];

/**
 * The SIZE (1..MAX) of every list and the WITH COMPONENTS rule (at least one component present) of
 * both modules: an empty extension or list is malformed, and refused rather than read as constraining nothing.
 */
function wellFormed(extension: ExtensionName, { mustInclude, permittedValues, mustExclude }: Components): ClaimConstraints {
  const lists = [mustInclude, permittedValues, mustExclude].filter((list) => list !== undefined);
  if (lists.length === 0) throw new Error("none of its components is present");
  if (lists.some((list) => list.length === 0) || permittedValues?.some((entry) => entry.values.length === 0)) throw new Error("it holds an empty list");
  return { extension, mustInclude: mustInclude ?? [], permittedValues: permittedValues ?? [], mustExclude: mustExclude ?? [] };
}

/**
 * The JWT Claim Constraints (RFC 8226 §8) and Enhanced JWT Claim Constraints (RFC 9118 §3) of a
 * signing certificate, both when it carries both. Never throws: an extension that cannot be read is
 * `unreadable`, which the verifier refuses, since it cannot tell what the issuer forbade.
 */
export function readClaimConstraints(certificate: Pick<X509Certificate, "extensions">): ClaimConstraintsReading {
  const constraints: ClaimConstraints[] = [];
  for (const { oid, name, read } of EXTENSIONS) {
    try {
      const found = certificate.extensions.filter((candidate) => candidate.type === oid);
      if (found.length > 1) return { unreadable: `the signing certificate carries ${found.length} ${name} extensions (RFC 5280 §4.2 allows one)` };
      if (found[0]) constraints.push(wellFormed(name, read(found[0].value)));
    } catch (error) {
      return { unreadable: `the signing certificate's ${name} extension (${oid}) cannot be decoded: ${describeError(error)}` };
    }
  }
  return { constraints };
}

/** A claim value as a reasondesc quotes it: bounded, since a hostile signer writes it. */
const shown = (value: unknown): string => shortened(showJsonValue(value));

/**
 * A claim's value as a permitted value is compared with it: a string as itself; anything else
 * (a number, an object) as its JSON text without white space, which a listed UTF8String must equal.
 */
const comparable = (value: unknown): string => (typeof value === "string" ? value : showJsonValue(value));

/**
 * The first constraint the PASSporT's claims break, described, or null. RFC 8226 §8 and RFC 9118 §3:
 * each mustInclude claim is present; a permittedValues claim, when present, has one of the listed
 * values (when absent it is not required); no mustExclude claim is present. The claims are the JWT
 * claims of the payload, all of them, not only those this verifier reads.
 */
export function brokenClaimConstraint(constraints: ClaimConstraints[], claims: Readonly<Record<string, unknown>>): { description: string; evidence: Record<string, unknown> } | null {
  const has = (claim: string) => Object.hasOwn(claims, claim);
  for (const { extension, mustInclude, permittedValues, mustExclude } of constraints) {
    const missing = mustInclude.find((claim) => !has(claim));
    if (missing !== undefined) {
      return {
        description: `claim '${missing}' is missing; the signing certificate's ${extension} mustInclude lists it`,
        evidence: { claim: missing, constraint: "mustInclude", extension },
      };
    }
    const outside = permittedValues.find(({ claim, values }) => has(claim) && !values.includes(comparable(claims[claim])));
    if (outside) {
      const listed = outside.values.map((value) => JSON.stringify(value)).join(", ");
      return {
        description: `claim '${outside.claim}' is ${shown(claims[outside.claim])}, not one of the values ${listed} that the signing certificate's ${extension} permittedValues allows`,
        evidence: { claim: outside.claim, value: shown(claims[outside.claim]), permitted: outside.values, constraint: "permittedValues", extension },
      };
    }
    const excluded = mustExclude.find(has);
    if (excluded !== undefined) {
      return {
        description: `claim '${excluded}' is present with value ${shown(claims[excluded])}; the signing certificate's ${extension} mustExclude lists it`,
        evidence: { claim: excluded, value: shown(claims[excluded]), constraint: "mustExclude", extension },
      };
    }
  }
  return null;
}
