import { isValidServiceProviderCode } from "../../../pki/profile";
import { ATIS_V003, ATIS_V005, CA_ROLES, documentRule, type LintRule } from "../rule";
import { EXTENSION_OIDS, type LintSubject } from "../subject";

/** ATIS-1000080 v003 §6.4.1: an RFC 8226 TNAuthList, not critical (RFC 8226 §9), holding a single SPC. */
function tnAuthListError(subject: LintSubject): string | undefined {
  const reading = subject.tnAuthList;
  switch (reading.form) {
    case "absent":
      return `TNAuthList extension (${EXTENSION_OIDS.tnAuthList}) is missing`;
    case "unparseable":
      return `TNAuthList cannot be decoded: ${reading.error}`;
    case "rfc8226":
      break;
    default:
      return `${reading.note}; found SPC ${reading.spcs.map((spc) => JSON.stringify(spc)).join(", ")}`;
  }
  if (subject.extension(EXTENSION_OIDS.tnAuthList)?.critical) return "TNAuthList is marked critical, must not be";
  const { spcs, tns, ranges } = reading;
  if (spcs.length === 1 && tns.length === 0 && ranges.length === 0) return spcs[0] === "" ? "TNAuthList's SPC is empty" : undefined;
  return `TNAuthList holds ${spcs.length} SPC(s), ${tns.length} TN(s) and ${ranges.length} range(s), must hold exactly one SPC`;
}

export const TN_AUTH_LIST_RULES: LintRule[] = [
  documentRule("e_atis_tn_auth_list", ATIS_V003, "§6.4.1", ["leaf"], {
    description: "An RFC 8226 TNAuthList is present, not critical, and holds exactly one entry: an SPC.",
    severity: "error",
    profile: "atis",
    check: tnAuthListError,
  }),
  documentRule("e_atis_tn_auth_list_spc_format", ATIS_V005, "§6.4.1", ["leaf"], {
    description: "The SPC is upper-case letters and digits only.",
    severity: "error",
    profile: "atis",
    check: (subject) => {
      const reading = subject.serviceProviderCode;
      if ("missing" in reading) return `the SPC cannot be checked: ${reading.missing}`;
      return isValidServiceProviderCode(reading.spc) ? undefined : `SPC ${JSON.stringify(reading.spc)} has characters outside [A-Z0-9]`;
    },
  }),
  documentRule("e_atis_tn_auth_list_ca", ATIS_V005, "§6.4.1", CA_ROLES, {
    description: "A CA certificate carries no TNAuthList.",
    severity: "error",
    profile: "atis",
    check: (subject) => (subject.extension(EXTENSION_OIDS.tnAuthList) ? "CA certificate carries a TNAuthList, must not" : undefined),
  }),
];
