import { describe, expect, it } from "vitest";
import type { CallParty } from "../../../src/call/call";
import type { NameVoucher } from "../../../src/origin/assess";
import { callerNameOf, type CallerNameInput } from "../../../src/verdict/caller-name";

/**
 * Whether the callee may see From's display name (src/verdict/caller-name.ts), pure. The worker tests
 * (test/worker/security/caller-name.test.ts) judge the same through `/v1/verdict`; these run in Node, so
 * the mutation runs' unit pass judges them.
 */
const ALMATY = "77272501234";
const DOMESTIC: NameVoucher = { by: "domestic-interconnect", detail: "a national caller ID on a domestic interconnect" };
const party = (tn: string | null, name?: string): CallParty => ({ raw: "x", tn, unreadable: null, ...(name === undefined ? {} : { name }) });

function nameOf(name: string | undefined, overrides: Partial<CallerNameInput> = {}) {
  const from = party(ALMATY, name);
  return callerNameOf({ call: { from, cli: from }, action: "allow", voucher: DOMESTIC, others: [], mode: "vouched", country: "KZ", ...overrides });
}

describe("From's display name, shown or removed", () => {
  it("is null when From has no display name, or there is no From", () => {
    expect(nameOf(undefined)).toBeNull();
    expect(callerNameOf({ call: { from: null, cli: null }, action: "allow", voucher: DOMESTIC, others: [], mode: "peer", country: "KZ" })).toBeNull();
  });

  it("shows an allowed call's name that something answers for, saying what", () => {
    expect(nameOf("Almaty Office")).toEqual({ presented: "Almaty Office", presentation: "shown", reason: DOMESTIC.detail, vouchedBy: "domestic-interconnect" });
  });

  it("removes it when nothing answers for the caller ID", () => {
    expect(nameOf("Halyk Bank", { voucher: null })).toEqual({
      presented: "Halyk Bank",
      presentation: "removed",
      reason: "nothing answers for it: the caller ID is neither attested A by a provider the operator lists, nor on the authorised-use list, nor a national number on a domestic interconnect",
    });
  });

  it.each([
    ["block", "the call is rejected"],
    ["withhold", "the caller ID is withheld: From is anonymous"],
    ["tag", "the verdict's label is shown in its place"],
  ] as const)("removes it from a call the verdict does not allow (%s), in either mode", (action, reason) => {
    for (const mode of ["vouched", "peer"] as const) expect(nameOf("Halyk Bank", { action, mode })).toEqual({ presented: "Halyk Bank", presentation: "removed", reason });
  });

  it("CALLER_NAMES=peer shows an allowed call's name whatever answers for it, and whatever it spells", () => {
    const shown = { presentation: "shown", reason: "CALLER_NAMES=peer: an allowed call keeps the peer's name" };
    expect(nameOf("Halyk Bank", { mode: "peer", voucher: null })).toEqual({ presented: "Halyk Bank", ...shown });
    expect(nameOf("+7 701 234 56 78", { mode: "peer", others: [{ presentedIn: "From" }] })).toEqual({ presented: "+7 701 234 56 78", ...shown });
  });

  it("removes it beside a From presenting another number than the caller ID, not beside another P-Asserted-Identity identity", () => {
    expect(nameOf("Halyk Bank", { others: [{ presentedIn: "P-Asserted-Identity" }, { presentedIn: "From" }] })).toMatchObject({
      presentation: "removed",
      reason: "From presents another number than the caller ID: nothing answers for a name beside it",
    });
    expect(nameOf("Halyk Bank", { others: [{ presentedIn: "P-Asserted-Identity" }] })).toMatchObject({ presentation: "shown" });
  });

  it("repeats at most 128 characters of it", () => {
    const name = "B".repeat(200);
    expect(nameOf(name)?.presented).toBe("B".repeat(128));
    expect(nameOf(name, { action: "block" })?.presented).toBe("B".repeat(128));
  });
});

describe("a name spelling a telephone number", () => {
  it.each([
    ["+7 701 234 56 78", "+77012345678"],
    ["Halyk Bank 8 (701) 234-56-78 ", "+77012345678"],
    ["Халық ＋７７０１２３４５６７８", "+77012345678"],
  ])("%s, another number than the caller ID, is removed whatever answers for the caller ID", (name, spelled) => {
    expect(nameOf(name)).toEqual({ presented: name, presentation: "removed", reason: `the name spells another number (${spelled}) than the caller ID: a phone would show it in place of the number` });
  });

  it.each(["87012345678", "７７０１２３４５６７８"])("a name of digits alone (%s) is searched too, and removed", (name) => {
    expect(nameOf(name)).toMatchObject({ presentation: "removed", reason: expect.stringContaining("(+77012345678)") });
  });

  it("spelling the caller ID itself, or digits that are no number, is judged as any other name", () => {
    for (const name of ["+7 727 250 12 34", "8 727 250 12 34", "Office 2", "Almaty 2024"]) expect(nameOf(name), name).toMatchObject({ presentation: "shown" });
  });

  it("the caller ID's own number beside another is still another number", () => {
    expect(nameOf("+7 727 250 12 34 or +7 701 234 56 78")).toMatchObject({ presentation: "removed", reason: expect.stringContaining("(+77012345678)") });
  });

  it("beside a caller ID that is no number, any number it spells is another", () => {
    const from = party(null, "+7 727 250 12 34");
    expect(callerNameOf({ call: { from, cli: from }, action: "allow", voucher: DOMESTIC, others: [], mode: "vouched", country: "KZ" })).toMatchObject({ presentation: "removed", reason: expect.stringContaining("(+77272501234)") });
    expect(callerNameOf({ call: { from, cli: null }, action: "allow", voucher: DOMESTIC, others: [], mode: "vouched", country: "KZ" })).toMatchObject({ presentation: "removed" });
  });

  it("is read in the home country's national format", () => {
    // 8 727 … is Almaty dialled in Kazakhstan.
    expect(nameOf("8 727 250 12 34", { call: { from: party("77012345678", "8 727 250 12 34"), cli: party("77012345678") } })).toMatchObject({ presentation: "removed", reason: expect.stringContaining("(+77272501234)") });
  });
});
