import type { Ingress } from "../call/call";
import type { IngressConfig, Interconnect } from "./config/ingress-config";

/**
 * Where the call came in, as the origin checks need it (cli-spoofing.md §3 check 5: "ingress trunk →
 * international/domestic"). The operator's map decides; the SBC's own `international` flag is used
 * for an ingress the map does not know (when trusted), else the configured default. The verdict
 * always says whether the ingress was known.
 */
export interface ClassifiedIngress {
  trunk: string | null;
  carrier: string | null;
  kind: "international" | "domestic";
  known: boolean;
  carrierName: string | null;
  country: string | null;
  onNet: boolean;
  /** What decided `kind`: the map entry for the trunk or carrier, the SBC's declaration, or the default. */
  decidedBy: "trunk" | "carrier" | "declared" | "default";
}

export interface IngressMap {
  byTrunk: Map<string, Interconnect>;
  byCarrier: Map<string, Interconnect>;
  unknownIngress: IngressConfig["unknownIngress"];
}

export function compileIngressMap(config: IngressConfig): IngressMap {
  const byTrunk = new Map<string, Interconnect>();
  const byCarrier = new Map<string, Interconnect>();
  for (const entry of config.interconnects) {
    if (entry.trunk !== undefined) byTrunk.set(entry.trunk, entry);
    else if (entry.carrier !== undefined) byCarrier.set(entry.carrier, entry);
  }
  return { byTrunk, byCarrier, unknownIngress: config.unknownIngress };
}

export function classifyIngress(ingress: Ingress, map: IngressMap): ClassifiedIngress {
  const { trunk, carrier } = ingress;
  // A trunk entry that also names a carrier only applies when the SBC reports that same carrier (or none).
  const trunkEntry = trunk !== null ? map.byTrunk.get(trunk) : undefined;
  const byTrunk = trunkEntry && (trunkEntry.carrier === undefined || carrier === null || trunkEntry.carrier === carrier) ? trunkEntry : undefined;
  // That guard only ever withholds trust: a trunk the operator mapped as international stays international
  // whatever carrier the SBC reports on it. Neither a domestic carrier's entry nor the SBC's declaration
  // makes a call on it domestic (nor on-net), which would waive checks 5 and 6.
  const internationalTrunk = trunkEntry?.kind === "international";
  const carrierEntry = carrier !== null ? map.byCarrier.get(carrier) : undefined;
  const byCarrier = internationalTrunk && carrierEntry?.kind !== "international" ? undefined : carrierEntry;
  const entry = byTrunk ?? byCarrier;
  if (entry) {
    return { trunk, carrier, kind: entry.kind, known: true, carrierName: entry.carrierName, country: entry.country, onNet: entry.onNet, decidedBy: byTrunk ? "trunk" : "carrier" };
  }
  if (internationalTrunk) return { trunk, carrier, kind: "international", known: false, carrierName: carrier, country: null, onNet: false, decidedBy: "trunk" };
  const declared = map.unknownIngress.trustDeclared && ingress.international !== null;
  return {
    trunk,
    carrier,
    kind: declared ? (ingress.international ? "international" : "domestic") : map.unknownIngress.kind,
    known: false,
    carrierName: carrier,
    country: null,
    onNet: false,
    decidedBy: declared ? "declared" : "default",
  };
}
