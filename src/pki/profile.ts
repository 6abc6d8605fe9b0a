import { ServiceProviderCodeError } from "./errors";

/** SHAKEN CP (ATIS-1000080 v005 §6.4.1, certificate policies): the CP 1.3 and CP 1.4 policy OIDs. */
export const SHAKEN_POLICY_OIDS = {
  cp13: "2.16.840.1.114569.1.1.3",
  cp14: "2.16.840.1.114569.1.1.4",
} as const;
export type ShakenPolicyOid = (typeof SHAKEN_POLICY_OIDS)[keyof typeof SHAKEN_POLICY_OIDS];
export const DEFAULT_SHAKEN_POLICY_OID: ShakenPolicyOid = SHAKEN_POLICY_OIDS.cp13;

/** ecdsa-with-SHA256 over P-256: the only signature and key type of the v005 profile. */
export const SHAKEN_SIGNING_ALGORITHM = { name: "ECDSA", hash: "SHA-256" } as const;
export const SHAKEN_KEY_ALGORITHM = { name: "ECDSA", namedCurve: "P-256" } as const;

const SERVICE_PROVIDER_CODE = /^[A-Z0-9]+$/;

/** ATIS-1000080 v005 §6.4.1: an SPC is made of upper-case letters and digits (e.g. an OCN like 818H). */
export function isValidServiceProviderCode(spc: string): boolean {
  return SERVICE_PROVIDER_CODE.test(spc);
}

export function assertServiceProviderCode(spc: string): void {
  if (!isValidServiceProviderCode(spc)) {
    throw new ServiceProviderCodeError(`SPC ${JSON.stringify(spc)} is invalid: use upper-case letters and digits only ([A-Z0-9]+, e.g. 818H)`);
  }
}

/** ATIS-1000080 v005 §6.4.1: the subject CN of an end-entity certificate is "SHAKEN <SPC>". */
export const shakenCommonName = (spc: string): string => `SHAKEN ${spc}`;
