import { describe, expect, it } from "vitest";
import type { NormalizedCall } from "../../../src/call/call";
import { DEFAULT_POLICY } from "../../../src/origin/policy";
import type { PrivValue } from "../../../src/sip/privacy";
import type { Finding } from "../../../src/verdict/finding";
import { decideVerdict, decisiveFinding, monitoredActions, monitoredFindings, stirFinding, wouldHaveAction } from "../../../src/verdict/policy";
import type { CallVerification } from "../../../src/verification/verify-call";
import { OUTCOMES } from "../../../src/verification/outcomes";

/**
 * The verdict policy (src/verdict/policy.ts), pure: which finding decides, and what the SBC is told to
 * apply for it. Runs in Node too, so the mutation runs' unit pass judges it (vitest.mutation.config.ts).
 */

const CALLER = { raw: "+77272501234", tn: "77272501234", unreadable: null };

function call(overrides: Partial<NormalizedCall> = {}): NormalizedCall {
  return { identity: [], from: CALLER, pai: null, paiOther: null, to: null, ruri: null, cli: CALLER, cliSource: "from", callId: null, date: null, ingress: { trunk: null, carrier: null, international: null }, privacy: [], ...overrides };
}

const unsigned: CallVerification = { verstat: "No-TN-Validation", attest: null, failure: { ...OUTCOMES.IDENTITY_MISSING, reasondesc: "no Identity header" }, identities: [], checks: [] };
const passed: CallVerification = { verstat: "TN-Validation-Passed", attest: "A", failure: null, identities: [], checks: [] };
const failedSignature: CallVerification = { verstat: "TN-Validation-Failed", attest: "A", failure: { ...OUTCOMES.SIGNATURE_INVALID, reasondesc: "the signature does not verify" }, identities: [], checks: [] };
const unusable: CallVerification = { verstat: "No-TN-Validation", attest: null, failure: { ...OUTCOMES.CLAIMS_INVALID, reasondesc: "no orig" }, identities: [], checks: [] };

const finding = (checkId: string, action: Finding["action"], extra: Partial<Finding> = {}): Finding => ({ checkId, action, reason: `${checkId} says ${action}`, ...extra });

const decide = (findings: Finding[], options: { verification?: CallVerification; call?: NormalizedCall; jwscardUrl?: string | null } = {}) =>
  decideVerdict({ requestId: "r-1", call: options.call ?? call(), verification: options.verification ?? unsigned, findings, checks: [], jwscardUrl: options.jwscardUrl ?? null });

describe("stirFinding: a verification that did not pass, by the policy table's stir entries", () => {
  it("none for a passed verification, an unsigned call (428), or a credential our trust store could not judge", () => {
    expect(stirFinding(passed, DEFAULT_POLICY)).toBeNull();
    expect(stirFinding(unsigned, DEFAULT_POLICY)).toBeNull();
    expect(stirFinding({ ...failedSignature, failure: { ...failedSignature.failure!, checkId: "store.trust" } }, DEFAULT_POLICY)).toBeNull();
  });
  it("a failed signature follows stir.tn-validation-failed, an unusable PASSporT stir.no-tn-validation, naming the failure", () => {
    const policy = { ...DEFAULT_POLICY, "stir.tn-validation-failed": { action: "block" as const, sipCode: 608 as const }, "stir.no-tn-validation": { action: "withhold" as const, mode: "monitor" as const } };
    expect(stirFinding(failedSignature, policy)).toEqual({ checkId: OUTCOMES.SIGNATURE_INVALID.checkId, action: "block", sipCode: 608, reason: `${OUTCOMES.SIGNATURE_INVALID.reasonText}: the signature does not verify` });
    expect(stirFinding(unusable, policy)).toEqual({ checkId: OUTCOMES.CLAIMS_INVALID.checkId, action: "withhold", reason: `${OUTCOMES.CLAIMS_INVALID.reasonText}: no orig`, monitored: true });
  });
});

describe("decisiveFinding", () => {
  it("the most severe enforced finding decides; on a tie, the first", () => {
    const tag = finding("a", "tag");
    const firstBlock = finding("b", "block");
    expect(decisiveFinding([tag, firstBlock, finding("c", "withhold"), finding("d", "block")])).toBe(firstBlock);
    expect(decisiveFinding([finding("e", "withhold"), tag])?.checkId).toBe("e");
  });
  it("a monitored finding never decides, and allowing findings decide nothing", () => {
    expect(decisiveFinding([finding("a", "block", { monitored: true }), finding("b", "tag")])?.checkId).toBe("b");
    expect(decisiveFinding([finding("a", "block", { monitored: true })])).toBeNull();
    expect(decisiveFinding([finding("a", "allow")])).toBeNull();
    expect(decisiveFinding([])).toBeNull();
  });
});

describe("decideVerdict: what the SBC applies", () => {
  it("a block with 608: Rejected, a Reason with the check id, the jwscard link when configured, and no caller ID", () => {
    const verdict = decide([finding("cli.dno", "block", { sipCode: 608 })], { jwscardUrl: "https://redress.example/jwscard" });
    expect(verdict).toMatchObject({ action: "block", sip: { code: 608, reason: "Rejected" }, decidedBy: "cli.dno", label: null, verstat: "No-TN-Validation" });
    expect(verdict.headers).toEqual([
      { name: "Reason", value: 'SIP ;cause=608 ;text="cli.dno"' },
      { name: "Call-Info", value: "<https://redress.example/jwscard>;purpose=jwscard" },
    ]);
    expect(decide([finding("cli.dno", "block", { sipCode: 608 })]).headers).toEqual([{ name: "Reason", value: 'SIP ;cause=608 ;text="cli.dno"' }]);
  });
  it("a block without a code is a 603 Decline, with no jwscard link, its Reason naming its label when SIP can carry it", () => {
    const verdict = decide([finding("rules.operator", "block", { label: "Bank impersonation" })], { jwscardUrl: "https://redress.example/jwscard" });
    expect(verdict).toMatchObject({ action: "block", sip: { code: 603, reason: "Decline" } });
    expect(verdict.headers).toEqual([{ name: "Reason", value: 'SIP ;cause=603 ;text="Bank impersonation"' }]);
  });
  it("an allowed unsigned call: the verstat on P-Asserted-Identity, no Reason for a 428, nothing else", () => {
    const verdict = decide([finding("origin.ingress", "allow")]);
    expect(verdict).toEqual({ requestId: "r-1", action: "allow", verstat: "No-TN-Validation", attest: null, sip: null, headers: [{ name: "P-Asserted-Identity", value: "<tel:+77272501234;verstat=No-TN-Validation>" }], decidedBy: null, label: null, checks: [] });
  });
  it("a call with no caller ID number, or none at all, gets no P-Asserted-Identity", () => {
    expect(decide([], { call: call({ cli: { raw: "anonymous", tn: null, unreadable: null } }) }).headers).toEqual([]);
    expect(decide([], { call: call({ cli: null, cliSource: null }) }).headers).toEqual([]);
  });
  it("a failed verification that is let through names its failure in a Reason", () => {
    const verdict = decide([finding("passport.signature", "tag", { label: "Unverified caller ID" })], { verification: failedSignature });
    expect(verdict).toMatchObject({ action: "tag", label: "Unverified caller ID", verstat: "TN-Validation-Failed", attest: "A" });
    expect(verdict.headers).toEqual([
      { name: "P-Asserted-Identity", value: "<tel:+77272501234;verstat=TN-Validation-Failed>" },
      { name: "Reason", value: `SIP ;cause=${OUTCOMES.SIGNATURE_INVALID.reasonCode} ;text="${OUTCOMES.SIGNATURE_INVALID.reasonText}"` },
    ]);
  });
  it("a tag's label is the check id when its label is none SIP can carry", () => {
    expect(decide([finding("rules.operator", "tag", { label: 'x"; evil' })]).label).toBe("rules.operator");
  });
  it.each<[string, Finding["action"], PrivValue[], string | null]>([
    ["a withheld call asks for id", "withhold", [], "id"],
    ["a withheld call keeps every value the caller asked for", "withhold", ["user", "critical"], "user;critical;id"],
    ["a withheld call that already asked for id asks once", "withhold", ["id"], "id"],
    ["a caller asking to hide its identity is re-asserted", "allow", ["none", "user"], "user"],
    ["a caller asking for none is left alone", "allow", ["none"], null],
    ["a caller asking for session only is left alone", "tag", ["session"], null],
  ])("Privacy: %s", (_, action, privacy, expected) => {
    const verdict = decide(action === "allow" ? [] : [finding("x", action)], { call: call({ privacy }) });
    expect(verdict.headers.find(({ name }) => name === "Privacy")?.value ?? null).toBe(expected);
  });
  it("a blocked call carries no Privacy, whatever the caller asked", () => {
    expect(decide([finding("x", "block")], { call: call({ privacy: ["id"] }) }).headers.map(({ name }) => name)).toEqual(["Reason"]);
  });
});

describe("monitored findings", () => {
  it("are listed by rule or check, each once, and decide nothing; a monitored allow is not listed", () => {
    const findings = [finding("rules.operator", "block", { ruleId: "rule-1", monitored: true }), finding("cli.dno", "withhold", { monitored: true }), finding("origin.ingress", "allow", { monitored: true }), finding("cli.type", "tag")];
    expect(monitoredActions(findings)).toEqual([
      { by: "rule-1", action: "block", reason: "rules.operator says block" },
      { by: "cli.dno", action: "withhold", reason: "cli.dno says withhold" },
    ]);
    const verdict = decide(findings);
    expect(verdict).toMatchObject({ action: "tag", decidedBy: "cli.type", monitored: monitoredActions(findings) });
  });
  it("POLICY_MODE=monitor marks every finding monitored, and none decides", () => {
    const findings = monitoredFindings([finding("cli.dno", "block"), finding("rules.operator", "tag", { ruleId: "rule-1" })]);
    expect(findings).toEqual([finding("cli.dno", "block", { monitored: true }), finding("rules.operator", "tag", { ruleId: "rule-1", monitored: true })]);
    expect(decide(findings)).toMatchObject({ action: "allow", decidedBy: null });
  });
  it("a verdict with none has no monitored list", () => {
    expect(decide([finding("cli.type", "tag")])).not.toHaveProperty("monitored");
  });
  it("wouldHaveAction: the most severe of them, or null when none would have acted", () => {
    expect(wouldHaveAction(undefined)).toBeNull();
    expect(wouldHaveAction([])).toBeNull();
    expect(wouldHaveAction([{ by: "a", action: "allow", reason: "" }])).toBeNull();
    expect(wouldHaveAction([{ by: "a", action: "tag", reason: "" }, { by: "b", action: "block", reason: "" }, { by: "c", action: "withhold", reason: "" }])).toBe("block");
  });
});
