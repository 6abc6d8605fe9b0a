import { CALLEE } from "./fixtures";

/**
 * The operator configuration and the 10 000 analyst rules S4 runs against. Everything is generated
 * from a fixed seed, so every run loads the same rule set.
 */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    // mulberry32
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const digits = (random: () => number, count: number) => Array.from({ length: count }, () => Math.floor(random() * 10)).join("");

/** Kazakh zones the rules and lists draw numbers from; S4's callers are in 7701 5…, which only a few rules name. */
const RULE_ZONES = ["7727", "7717", "7705", "7707", "7747", "7771", "7778", "7702", "7775"];
const zoneNumber = (random: () => number) => `${RULE_ZONES[Math.floor(random() * RULE_ZONES.length)]}${digits(random, 7)}`;

/** The national mobile callers S4 presents on an international interconnect (all roaming, per the table). */
export const S4_CALLERS = Array.from({ length: 1_000 }, (_, index) => `77015${String(index).padStart(6, "0")}`);

export const INTERNATIONAL_INGRESS = { trunk: "intl-1", carrier: "TransitCo", international: true };
export const DOMESTIC_INGRESS = { trunk: "domestic-1", carrier: "DomesticCo", international: false };

export function operatorConfig() {
  const random = seededRandom(42);
  return {
    ingress: {
      interconnects: [
        { trunk: "intl-1", carrier: "TransitCo", kind: "international", carrierName: "TransitCo", country: "TR" },
        { trunk: "domestic-1", carrier: "DomesticCo", kind: "domestic", carrierName: "DomesticCo", country: "KZ" },
        { trunk: "core-1", kind: "domestic", carrierName: "Own network", country: "KZ", onNet: true },
        ...Array.from({ length: 200 }, (_, index) => ({ trunk: `trunk-${index}`, kind: index % 3 === 0 ? "international" : "domestic", carrierName: `Carrier ${index}`, country: index % 3 === 0 ? "DE" : "KZ" })),
      ],
    },
    numbering: {
      homeRanges: [{ prefix: "76" }],
      typeOverrides: [{ pattern: { prefix: "7750" }, type: "voip" }],
      notInService: Array.from({ length: 200 }, () => {
        const from = `${zoneNumber(random).slice(0, 8)}000`;
        return { from, to: `${from.slice(0, 8)}999` };
      }),
      ownSubscribers: [{ prefix: "7700" }, { prefix: "7708" }, { prefix: "7727" }],
      portedOut: Array.from({ length: 1_000 }, () => ({ exact: `7700${digits(random, 7)}` })),
      doNotOriginate: Array.from({ length: 500 }, () => ({ exact: zoneNumber(random) })),
    },
    "allow-list": {
      entries: Array.from({ length: 100 }, (_, index) => ({ customer: `Enterprise ${index}`, cli: { prefix: zoneNumber(random).slice(0, 8) }, trunk: `trunk-${index}` })),
    },
  };
}

const ACTIONS = ["block", "block", "block", "block", "block", "tag", "tag", "tag", "withhold", "allow"] as const;

/** 10 000 rules in the shapes analysts write; 20 of them (tag) name S4 callers, so 2 % of S4 calls match one. */
export function operatorRules(count = 10_000): object[] {
  const random = seededRandom(7);
  const rules: object[] = [];
  for (let index = 0; index < count - 20; index++) {
    const shape = random();
    const number = zoneNumber(random);
    let criteria: object;
    if (shape < 0.4) criteria = { cli: { exact: number } };
    else if (shape < 0.55) criteria = { cli: { prefix: number.slice(0, 7 + Math.floor(random() * 3)) } };
    else if (shape < 0.65) criteria = { cli: { from: `${number.slice(0, 8)}000`, to: `${number.slice(0, 8)}999` } };
    else if (shape < 0.75) criteria = { destination: { exact: number } };
    else if (shape < 0.85) criteria = { cli: { prefix: number.slice(0, 7) }, trunk: `trunk-${Math.floor(random() * 200)}` };
    else if (shape < 0.9) criteria = { carrier: `Carrier ${Math.floor(random() * 200)}` };
    else if (shape < 0.95) criteria = { trunk: `trunk-${Math.floor(random() * 200)}`, timeWindow: { start: "22:00", end: "06:00" } };
    else criteria = { cli: { exact: number }, timeWindow: { start: "09:00", end: "18:00", days: [1, 2, 3, 4, 5] } };
    const action = ACTIONS[Math.floor(random() * ACTIONS.length)]!;
    rules.push({ criteria, action, reason: `bench rule ${index}`, ...(action === "tag" ? { label: "Suspected fraud" } : {}) });
  }
  for (let index = 0; index < 20; index++) {
    rules.push({ criteria: { cli: { exact: S4_CALLERS[index * 50]! } }, action: "tag", label: "Reported", reason: `bench S4 rule ${index}` });
  }
  return rules;
}

/** S4: an unsigned call from a national mobile number arriving on an international interconnect. */
export const unsignedInternationalBody = (caller: string) =>
  JSON.stringify({
    from: `<sip:+${caller}@transit.example;user=phone>;tag=1`,
    to: `<sip:+${CALLEE}@operator.example>`,
    ruri: `sip:+${CALLEE}@operator.example`,
    ingress: INTERNATIONAL_INGRESS,
  });

/** S5's unsigned domestic share: a landline caller on a domestic interconnect. */
export const unsignedDomesticBody = (caller: string) =>
  JSON.stringify({
    from: `<sip:+${caller}@carrier.example;user=phone>;tag=1`,
    to: `<sip:+${CALLEE}@operator.example>`,
    ruri: `sip:+${CALLEE}@operator.example`,
    ingress: DOMESTIC_INGRESS,
  });
