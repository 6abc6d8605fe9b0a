import type { NumberType } from "../../numbering/number-type";
import { fail, pass, skip } from "../../verdict/check";
import { ORIGIN_CHECK_IDS } from "../check-ids";
import type { CheckOutcome, OriginContext } from "./origin-context";

/** Check 3 (cli-spoofing.md §3): these number types receive calls or reach services; they never call anyone. */
const NEVER_A_CALLER: ReadonlySet<NumberType> = new Set(["premium", "toll-free", "emergency", "short-code"]);

export function checkCliType({ cli }: OriginContext): CheckOutcome {
  const id = ORIGIN_CHECK_IDS.type;
  if (!cli) return { check: skip(id, "no well-formed caller ID to classify") };
  const evidence = { tn: cli.tn, type: cli.type, typeSource: cli.typeSource };
  if (NEVER_A_CALLER.has(cli.type)) return { check: fail(id, `a ${cli.type} number is not allowed as caller ID`, evidence), policyKey: id };
  return { check: pass(id, `a ${cli.type} number may call`, evidence) };
}
