import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../../src/app";
import { systemClock } from "../../../src/lib/clock";
import { getConfigSection, putConfigSection } from "../../../src/origin/config/store";
import { putRoamingEntry } from "../../../src/origin/roaming/table-lookup";
import { createSnapshotCache } from "../../../src/origin/snapshot";
import { createRule } from "../../../src/rules/store";
import type { RuleInput } from "../../../src/rules/rule";
import { sbcAuth, TEST_ACTOR } from "../support/auth";

/**
 * A national trunk prefix written after the country code (`+7 8 701 …`, `+49 0 170 …`) is no digit of
 * the number: libphonenumber drops it when it reads a global number, and so the callee's phone shows,
 * and matches to its contacts, +7 701 … and +49 170 …. Classified by that reading but looked up as
 * written, the number slipped past every list keyed by the number: the roaming table (a subscriber at
 * home was "unknown", withheld instead of blocked), the operator's rules and the Do-Not-Originate list.
 */
const INTERNATIONAL = "?trunk=intl-1&carrier=TransitCo&international=true";
const DOMESTIC = "?trunk=kt-1&carrier=Kazakhtelecom&international=false";
const TO = "To: <sip:+77012345678@operator.example>";

const freshApp = () => createApp({ sharedCache: null, snapshots: createSnapshotCache({ homeCountry: "KZ", clock: systemClock, refreshIntervalMs: 0 }) });

function invite(from: string): string {
  return ["INVITE sip:+77012345678@operator.example;user=phone SIP/2.0", "Via: SIP/2.0/UDP 198.51.100.20:5060;branch=z9hG4bK776asdhds", "Max-Forwards: 70", `From: <sip:${from}@carrier.example;user=phone>;tag=1`, TO, "Call-ID: prefix@carrier.example", "CSeq: 1 INVITE", "Content-Length: 0", "", ""].join("\r\n");
}

async function verdictOf(from: string, ingress = INTERNATIONAL) {
  const context = createExecutionContext();
  const response = await freshApp().request(`/v1/verdict${ingress}`, { method: "POST", headers: { ...sbcAuth, "Content-Type": "message/sip" }, body: invite(from) }, env, context);
  await waitOnExecutionContext(context);
  expect(response.status).toBe(200);
  return ((await response.json()) as { verdict: any }).verdict;
}

describe("a trunk prefix after the country code names the number without it", () => {
  it("a Kazakh mobile at home, spelt +7 8 701 …, is looked up in the roaming table as +7 701 … and blocked", async () => {
    await putRoamingEntry(env.DB, "77019876543", { status: "home" }, undefined, TEST_ACTOR, Date.now());
    const verdict = await verdictOf("+7-8-701-987-65-43");
    expect(verdict).toMatchObject({ action: "block", sip: { code: 608 }, decidedBy: "origin.roaming" });
    expect(verdict.checks.find((check: any) => check.id === "origin.roaming")).toMatchObject({ result: "fail", evidence: { tn: "77019876543", status: "home" } });
  });

  it("a rule blocking a foreign number blocks it spelt +49 0 170 …", async () => {
    await createRule(env.DB, { action: "block", reason: "fraud report", criteria: { cli: { exact: "491701234567" } } } as RuleInput, { actor: "analyst", author: null }, Date.now());
    expect(await verdictOf("+4901701234567")).toMatchObject({ action: "block", sip: { code: 603 }, decidedBy: "rules.operator" });
  });

  it("a bank's Do-Not-Originate number spelt +7 8 727 … is on the list", async () => {
    const numbering = await getConfigSection(env.DB, "numbering", "KZ");
    await putConfigSection(env.DB, "numbering", { ...numbering.document, doNotOriginate: [{ exact: "77272509999" }] }, numbering.version, TEST_ACTOR, Date.now(), "KZ");
    expect(await verdictOf("+787272509999", DOMESTIC)).toMatchObject({ action: "block", decidedBy: "cli.dno" });
  });
});
