import { describePattern } from "../../numbering/number-pattern";
import { pass, skip } from "../../verdict/check";
import { ORIGIN_CHECK_IDS } from "../check-ids";
import type { CheckOutcome, OriginContext } from "./origin-context";

/**
 * Check 8 (cli-spoofing.md §3): an enterprise or cloud breakout listed for this (CLI range, ingress
 * trunk) legitimately presents national CLIs from abroad; listing exempts it from checks 5–7 only.
 */
export function checkAuthorisedUse({ cli, ingress, snapshot }: Pick<OriginContext, "cli" | "ingress" | "snapshot">): CheckOutcome {
  const id = ORIGIN_CHECK_IDS.authorisedUse;
  if (!cli || ingress.trunk === null) return { check: skip(id, "needs a well-formed caller ID and an ingress trunk") };
  const entry = snapshot.allowList.matching(cli.tn).find((candidate) => candidate.trunk === ingress.trunk);
  if (!entry) return { check: skip(id, "no authorised-use entry for this caller ID on this trunk", { tn: cli.tn, trunk: ingress.trunk }) };
  return { check: pass(id, `authorised use by ${entry.customer}`, { customer: entry.customer, cli: describePattern(entry.cli), trunk: entry.trunk }) };
}
