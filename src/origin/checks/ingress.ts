import { pass, warn } from "../../verdict/check";
import { ORIGIN_CHECK_IDS } from "../check-ids";
import type { ClassifiedIngress } from "../ingress";
import type { CheckOutcome } from "./origin-context";

/** Reports how the ingress was classified; an ingress the operator's map does not know is said so (issue 4 "Inputs"). */
export function checkIngress(ingress: ClassifiedIngress): CheckOutcome {
  const id = ORIGIN_CHECK_IDS.ingress;
  const evidence = { ...ingress };
  if (ingress.known) return { check: pass(id, `${ingress.kind} ingress from ${ingress.carrierName}`, evidence) };
  const why = ingress.decidedBy === "declared" ? "as the SBC declared" : ingress.decidedBy === "trunk" ? `its trunk is mapped international for another carrier than ${ingress.carrier}` : "configured default";
  return { check: warn(id, `unknown ingress, treated as ${ingress.kind} (${why})`, evidence), policyKey: `${id}:unknown` };
}
