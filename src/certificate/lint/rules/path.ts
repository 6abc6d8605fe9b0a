import { AsnConvert } from "@peculiar/asn1-schema";
import { KeyUsageFlags } from "@peculiar/asn1-x509";
import { Name } from "@peculiar/x509";
import { toHex } from "../../../pki/keys";
import { ATIS_V003, ATIS_V004, documentRule, RFC_5280, type LintContext, type LintRule } from "../rule";
import { comparableName } from "../../distinguished-name";
import type { LintSubject } from "../subject";
import { keyUsageText } from "./constraints";

const ISSUED_ROLES = ["leaf", "intermediate"] as const;

/** A path rule: it runs when the issuing certificate is known (in the directory or given with --chain). */
const withIssuer =
  (check: (subject: LintSubject, issuer: LintSubject, context: LintContext) => string | undefined) =>
  (subject: LintSubject, context: LintContext): string | undefined =>
    context.issuer ? check(subject, context.issuer, context) : undefined;

/** The CRL a certificate's (first) distribution point names: its URLs, and its cRLIssuer when it has one. */
function namedCrl(subject: LintSubject): { urls: string; crlIssuer?: Name } | undefined {
  const [point] = subject.crlDistributionPoints ?? [];
  if (!point) return undefined;
  const directoryName = point.cRLIssuer?.find((name) => name.directoryName)?.directoryName;
  return {
    urls: point.distributionPoint?.fullName?.map((name) => name.uniformResourceIdentifier ?? "").join(" ") ?? "",
    crlIssuer: directoryName && new Name(AsnConvert.serialize(directoryName)),
  };
}

/** Where the leaf's CRL DP differs from its issuer's: the URLs, or the cRLIssuer names (RFC 5280 §7.1) when both give one. */
function crlDifference(leaf: LintSubject, issuer: LintSubject): string | undefined {
  const own = namedCrl(leaf);
  const issuers = namedCrl(issuer);
  if (!own || !issuers) return undefined; // the CRL DP rules report a missing one
  if (own.urls !== issuers.urls) return `CRL distribution point ${own.urls || "(no URL)"} is not the issuer's ${issuers.urls || "(no URL)"}`;
  if (own.crlIssuer && issuers.crlIssuer && comparableName(own.crlIssuer) !== comparableName(issuers.crlIssuer)) {
    return `CRL distribution point names cRLIssuer ${own.crlIssuer.toString()}, the issuer's names ${issuers.crlIssuer.toString()}`;
  }
  return undefined;
}

export const PATH_RULES: LintRule[] = [
  documentRule("e_atis_path_issuer_constraints", RFC_5280, "§4.2.1.9, §6.1.4", ISSUED_ROLES, {
    description: "The issuer's BasicConstraints say CA=TRUE, with a path length that allows this certificate.",
    severity: "error",
    profile: "atis",
    needsIssuer: true,
    check: withIssuer((_subject, issuer, { role }) => {
      const constraints = issuer.basicConstraints;
      if (!constraints?.cA) return `issuer ${issuer.certificate.subject} is not a CA (BasicConstraints CA=TRUE missing), cannot issue certificates`;
      return role === "intermediate" && constraints.pathLenConstraint === 0 ? `issuer ${issuer.certificate.subject} has pathLenConstraint 0, cannot issue a CA certificate` : undefined;
    }),
  }),
  documentRule("e_atis_path_issuer_key_usage", RFC_5280, "§4.2.1.3, §6.1.4", ISSUED_ROLES, {
    description: "The issuer's KeyUsage, if any, has keyCertSign.",
    severity: "error",
    profile: "atis",
    needsIssuer: true,
    check: withIssuer((_subject, issuer) => {
      const usages = issuer.keyUsageFlags;
      return usages === undefined || (usages & KeyUsageFlags.keyCertSign) !== 0 ? undefined : `issuer ${issuer.certificate.subject} has KeyUsage ${keyUsageText(usages)}, without keyCertSign`;
    }),
  }),
  documentRule("e_atis_path_authority_key_identifier", ATIS_V003, "§6.4.1", ISSUED_ROLES, {
    description: "The AuthorityKeyIdentifier names the issuer's SubjectKeyIdentifier.",
    severity: "error",
    profile: "atis",
    needsIssuer: true,
    check: withIssuer((subject, issuer) => {
      const keyIdentifier = subject.authorityKeyIdentifier?.keyIdentifier;
      const issuerKeyIdentifier = issuer.subjectKeyIdentifier;
      if (!keyIdentifier || !issuerKeyIdentifier) return undefined; // the key identifier rules report what is missing
      const authority = toHex(keyIdentifier.buffer);
      return authority === toHex(issuerKeyIdentifier) ? undefined : `AuthorityKeyIdentifier ${authority} is not the issuer's SubjectKeyIdentifier ${toHex(issuerKeyIdentifier)}`;
    }),
  }),
  // v004 has intermediates and leaves name the one STI-PA CRL; an issuer older than v004 may name its own CA's CRL.
  documentRule("e_atis_path_crl_distribution_point", ATIS_V004, "§6.4.1", ["leaf"], {
    description: "The leaf names the CRL its issuer names (URL, and cRLIssuer when both give one), when the issuer too is held to v004.",
    severity: "error",
    profile: "atis",
    needsIssuer: true,
    check: withIssuer((subject, issuer) => (issuer.notBefore < ATIS_V004.published ? undefined : crlDifference(subject, issuer))),
  }),
];
