import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { getConfigSection, putConfigSection } from "../../../src/origin/config/store";
import { markIsolateSnapshotsStale } from "../../../src/origin/snapshot";
import { verdictVia } from "../abuse/support";
import { sbcAuth, TEST_ACTOR } from "../support/auth";
import { DOMESTIC_QUERY, INTERNATIONAL_QUERY, inviteWith, postInvite, TO } from "../support/invite";
import { appAt, CALLEE, CALLER, installTrust, signedIdentity, verdictRequest } from "../support/stir";

/**
 * A fraudster abroad presents a bank's name beside a number the origin checks rightly let in (a foreign
 * one): the callee's phone shows "Halyk Bank". The SBC replaces P-Asserted-Identity with the verdict's,
 * which carries no name, so the name shown is From's: the verdict says whether the callee may see it.
 */
const FOREIGN = "4930123456789";
const BANK = "Halyk Bank";
const INTERNATIONAL = { trunk: "intl-9", carrier: "TransitCo", international: true };
const DOMESTIC = { trunk: "domestic-1", carrier: "DomesticCo", international: false };
const named = (tn: string, name = BANK) => `"${name}" <sip:+${tn}@gw.example;user=phone>;tag=1`;

async function writeSection(section: "attestation" | "allow-list", document: object) {
  const { version } = await getConfigSection(env.DB, section, "KZ");
  await putConfigSection(env.DB, section, document as never, version, TEST_ACTOR, Date.now(), "KZ");
  markIsolateSnapshotsStale();
}

const unsigned = (from: string, ingress: object, extra: Record<string, unknown> = {}, bindings: object = env) =>
  verdictVia(appAt(), { from, to: `<sip:+${CALLEE}@operator.example>`, ruri: `sip:+${CALLEE}@operator.example`, ingress, ...extra }, bindings);

beforeEach(async () => {
  installTrust();
  await writeSection("attestation", { vouching: [] });
  await writeSection("allow-list", { entries: [] });
});

describe("a display name nothing answers for is removed from an allowed call", () => {
  it("a bank's name beside a foreign number from abroad: the call is allowed, the name removed, the verdict saying why (raw INVITE)", async () => {
    const response = await postInvite(inviteWith([`From: ${named(FOREIGN)}`, TO]), INTERNATIONAL_QUERY);
    const { verdict } = (await response.json()) as any;
    expect(verdict).toMatchObject({ action: "allow", cli: { tn: FOREIGN }, callerName: { presented: BANK, presentation: "removed" } });
    expect(verdict.callerName?.reason).toMatch(/^nothing answers for it/);
    expect(verdict.callerName).not.toHaveProperty("vouchedBy");
  });

  it("the same as JSON, a quoted name with quoted pairs read as the callee would see it", async () => {
    const verdict = await unsigned(`"Halyk \\"Bank\\"" <sip:+${FOREIGN}@gw.example>;tag=1`, INTERNATIONAL);
    expect(verdict).toMatchObject({ action: "allow", callerName: { presented: 'Halyk "Bank"', presentation: "removed" } });
  });

  it("a foreign number with a name on a domestic interconnect is transit: removed", async () => {
    expect(await unsigned(named(FOREIGN), DOMESTIC)).toMatchObject({ action: "allow", callerName: { presentation: "removed" } });
  });

  it("a name beside a From presenting another number than the caller ID is removed, even on a domestic interconnect", async () => {
    const verdict = await unsigned(named("77272509999"), DOMESTIC, { pai: `<sip:+${CALLER}@gw.example;user=phone>` });
    expect(verdict).toMatchObject({ action: "allow", cli: { tn: CALLER, source: "pai" }, callerName: { presented: BANK, presentation: "removed" } });
    expect(verdict.callerName?.reason).toMatch(/^From presents another number/);
  });

  // A phone shows the name in place of the number: a name spelling the bank's number is the number the callee reads.
  it.each([
    ["+7 727 250 12 34", "+77272501234"],
    ["Halyk Bank 8 (727) 250-12-34", "+77272501234"],
    ["Халық ＋７７２７２５０１２３４", "+77272501234"],
  ])("a name spelling another number (%s) is removed even on a domestic interconnect, naming it", async (name, spelled) => {
    const verdict = await unsigned(named("77012345600", name), DOMESTIC);
    expect(verdict).toMatchObject({ action: "allow", callerName: { presented: name, presentation: "removed" } });
    expect(verdict.callerName?.reason).toBe(`the name spells another number (${spelled}) than the caller ID: a phone would show it in place of the number`);
  });

  // U+202E (right-to-left override) makes a phone show what follows backwards: "knaB kylaH" reads "Halyk Bank",
  // a reversed number the number, where neither the number search nor a rule's phrase reads it so.
  it.each([
    ["\u202eknaB kylaH", "a bank's name written backwards behind a right-to-left override"],
    ["\u202e43 21 052 727 8", "a number written backwards"],
    ["Almaty \u2067Office\u2069", "an isolate"],
    ["Almaty\u0085Office", "a C1 control character"],
  ])("a name holding control or bidirectional formatting characters (%j: %s) is removed even on a domestic interconnect", async (name) => {
    const verdict = await unsigned(named(CALLER, name), DOMESTIC);
    expect(verdict).toMatchObject({ action: "allow", callerName: { presented: name, presentation: "removed" } });
    expect(verdict.callerName?.reason).toMatch(/^the name holds control or bidirectional formatting characters/);
  });

  it("a bank's name written backwards behind a right-to-left override in a raw INVITE's From is removed", async () => {
    const response = await postInvite(inviteWith([`From: ${named(CALLER, "\u202eknaB kylaH")}`, TO]), DOMESTIC_QUERY);
    const { verdict } = (await response.json()) as any;
    expect(verdict).toMatchObject({ action: "allow", callerName: { presented: "\u202eknaB kylaH", presentation: "removed" } });
  });

  it("a name longer than 48 characters is removed even on a domestic interconnect: no phone shows it whole, and no number is searched for in it", async () => {
    const long = `Almaty Office ${"x".repeat(35)}`;
    expect(await unsigned(named(CALLER, long.slice(0, 48)), DOMESTIC)).toMatchObject({ callerName: { presentation: "shown" } });
    expect(await unsigned(named(CALLER, long), DOMESTIC)).toMatchObject({ callerName: { presented: long, presentation: "removed", reason: "longer than the 48 characters a name is shown with" } });
  });

  it("a name spelling the caller ID itself, or digits that are no number, is judged as any other name", async () => {
    for (const name of ["+7 727 250 12 34", "Office 2", "Almaty 2024"]) {
      expect(await unsigned(named(CALLER, name), DOMESTIC), name).toMatchObject({ callerName: { presentation: "shown", vouchedBy: "domestic-interconnect" } });
    }
  });

  it("CALLER_NAMES=peer keeps the peer's name on an allowed call, as before the setting", async () => {
    const verdict = await unsigned(named(FOREIGN), INTERNATIONAL, {}, { ...env, CALLER_NAMES: "peer" });
    expect(verdict).toMatchObject({ action: "allow", callerName: { presented: BANK, presentation: "shown" } });
    expect(verdict.callerName?.reason).toMatch(/^CALLER_NAMES=peer/);
  });
});

describe("a display name something answers for is shown", () => {
  it("a national number on a domestic interconnect (raw INVITE)", async () => {
    const response = await postInvite(inviteWith([`From: ${named(CALLER, "Almaty Office")}`, TO]), DOMESTIC_QUERY);
    const { verdict } = (await response.json()) as any;
    expect(verdict).toMatchObject({ action: "allow", callerName: { presented: "Almaty Office", presentation: "shown", vouchedBy: "domestic-interconnect" } });
  });

  it("a national number from abroad on the operator's authorised-use list for its trunk", async () => {
    await writeSection("allow-list", { entries: [{ customer: "Halyk", cli: { prefix: "+7727250" }, trunk: INTERNATIONAL.trunk }] });
    expect(await unsigned(named(CALLER), INTERNATIONAL)).toMatchObject({ action: "allow", callerName: { presentation: "shown", vouchedBy: "authorised-use" } });
  });

  it("a verified A from abroad by a provider the operator lists; not by one it does not", async () => {
    await writeSection("attestation", { vouching: [{ spc: "818H", name: "Provider 818H" }] });
    const listed = await verdictVia(appAt(), verdictRequest([(await signedIdentity()).identity], { from: named(CALLER), callId: crypto.randomUUID(), ingress: INTERNATIONAL }));
    expect(listed).toMatchObject({ action: "allow", attest: "A", callerName: { presentation: "shown", vouchedBy: "attestation" } });
    expect(listed.callerName?.reason).toMatch(/Provider 818H/);

    // A foreign number signed A by a provider nobody lists: allowed, and its name removed.
    await writeSection("attestation", { vouching: [] });
    const identity = (await signedIdentity({ orig: FOREIGN })).identity;
    const unlisted = await verdictVia(appAt(), verdictRequest([identity], { from: named(FOREIGN), callId: crypto.randomUUID(), ingress: INTERNATIONAL }));
    expect(unlisted).toMatchObject({ action: "allow", verstat: "TN-Validation-Passed", attest: "A", callerName: { presentation: "removed" } });
  });
});

describe("a display name on a call the verdict does not simply allow", () => {
  it("a tagged call shows the verdict's label in its place, a withheld one an anonymous From, a blocked one nothing", async () => {
    // A PASSporT signed for another number than From's: verification fails, and the domestic call is tagged.
    const tagged = await verdictVia(appAt(), verdictRequest([(await signedIdentity({ orig: "77272509999" })).identity], { from: named(CALLER), callId: crypto.randomUUID() }));
    expect(tagged).toMatchObject({ action: "tag", callerName: { presentation: "removed", reason: "the verdict's label is shown in its place" } });
    // A national VoIP number from abroad is withheld: From goes anonymous, so no name of the peer's is shown.
    const withheld = await unsigned(named("77501234567"), INTERNATIONAL);
    expect(withheld).toMatchObject({ action: "withhold", callerName: { presentation: "removed", reason: "the caller ID is withheld: From is anonymous" } });
    const blocked = await unsigned(named(CALLER), INTERNATIONAL);
    expect(blocked).toMatchObject({ action: "block", callerName: { presentation: "removed", reason: "the call is rejected" } });
  });

  it("CALLER_NAMES other than vouched or peer is a configuration error naming it", async () => {
    const response = await appAt().request(
      "/v1/verdict",
      { method: "POST", headers: { ...sbcAuth, "Content-Type": "application/json" }, body: JSON.stringify({ from: named(FOREIGN), to: `+${CALLEE}`, ingress: INTERNATIONAL }) },
      { ...env, CALLER_NAMES: "all" },
    );
    expect(response.status).toBe(500);
    expect(((await response.json()) as any).error).toEqual({ code: "ERR_CONFIG", message: "CALLER_NAMES must be one of vouched, peer, got 'all'" });
  });

  it("no display name: callerName is null", async () => {
    expect(await unsigned(`<sip:+${FOREIGN}@gw.example>;tag=1`, INTERNATIONAL)).toMatchObject({ action: "allow", callerName: null });
  });
});
