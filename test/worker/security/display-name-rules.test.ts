import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../../../src/app";
import { systemClock } from "../../../src/lib/clock";
import { createSnapshotCache, markIsolateSnapshotsStale } from "../../../src/origin/snapshot";
import { checkOf, verdictVia } from "../abuse/support";
import { adminAuth } from "../support/auth";
import { switchableD1 } from "../support/d1-faults";
import { inviteWith, postInvite, TO } from "../support/invite";
import { appAt, CALLEE, installTrust } from "../support/stir";

/**
 * After a subscriber reports "Halyk Bank called me", an analyst adds a rule on the name the fraudster
 * showed (`criteria.name`). The fraudster then varies what the phone shows the same: a Cyrillic `а` for
 * the Latin one, `1` for `l`, hyphens, full-width letters, another number. The rule must still match,
 * and must match nothing but names that read as its phrase.
 */
const FOREIGN = "4930123456789";
const named = (name: string, tn = FOREIGN) => `"${name}" <sip:+${tn}@gw.example;user=phone>;tag=1`;
// The tests share one database: each rule is scoped to a trunk or a phrase of its own.
const ingress = (trunk: string) => ({ trunk, carrier: "TransitCo", international: true });

function admin(method: string, path: string, body?: unknown) {
  return appAt().request(path, { method, headers: { ...adminAuth, "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) }, env);
}

async function addRule(criteria: object, reason = "bank impersonation reported") {
  const response = await admin("POST", "/v1/admin/rules", { criteria, action: "block", reason });
  expect(response.status).toBe(201);
  markIsolateSnapshotsStale();
  return ((await response.json()) as { rule: { id: string; criteria: Record<string, unknown> } }).rule;
}

const call = (from: string, trunk: string) => verdictVia(appAt(), { from, to: `<sip:+${CALLEE}@operator.example>`, ruri: `sip:+${CALLEE}@operator.example`, ingress: ingress(trunk) });

beforeEach(() => installTrust());

describe("an operator rule on the caller's display name", () => {
  it("blocks the name however it is spelt, on any number; the rule keeps the phrase as written", async () => {
    const rule = await addRule({ name: "  Halyk Bank ", trunk: "intl-names-1" });
    expect(rule.criteria).toEqual({ name: "Halyk Bank", trunk: "intl-names-1" });
    for (const name of ["Halyk Bank", "HALYK-BANK", "H\u0430lyk B\u0430nk", "Ha1yk Bank", "\uff28\uff41\uff4c\uff59\uff4b \uff22\uff41\uff4e\uff4b", "Halyk\u200bBank", "Halyk Bank Support 24/7"]) {
      const verdict = await call(named(name), "intl-names-1");
      expect(verdict, name).toMatchObject({ action: "block", decidedBy: "rules.operator", sip: { code: 603 } });
      expect(checkOf(verdict, "rules.operator")!.evidence, name).toMatchObject({ rules: [{ id: rule.id }] });
    }
  });

  it("matches nothing but the phrase: another name, no name, half the phrase, or the name on another trunk are allowed", async () => {
    await addRule({ name: "Halyk Bank", trunk: "intl-names-2" });
    for (const from of [named("Almaty Office"), named("Halyk"), named("Bank Halyk"), `<sip:+${FOREIGN}@gw.example>;tag=1`]) {
      expect(await call(from, "intl-names-2"), from).toMatchObject({ action: "allow" });
    }
    expect(await call(named("Halyk Bank"), "intl-names-other")).toMatchObject({ action: "allow" });
  });

  it("on a name alone, judges every call that presents one: a raw INVITE's From with Cyrillic look-alikes", async () => {
    await addRule({ name: "Kaspi Gold" });
    // К, а, ѕ, р, і: Cyrillic letters that look like K, a, s, p, i.
    const response = await postInvite(inviteWith([`From: "\u041a\u0430\u0455\u0440\u0456 Gold" <sip:+${FOREIGN}@gw.example;user=phone>;tag=1`, TO]), "?trunk=intl-names-3&carrier=TransitCo&international=true");
    expect(((await response.json()) as any).verdict).toMatchObject({ action: "block", decidedBy: "rules.operator" });
  });

  it("refuses a phrase that keeps fewer than 3 letters or digits once read, or is longer than 64 characters, naming the field", async () => {
    for (const name of ["a-b", " . ", "x".repeat(65)]) {
      const response = await admin("POST", "/v1/admin/rules", { criteria: { name }, action: "block", reason: "too broad" });
      expect(response.status, name).toBe(400);
      expect(JSON.stringify(await response.json()), name).toContain("criteria.name");
    }
  });
});

describe("a rule on a number and a name", () => {
  it("is held whole, never in the exact-number index: with D1 down, a call from the number without the name is not blocked", async () => {
    const cli = "77012223344";
    const both = await addRule({ cli: { exact: `+${cli}` }, name: "Jusan Bank" });
    const numberOnly = await addRule({ cli: { exact: "+77012223355" } });
    const keys = await env.DB.prepare("SELECT id, cli_key FROM rules WHERE id IN (?1, ?2)").bind(both.id, numberOnly.id).all<{ id: string; cli_key: number | null }>();
    expect(Object.fromEntries(keys.results.map((row) => [row.id, row.cli_key]))).toEqual({ [both.id]: null, [numberOnly.id]: 177012223355 });

    // A fresh isolate compiles its base with D1 up; then D1 goes down, and a keyed hit could only be enforced as the index remembers it.
    const watched = switchableD1(env.DB);
    const app = createApp({ sharedCache: null, snapshots: createSnapshotCache({ homeCountry: "KZ", clock: systemClock, refreshIntervalMs: 0 }) });
    const bindings = { ...env, DB: watched.db };
    const domestic = (from: string) => verdictVia(app, { from, to: `<sip:+${CALLEE}@operator.example>`, ingress: { trunk: "domestic-1", carrier: "DomesticCo", international: false } }, bindings);
    expect(await domestic(`<sip:+${cli}@carrier.example>`)).toMatchObject({ action: "allow" });
    watched.set("down");
    expect(await domestic(`<sip:+${cli}@carrier.example>`)).toMatchObject({ action: "allow" });
    expect(await domestic(named("Jusan Bank", cli))).toMatchObject({ action: "block", decidedBy: "rules.operator" });
    expect(await domestic(`<sip:+77012223355@carrier.example>`)).toMatchObject({ action: "block", decidedBy: "rules.operator" });
  });
});
