import { describePattern } from "../../numbering/number-pattern";
import { fail, pass, skip } from "../../verdict/check";
import { ORIGIN_CHECK_IDS } from "../check-ids";
import type { CheckOutcome, OriginContext } from "./origin-context";

/** Check 4 (cli-spoofing.md §3): inbound-only numbers (banks, tax office, police hotlines) presented as caller. */
export function checkDoNotOriginate({ cli, snapshot }: OriginContext): CheckOutcome {
  const id = ORIGIN_CHECK_IDS.doNotOriginate;
  if (!cli) return { check: skip(id, "no well-formed caller ID to look up") };
  const listed = snapshot.numbering.doNotOriginate.matching(cli.tn);
  if (listed.length > 0) {
    return { check: fail(id, "the caller ID is on the Do-Not-Originate list", { tn: cli.tn, listedAs: listed.map(describePattern) }), policyKey: id };
  }
  return { check: pass(id, "the caller ID is not on the Do-Not-Originate list", { tn: cli.tn }) };
}
