import { env } from "cloudflare:workers";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import type { NormalizedCall } from "../../../src/call/call";
import { getConfigSection, putConfigSection } from "../../../src/origin/config/store";
import { markIsolateSnapshotsStale } from "../../../src/origin/snapshot";
import { isSipLabel } from "../../../src/verdict/sip-label";
import { decideVerdict } from "../../../src/verdict/policy";
import type { CallVerification } from "../../../src/verification/verify-call";
import { manualClock, operatorApp } from "../admin/support";
import { sbcAuth, TEST_ACTOR } from "../support/auth";

/**
 * Issue 23 item 4: what a verdict tells the SBC to put in SIP goes towards the caller's network, so
 * no analyst's or operator's free text may reach it: not a rule's reason, not a report's notes, not a
 * name in the configuration. Reason texts and labels come from a fixed vocabulary: the deciding check's
 * id, or a short label in a charset SIP carries without quoting (src/verdict/sip-label.ts).
 */
const SECRET = "victim Aigul 8-701-555-12-34 said";
const DOMESTIC = { trunk: "kt-1", carrier: "Kazakhtelecom", international: false };

interface Verdict {
  action: string;
  sip: { code: number; reason: string } | null;
  label: string | null;
  decidedBy: string | null;
  headers: { name: string; value: string }[];
}

const { send } = operatorApp(manualClock(Date.parse("2026-11-27T12:00:00Z")));

async function verdictFor(from: string, ingress: object = DOMESTIC): Promise<Verdict> {
  const { app } = operatorApp(manualClock(Date.now()));
  const response = await app.request("/v1/verdict", { method: "POST", headers: { ...sbcAuth, "Content-Type": "application/json" }, body: JSON.stringify({ from, to: "+77012345678", ingress }) }, env);
  return ((await response.json()) as { verdict: Verdict }).verdict;
}

/** Everything of a verdict that ends up in SIP. */
const sipParts = (verdict: Verdict) => [verdict.sip?.reason ?? "", verdict.label ?? "", ...verdict.headers.map((header) => `${header.name}: ${header.value}`)].join("\n");

afterEach(async () => {
  const policy = await getConfigSection(env.DB, "policy", "KZ");
  await putConfigSection(env.DB, "policy", { outcomes: {} }, policy.version, TEST_ACTOR, Date.now(), "KZ");
  markIsolateSnapshotsStale();
});

describe("no free text reaches a SIP header", () => {
  it("a rule made from a fraud report carries neither the report's notes nor its reason into the Reason header", async () => {
    const filed = await send("POST", "/v1/reports", { victim: "+77012345678", presentedCli: "+77172581111", time: "2026-11-27T11:40:00Z", channel: "call-centre", notes: SECRET });
    const { report } = (await filed.json()) as { report: { id: string } };
    const ruled = await send("POST", `/v1/reports/${report.id}/rules`, {});
    expect(((await ruled.json()) as { rule: { reason: string } }).rule.reason).not.toContain(SECRET);

    const verdict = await verdictFor("+77172581111");
    expect(verdict).toMatchObject({ action: "block", decidedBy: "rules.operator", sip: { code: 603, reason: "Decline" } });
    expect(verdict.headers).toContainEqual({ name: "Reason", value: 'SIP ;cause=603 ;text="rules.operator"' });
    expect(sipParts(verdict)).not.toMatch(/Aigul|fraud report|call-centre/);
  });

  it("a rule's reason stays out; its short label is the Reason text of a block and the label of a tag", async () => {
    await send("POST", "/v1/admin/rules", { criteria: { cli: { exact: "77172582222" } }, action: "block", reason: SECRET, label: "Bank impersonation" });
    await send("POST", "/v1/admin/rules", { criteria: { cli: { exact: "77172583333" } }, action: "tag", reason: SECRET });
    const blocked = await verdictFor("+77172582222");
    expect(blocked.headers).toContainEqual({ name: "Reason", value: 'SIP ;cause=603 ;text="Bank impersonation"' });
    const tagged = await verdictFor("+77172583333");
    expect(tagged).toMatchObject({ action: "tag", label: "Suspected spoofing" });
    for (const verdict of [blocked, tagged]) expect(sipParts(verdict)).not.toContain("Aigul");
  });

  it.each([['Bank" ;cause=200 ;text="ok'], ["Банк"], ["line\r\nX-Injected: yes"], ["a".repeat(33)]])("a rule label %j is refused", async (label) => {
    const response = await send("POST", "/v1/admin/rules", { criteria: { cli: { exact: "77172584444" } }, action: "tag", reason: "labels", label });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { fields: { label: expect.any(String) } } });
  });

  it("a label stored before labels were restricted falls back to the check id", async () => {
    const now = Date.now();
    // Written past the API, as an older release stored it, and published as any rule change is (stamped with the next origin version).
    await env.DB.batch([
      env.DB.prepare(
        "INSERT INTO rules (id, criteria, action, reason, label, author, version, created_at, updated_at, changed_version) VALUES (?, ?, 'block', ?, ?, 'legacy', 1, ?, ?, (SELECT version + 1 FROM origin_version WHERE id = 1))",
      ).bind(crypto.randomUUID(), JSON.stringify({ cli: { exact: "77172585555" } }), SECRET, `${SECRET}" ;x="`, now, now),
      env.DB.prepare("UPDATE origin_version SET version = version + 1 WHERE id = 1"),
    ]);
    markIsolateSnapshotsStale();
    const verdict = await verdictFor("+77172585555");
    expect(verdict.headers).toContainEqual({ name: "Reason", value: 'SIP ;cause=603 ;text="rules.operator"' });
    expect(sipParts(verdict)).not.toContain("Aigul");
  });

  it("names from the configuration stay out: a carrier's name, an unsafe policy label", async () => {
    const ingress = await getConfigSection(env.DB, "ingress", "KZ");
    const policy = await getConfigSection(env.DB, "policy", "KZ");
    await putConfigSection(env.DB, "ingress", { ...ingress.document, interconnects: [{ trunk: "intl-7", kind: "international", carrierName: SECRET, country: "TR", onNet: false }] }, ingress.version, TEST_ACTOR, Date.now(), "KZ");
    await putConfigSection(env.DB, "policy", { outcomes: { "origin.national-on-international:fixed": { action: "block", sipCode: 608, label: `"${SECRET}"` } } }, policy.version, TEST_ACTOR, Date.now(), "KZ");
    markIsolateSnapshotsStale();
    try {
      const verdict = await verdictFor("+77272501234", { trunk: "intl-7", international: true });
      expect(verdict).toMatchObject({ action: "block", sip: { code: 608 }, decidedBy: "origin.national-on-international" });
      expect(verdict.headers).toContainEqual({ name: "Reason", value: 'SIP ;cause=608 ;text="origin.national-on-international"' });
      expect(sipParts(verdict)).not.toContain("Aigul");
    } finally {
      const current = await getConfigSection(env.DB, "ingress", "KZ");
      await putConfigSection(env.DB, "ingress", ingress.document, current.version, TEST_ACTOR, Date.now(), "KZ");
    }
  });
});

describe("decideVerdict, for any reason and label a finding carries", () => {
  const call: NormalizedCall = { identity: [], from: null, pai: null, paiOther: null, to: null, ruri: null, cli: { raw: "+77272501234", tn: "77272501234", unreadable: null }, cliSource: "from", callId: null, date: null, ingress: { trunk: null, carrier: null, international: null }, privacy: [] };
  const verification: CallVerification = { verstat: "No-TN-Validation", attest: null, failure: null, identities: [], checks: [] };
  const HEADER_GRAMMAR: Record<string, RegExp> = {
    Reason: /^SIP ;cause=(603|608) ;text="([A-Za-z0-9 .!?()/_+:-]{1,64})"$/,
    "P-Asserted-Identity": /^<tel:\+77272501234;verstat=No-TN-Validation>$/,
    Privacy: /^id$/,
  };

  it("puts only the check id or a SIP-safe label into headers and the verdict's label", () => {
    fc.assert(
      fc.property(fc.string(), fc.option(fc.string({ unit: "binary" })), fc.constantFrom("block", "tag", "withhold"), fc.constantFrom(603, 608), (reason, label, action, sipCode) => {
        const finding = { checkId: "rules.operator", action, reason, ...(label === null ? {} : { label }), ...(action === "block" ? { sipCode } : {}) } as const;
        const verdict = decideVerdict({ requestId: "r", call, verification, findings: [finding], checks: [], jwscardUrl: null });
        const allowedText = label !== null && isSipLabel(label) ? [label, "rules.operator"] : ["rules.operator"];
        for (const header of verdict.headers) {
          const match = HEADER_GRAMMAR[header.name]!.exec(header.value);
          expect(match, `${header.name}: ${header.value}`).not.toBeNull();
          if (header.name === "Reason") expect(allowedText).toContain(match![2]);
        }
        if (verdict.label !== null) expect(allowedText).toContain(verdict.label);
      }),
      { numRuns: 500 },
    );
  });
});
