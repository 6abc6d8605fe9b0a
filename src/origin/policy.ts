import * as z from "zod";
import type { Check } from "../verdict/check";
import type { Finding } from "../verdict/finding";
import { ACTIONS, ENFORCEMENT_MODES, type Action } from "../verdict/verdict";

/**
 * The policy table: what a failed origin check does to the call. Keys are check ids, or
 * `checkId:outcome` where one check has outcomes regulators treat differently (cli-spoofing.md §1).
 * Defaults follow the spec digest: deterministic spoofing signals block with 608 (RFC 8688: an
 * intermediary rejected the call; the SBC adds the jwscard Call-Info for redress, §4); a mobile
 * CLI whose roaming lookup fails is withheld, as France and the UK do (§1); VoIP ranges need an
 * explicit operator choice (§2) and default to withholding.
 */
export const POLICY_KEYS = [
  "cli.format",
  "cli.allocated",
  "cli.type",
  "cli.dno",
  "origin.ingress:unknown",
  "origin.national-on-international:fixed",
  "origin.national-on-international:voip",
  "origin.national-on-international:unknown-type",
  "origin.roaming:home",
  "origin.roaming:not-mobile",
  "origin.roaming:unknown",
  "origin.own-number-off-net",
  // A Request-URI that cannot be read (src/origin/checks/request-uri.ts), by the ingress it came in on.
  "sip.ruri:international",
  "sip.ruri:domestic",
  // STIR/SHAKEN verification that did not pass (src/verdict/policy.ts), by verstat.
  "stir.tn-validation-failed",
  "stir.no-tn-validation",
] as const;
export type PolicyKey = (typeof POLICY_KEYS)[number];

export const policyEntrySchema = z
  .object({
    action: z.enum(ACTIONS),
    sipCode: z.union([z.literal(603), z.literal(608)]).optional(),
    label: z.string().trim().min(1).max(64).optional(),
    // Monitor: the finding is counted and listed in the verdict's `monitored`, never enforced.
    mode: z.enum(ENFORCEMENT_MODES).optional(),
  })
  .strict();
export type PolicyEntry = z.infer<typeof policyEntrySchema>;
export type PolicyTable = Record<PolicyKey, PolicyEntry>;

const blockAsIntermediary: PolicyEntry = { action: "block", sipCode: 608 };

export const DEFAULT_POLICY: PolicyTable = {
  "cli.format": blockAsIntermediary,
  "cli.allocated": blockAsIntermediary,
  "cli.type": blockAsIntermediary,
  "cli.dno": blockAsIntermediary,
  // Reported in the verdict (issue 4 "Inputs"); the ingress default already decided the treatment.
  "origin.ingress:unknown": { action: "allow" },
  "origin.national-on-international:fixed": blockAsIntermediary,
  "origin.national-on-international:voip": { action: "withhold" },
  // §3 check 5: "unknown: withhold".
  "origin.national-on-international:unknown-type": { action: "withhold" },
  "origin.roaming:home": blockAsIntermediary,
  "origin.roaming:not-mobile": blockAsIntermediary,
  "origin.roaming:unknown": { action: "withhold" },
  "origin.own-number-off-net": blockAsIntermediary,
  // No called number for the destination rules and counters: from abroad, where E.164 is the rule, a
  // dodge; at home it may be an IMS home-local number, so it is only reported.
  "sip.ruri:international": blockAsIntermediary,
  "sip.ruri:domestic": { action: "allow" },
  // The ATIS model delivers a call that failed verification with its verstat and lets the terminating
  // side decide, so the defaults tag rather than block; an operator may block instead.
  "stir.tn-validation-failed": { action: "tag", label: "Unverified caller ID" },
  "stir.no-tn-validation": { action: "tag", label: "Unverified caller ID" },
};

/** The operator's document: only the entries it changes. */
export const policyOverridesSchema = z.object({ outcomes: z.partialRecord(z.enum(POLICY_KEYS), policyEntrySchema).default({}) }).strict();
export type PolicyOverrides = z.infer<typeof policyOverridesSchema>;

export const compilePolicy = (overrides: PolicyOverrides): PolicyTable => ({ ...DEFAULT_POLICY, ...overrides.outcomes });

const DEFAULT_TAG_LABEL = "Suspected spoofing";

/** Turns one failed check into the finding its policy entry asks for; none when the policy allows. */
export function findingFromPolicy(check: Check, entry: PolicyEntry): Finding | null {
  return findingFor(check.id, entry.action, check.detail ?? check.id, policyEntryOptions(entry));
}

/** What a policy entry gives its finding: its SIP code, its label, and whether it is only monitored. */
export const policyEntryOptions = (entry: PolicyEntry): FindingOptions => ({ ...entry, monitored: entry.mode === "monitor" });

export interface FindingOptions {
  sipCode?: 603 | 608;
  label?: string | null;
  ruleId?: string;
  monitored?: boolean;
}

export function findingFor(checkId: string, action: Action, reason: string, options: FindingOptions): Finding | null {
  const source = { ...(options.ruleId ? { ruleId: options.ruleId } : {}), ...(options.monitored ? { monitored: true as const } : {}) };
  switch (action) {
    case "allow":
      return null;
    case "block":
      return { checkId, action, reason, sipCode: options.sipCode ?? 603, ...(options.label ? { label: options.label } : {}), ...source };
    case "tag":
      return { checkId, action, reason, label: options.label ?? DEFAULT_TAG_LABEL, ...source };
    case "withhold":
      return { checkId, action, reason, ...source };
  }
}
