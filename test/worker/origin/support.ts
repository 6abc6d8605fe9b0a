import type { NormalizedCall } from "../../../src/call/call";
import { fixedClock, type Clock } from "../../../src/lib/clock";
import type { OriginDeps } from "../../../src/origin/assess";
import { defaultOperatorConfig, type OperatorConfig } from "../../../src/origin/config/sections";
import type { RoamingAnswer, RoamingLookup } from "../../../src/origin/roaming/lookup";
import { compileOriginSnapshot } from "../../../src/origin/snapshot";
import { matchRules, ruleSetOf } from "../../../src/rules/matcher";
import type { Rule } from "../../../src/rules/rule";
import type { Check } from "../../../src/verdict/check";

/** 2026-11-27T12:00:00Z, a Friday (17:00 in Almaty). */
export const NOW_SECONDS = 1_795_780_800;
export const clockAt = (epochSeconds = NOW_SECONDS): Clock => fixedClock(epochSeconds);

const party = (value: string | null) => (value === null ? null : { raw: value, tn: /^\+?[0-9]{1,15}$/.test(value) ? value.replace(/^\+/, "") : null, unreadable: null });

export interface CallSketch {
  cli: string | null;
  to?: string;
  trunk?: string | null;
  carrier?: string | null;
  international?: boolean | null;
}

/** A normalized call as the lead's normalizer builds it (canonical TNs, no `+`). */
export function sketchCall({ cli, to = "+77012345678", trunk = "intl-1", carrier = "TransitCo", international = true }: CallSketch): NormalizedCall {
  const from = party(cli);
  return {
    identity: [],
    from,
    pai: null,
    paiOther: null,
    to: party(to),
    ruri: null,
    cli: from,
    cliSource: from ? "from" : null,
    callId: null,
    date: null,
    ingress: { trunk, carrier, international },
    privacy: [],
  };
}

export type ConfigSketch = Partial<{ [S in keyof OperatorConfig]: Partial<OperatorConfig[S]> }>;

export function configWith(sketch: ConfigSketch = {}): OperatorConfig {
  const config = defaultOperatorConfig("KZ");
  for (const [section, document] of Object.entries(sketch)) Object.assign(config, { [section]: { ...config[section as keyof OperatorConfig], ...document } });
  return config;
}

/** A roaming source answering from a fixed table; numbers it does not list are `unknown`. */
export function roamingTable(statuses: Record<string, RoamingAnswer["status"]>): RoamingLookup & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async lookup(tn) {
      asked.push(tn);
      const status = statuses[tn] ?? "unknown";
      return { status, observedAt: null, source: "fixture", ...(status === "roaming" ? { visitedCountry: "TR" } : {}) };
    },
  };
}

export function depsFor(options: { config?: ConfigSketch; rules?: Rule[]; roaming?: RoamingLookup; clock?: Clock } = {}): OriginDeps {
  const snapshot = compileOriginSnapshot(1, "KZ", configWith(options.config), ruleSetOf(options.rules ?? []));
  const roaming = options.roaming ?? roamingTable({});
  // Every rule is held whole here, so no keyed index is hit and nothing is read from a store.
  return { clock: options.clock ?? clockAt(), snapshot: async () => snapshot, roamingLookup: () => roaming, operatorRules: (rules, subject) => matchRules(rules, subject, async () => []) };
}

export function ruleFixture(overrides: Partial<Rule> & Pick<Rule, "criteria">): Rule {
  return {
    id: crypto.randomUUID(),
    action: "block",
    mode: "enforce",
    reason: "fraud campaign",
    label: null,
    author: "analyst",
    expiresAt: null,
    reportId: null,
    version: 1,
    createdAt: 0,
    updatedAt: 0,
    ...overrides,
  };
}

const SEVERITY = ["allow", "tag", "withhold", "block"] as const;

/** The action the verdict would take from these findings alone: the most severe one. */
export const mostSevereAction = (findings: { action: (typeof SEVERITY)[number] }[]) =>
  findings.reduce<(typeof SEVERITY)[number]>((worst, finding) => (SEVERITY.indexOf(finding.action) > SEVERITY.indexOf(worst) ? finding.action : worst), "allow");

export const checkNamed = (checks: Check[], id: string): Check => {
  const check = checks.find((candidate) => candidate.id === id);
  if (!check) throw new Error(`no check ${id} in ${checks.map((c) => c.id).join(", ")}`);
  return check;
};
