import { fail, pass, skip } from "../../verdict/check";
import { ORIGIN_CHECK_IDS } from "../check-ids";
import type { CheckOutcome, OriginContext } from "./origin-context";

/**
 * Check 2 (cli-spoofing.md §3): the CLI lies in a block never allocated or not in service. The
 * numbering metadata decides, unless the operator keeps its own allocation inventory for home
 * numbers (Ireland's Protected Number List model) or lists blocks not in service.
 */
export function checkCliAllocated({ cli, snapshot }: OriginContext): CheckOutcome {
  const id = ORIGIN_CHECK_IDS.allocated;
  if (!cli) return { check: skip(id, "no well-formed caller ID to look up") };
  const plan = snapshot.numbering;
  const evidence = { tn: cli.tn, country: cli.country, home: cli.home };
  if (!cli.assigned) return { check: fail(id, "the caller ID lies in a range that is not assigned", { ...evidence, source: "numbering-metadata" }), policyKey: id };
  if (cli.home && plan.allocated && plan.allocated.matching(cli.tn).length === 0) {
    return { check: fail(id, "the caller ID is not in the operator's allocated ranges", { ...evidence, source: "operator-allocated" }), policyKey: id };
  }
  if (plan.notInService.matching(cli.tn).length > 0) {
    return { check: fail(id, "the caller ID lies in a range that is not in service", { ...evidence, source: "operator-not-in-service" }), policyKey: id };
  }
  return { check: pass(id, "the caller ID lies in an allocated range", evidence) };
}
