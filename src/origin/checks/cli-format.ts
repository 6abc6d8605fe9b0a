import type { CallParty } from "../../call/call";
import { classifyNumber, type NumberFacts } from "../../numbering/classify";
import type { HomeNumberingPlan } from "../../numbering/home-plan";
import { fail, pass } from "../../verdict/check";
import { ORIGIN_CHECK_IDS } from "../check-ids";
import type { CheckOutcome } from "./origin-context";

const DETAIL = {
  missing: "the call presents no caller ID",
  "not-a-number": "the caller ID holds no telephone number",
  "non-digit": "the caller ID holds characters other than digits",
  "too-long": "the caller ID is longer than the 15 digits E.164 allows",
  "unknown-country-code": "the caller ID starts with an unassigned country code",
  "wrong-length": "the caller ID has the wrong length for its country",
} as const;

/**
 * Check 1 (cli-spoofing.md §3): empty, unreadable (a From or P-Asserted-Identity the SIP grammar cannot
 * read, or a From given twice), non-digits, > 15 digits, wrong national length, unassigned country code.
 */
export function checkCliFormat(cli: CallParty | null, plan: HomeNumberingPlan): { outcome: CheckOutcome; facts: NumberFacts | null } {
  const id = ORIGIN_CHECK_IDS.format;
  if (cli === null || cli.raw.trim() === "") return { outcome: { check: fail(id, DETAIL.missing, { problem: "missing" }), policyKey: id }, facts: null };
  if (cli.unreadable !== null) {
    const check = fail(id, `the caller ID cannot be read: ${cli.unreadable}`, { problem: "unreadable", presented: cli.raw.slice(0, 256) });
    return { outcome: { check, policyKey: id }, facts: null };
  }
  if (cli.tn === null) {
    const digits = cli.raw.replace(/[^0-9]/g, "").length;
    const problem = digits > 15 ? "too-long" : "not-a-number";
    return { outcome: { check: fail(id, DETAIL[problem], { problem, presented: cli.raw.slice(0, 256) }), policyKey: id }, facts: null };
  }
  const classification = classifyNumber(cli.tn, plan);
  if ("problem" in classification) {
    return { outcome: { check: fail(id, DETAIL[classification.problem], { problem: classification.problem, tn: cli.tn }), policyKey: id }, facts: null };
  }
  const { facts } = classification;
  return { outcome: { check: pass(id, "the caller ID is a well-formed number", { tn: facts.tn, country: facts.country, type: facts.type }) }, facts };
}
