import type { NormalizedCall } from "../../call/call";
import type { NumberFacts } from "../../numbering/classify";
import type { Check } from "../../verdict/check";
import type { ClassifiedIngress } from "../ingress";
import type { PolicyKey } from "../policy";
import type { OriginSnapshot } from "../snapshot";

/** What every origin check reads: the call, its classified CLI and ingress, the compiled configuration. */
export interface OriginContext {
  call: NormalizedCall;
  /** The presented CLI, classified; null when check 1 found none usable. */
  cli: NumberFacts | null;
  ingress: ClassifiedIngress;
  snapshot: OriginSnapshot;
  atMs: number;
  /** A verified `A` attestation, and whether it vouches for the caller's right to the number (RFC 8588 §4): then checks 5–8 do not apply. */
  attestation: AttestationVouching | null;
  /** Check 8 found the (trunk, CLI) pair on the authorised-use allow-list. */
  authorisedUse: boolean;
}

/** A check's answer plus, when it failed, the policy-table entry that decides what that costs the call. */
export interface CheckOutcome {
  check: Check;
  policyKey?: PolicyKey;
}

/** A verified `A` attestation as the origin checks weigh it (src/origin/assess.ts attestationVouching). */
export interface AttestationVouching {
  /** The service provider code answering for the signed number; null when the signing path names none. */
  provider: string | null;
  /** The operator's name for it, from the `attestation` section. */
  providerName?: string;
  /** The provider is in the operator's `attestation` section. */
  providerListed: boolean;
  /** The providers of the verified `div` PASSporTs that retargeted the call, when it was. */
  diverters?: (string | null)[];
  /** Those of them the `attestation` section does not list: any one leaves the attestation vouching for nothing. */
  unlistedDiverters?: (string | null)[];
  /** The replay guard could not answer: the attestation vouches for nothing (a replayed one would not). */
  replayUnconfirmed?: true;
  /** The provider, and every provider that diverted the call, is in the operator's `attestation` section, so checks 5–8 are waived. */
  vouches: boolean;
}

/** Checks 5–8 are waived for the call. */
export const vouchedByAttestation = (context: OriginContext): boolean => context.attestation?.vouches === true;

const providerText = (attestation: AttestationVouching) =>
  attestation.provider === null ? "a signer whose certificates name no service provider" : `${attestation.providerName ?? attestation.provider} (${attestation.provider})`;
const diverterText = (diverters: (string | null)[]) => diverters.map((diverter) => diverter ?? "a signer naming no service provider").join(", ");

/** Why check 5–8 skipped: the attestation that vouched, naming its provider (and who diverted the call). */
export const vouchedDetail = (attestation: AttestationVouching): string =>
  `a verified A attestation by ${providerText(attestation)} vouches for the number${attestation.diverters ? `, diverted by ${diverterText(attestation.diverters)}` : ""}`;

/**
 * What checks 5 and 7 add to their evidence when a verified `A` did not vouch: the attestation, so an
 * analyst sees why a signed call was judged as unsigned. Empty when there is no such attestation.
 */
export function unvouchedEvidence(context: OriginContext): {
  attestation?: { attest: "A"; provider: string | null; unlistedDiverters?: (string | null)[]; replayUnconfirmed?: true; vouches: false; note: string };
} {
  const { attestation } = context;
  if (!attestation || attestation.vouches) return {};
  const { unlistedDiverters, replayUnconfirmed } = attestation;
  const why = !attestation.providerListed
    ? "its provider is not in the attestation section's vouching list"
    : unlistedDiverters
      ? `the call was diverted (RFC 8946) by ${diverterText(unlistedDiverters)}, which the attestation section's vouching list does not name`
      : "the replay guard could not say whether the PASSporT was presented before (store.replay), and a replayed one vouches for nothing";
  return {
    attestation: {
      attest: "A",
      provider: attestation.provider,
      ...(unlistedDiverters ? { unlistedDiverters } : {}),
      ...(replayUnconfirmed ? { replayUnconfirmed } : {}),
      vouches: false,
      note: `the A attestation by ${providerText(attestation)} waives nothing: ${why}`,
    },
  };
}
