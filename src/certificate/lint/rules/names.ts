import { ATIS_V003, ATIS_V004, ATIS_V005, CA_ROLES, documentRule, leafAndCaRules, US_CP_1_1, US_CP_1_3, US_CP_1_4, type LintRule } from "../rule";
import { ATTRIBUTE_OIDS, type LintSubject, type NameAttribute } from "../subject";

const { commonName, country, organization, organizationalUnit, serialNumber, locality, stateOrProvince, emailAddress } = ATTRIBUTE_OIDS;

const ATTRIBUTE_NAMES: Record<string, string> = {
  [commonName]: "CN",
  [country]: "C",
  [organization]: "O",
  [serialNumber]: "serialNumber",
  [locality]: "L",
  [stateOrProvince]: "ST",
  [emailAddress]: "emailAddress",
  [organizationalUnit]: "OU",
};
const attributeName = (type: string): string => ATTRIBUTE_NAMES[type] ?? type;

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The whole word, as the reference linter matches it (`\bSHAKEN\b`). */
const containsWord = (text: string, word: string, flags = ""): boolean => new RegExp(`\\b${escapeRegExp(word)}\\b`, flags).test(text);

const exactlyOne = (subject: LintSubject, type: string): string | undefined => {
  const values = subject.subjectValues(type);
  return values.length === 1 ? undefined : `subject has ${values.length === 0 ? "no" : values.length} ${attributeName(type)} attribute${values.length > 1 ? "s" : ""}, must have exactly one`;
};

/** ISO 3166-1 alpha-2: two upper-case letters. */
const ISO_COUNTRY_CODE = /^[A-Z]{2}$/;

/**
 * Subject attributes a relying party can tie to the vetted service provider (US SHAKEN CP §3.1): CN,
 * C, O, L, ST, and for end-entity certificates the serialNumber CP 1.1 / 1.3 ask for. emailAddress has
 * its own rule.
 */
const KNOWN_LEAF_ATTRIBUTES = new Set<string>([commonName, country, organization, locality, stateOrProvince, serialNumber, emailAddress]);
const KNOWN_CA_ATTRIBUTES = new Set<string>([commonName, country, organization, locality, stateOrProvince]);

const unknownAttributes = (attributes: NameAttribute[], known: Set<string>): string | undefined => {
  const unknown = [...new Set(attributes.filter((attribute) => !known.has(attribute.type)).map((attribute) => attributeName(attribute.type)))];
  return unknown.length > 0 ? `subject carries ${unknown.join(", ")}: only ${[...known].filter((type) => type !== emailAddress).map(attributeName).join(", ")} should be used; other attributes are ambiguous and not vetted` : undefined;
};

export const NAME_RULES: LintRule[] = [
  ...leafAndCaRules("e_atis_subject_dn", ATIS_V003, "§6.4.1", {
    description: "The subject DN has exactly one C and exactly one CN.",
    severity: "error",
    profile: "atis",
    check: (subject) => exactlyOne(subject, country) ?? exactlyOne(subject, commonName),
  }),
  ...leafAndCaRules("e_atis_subject_o_required", ATIS_V004, "§6.4.1", {
    description: "The subject DN has exactly one O (the legal name of the STI Participant or STI-CA).",
    severity: "error",
    profile: "atis",
    check: (subject) => exactlyOne(subject, organization),
  }),
  ...leafAndCaRules("e_atis_subject_c_iso", ATIS_V005, "§6.4.1", {
    description: "The subject C is one ISO 3166-1 alpha-2 country code.",
    severity: "error",
    profile: "atis",
    check: (subject) => {
      const [code, ...more] = subject.subjectValues(country);
      if (code === undefined || more.length > 0) return exactlyOne(subject, country);
      return ISO_COUNTRY_CODE.test(code) ? undefined : `subject C is ${JSON.stringify(code)}, must be an ISO 3166-1 alpha-2 code such as "US"`;
    },
  }),
  ...leafAndCaRules("e_atis_subject_c_us", US_CP_1_4, "§3.1", {
    description: 'A certificate issued under CP 1.4 has one subject C, "US".',
    severity: "error",
    profile: "us-cp",
    check: (subject) => {
      if (!subject.assertsCp14) return undefined;
      const countries = subject.subjectValues(country);
      return countries.length === 1 && countries[0] === "US" ? undefined : `certificate asserts CP 1.4 but its subject C is ${JSON.stringify(countries.join(", "))}, must be "US"`;
    },
  }),
  ...leafAndCaRules("e_atis_subject_cn", ATIS_V003, "§6.4.1", {
    description: 'The subject CN contains the word "SHAKEN".',
    severity: "error",
    profile: "atis",
    check: ({ commonName: name }) => (containsWord(name, "SHAKEN") ? undefined : `subject CN ${JSON.stringify(name)} does not contain "SHAKEN"`),
  }),
  documentRule("e_atis_subject_cn_root", ATIS_V005, "§6.4.1", ["root"], {
    description: 'A root\'s subject CN contains the word "ROOT", in any case.',
    severity: "error",
    profile: "atis",
    check: ({ commonName: name }) => (containsWord(name, "ROOT", "i") ? undefined : `root subject CN ${JSON.stringify(name)} does not contain "ROOT"`),
  }),
  documentRule("e_atis_subject_cn_spc", ATIS_V004, "§6.4.1", ["leaf"], {
    // v004 and v005 give "SHAKEN <SPC>" as the form; real CNs wrap it ("UniVoIP SHAKEN 629J",
    // "SHAKEN 132L 1752652441523") and the reference linter accepts that: the CN contains it as words.
    description: 'The subject CN contains "SHAKEN <SPC>", the SPC of the TNAuthList.',
    severity: "error",
    profile: "atis",
    check: (subject) => {
      if (subject.selfIssued) return undefined; // e_atis_leaf_self_issued says what is wrong with it
      const reading = subject.serviceProviderCode;
      if ("missing" in reading) return `subject CN ${JSON.stringify(subject.commonName)} cannot be checked against the SPC: ${reading.missing}`;
      return containsWord(subject.commonName, `SHAKEN ${reading.spc}`) ? undefined : `subject CN ${JSON.stringify(subject.commonName)} does not contain "SHAKEN ${reading.spc}"`;
    },
  }),
  documentRule("e_atis_issuer_dn", ATIS_V003, "§6.4.1", ["leaf"], {
    description: "The issuer DN (the STI-CA's subject) has CN, C and O.",
    severity: "error",
    profile: "atis",
    check: (subject) => {
      const missing = [commonName, country, organization].filter((type) => !subject.issuerAttributes.some((attribute) => attribute.type === type));
      return missing.length > 0 ? `issuer DN ${JSON.stringify(subject.certificate.issuer)} has no ${missing.map(attributeName).join(", ")}` : undefined;
    },
  }),
  documentRule("e_us_cp_subject_sn_shall", US_CP_1_3, "§3.1", ["leaf"], {
    description: "A certificate issued under CP 1.3 has a subject serialNumber attribute beside the CN.",
    severity: "error",
    profile: "us-cp",
    check: (subject) =>
      subject.assertsCp13 && subject.subjectValues(serialNumber).length === 0 ? "certificate asserts CP 1.3 but its subject has no serialNumber attribute" : undefined,
  }),
  documentRule("w_shaken_subject_rdn_unknown", US_CP_1_1, "§3.1", ["leaf"], {
    description: "The subject uses only CN, C, O, L, ST and serialNumber.",
    severity: "warning",
    profile: "us-cp",
    check: (subject) => unknownAttributes(subject.subjectAttributes, KNOWN_LEAF_ATTRIBUTES),
  }),
  documentRule("w_shaken_ca_subject_rdn_unknown", US_CP_1_1, "§3.1", CA_ROLES, {
    description: "The subject uses only CN, C, O, L and ST.",
    severity: "warning",
    profile: "us-cp",
    check: (subject) => unknownAttributes(subject.subjectAttributes, KNOWN_CA_ATTRIBUTES),
  }),
  documentRule("w_cp_1_3_subject_email", US_CP_1_1, "§3.2", ["leaf"], {
    description: "The subject has no emailAddress: the CP gives no way to vet one.",
    severity: "warning",
    profile: "us-cp",
    check: (subject) => (subject.subjectValues(emailAddress).length > 0 ? `subject carries emailAddress ${subject.subjectValues(emailAddress).join(", ")}, which the CP does not vet` : undefined),
  }),
];
