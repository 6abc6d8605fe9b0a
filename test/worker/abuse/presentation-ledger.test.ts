import { describe, expect, it } from "vitest";
import { PresentationLedger, type Presentation } from "../../../src/abuse/presentation-ledger";

/**
 * The replay guard's record keeping on its own (src/abuse/presentation-ledger.ts): what a presentation
 * of a PASSporT is counted as, which legs and Call-IDs are remembered and how far, and when records are
 * forgotten. The Durable Object and the CLI's call-record replay both hold one; the verdicts built on it
 * are pinned in replay-judgement.test.ts and replay-bounds.test.ts.
 */
const T = Date.parse("2026-12-01T10:00:00Z");
const at = (offsetMs: number, fields: Partial<Presentation> = {}): Presentation => ({
  signingInput: "digest-1",
  leg: "sip:+77012345678@operator.kz",
  callId: "call-1@sbc",
  atMs: T + offsetMs,
  expiresAtMs: T + 60_000,
  ...fields,
});

describe("a presentation counted", () => {
  it("the first: one presentation, its leg new, the same call as itself when it carries a Call-ID, unknown when not", () => {
    expect(new PresentationLedger().present(at(0))).toEqual({ presentations: 1, firstSeenAtMs: T, legs: ["sip:+77012345678@operator.kz"], newLeg: true, sameCall: true });
    expect(new PresentationLedger().present(at(0, { callId: null })).sameCall).toBeNull();
  });

  it("again on the same leg and call: counted, its leg not new, the first instant kept", () => {
    const ledger = new PresentationLedger();
    ledger.present(at(0));
    expect(ledger.present(at(2_000))).toEqual({ presentations: 2, firstSeenAtMs: T, legs: ["sip:+77012345678@operator.kz"], newLeg: false, sameCall: true });
    expect(ledger.present(at(3_000)).presentations).toBe(3);
  });

  it("on another leg: the leg is new and remembered after the first, in arrival order", () => {
    const ledger = new PresentationLedger();
    ledger.present(at(0));
    expect(ledger.present(at(1_000, { leg: "sip:+77012345678@fork.kz" }))).toMatchObject({ newLeg: true, legs: ["sip:+77012345678@operator.kz", "sip:+77012345678@fork.kz"] });
    expect(ledger.present(at(2_000))).toMatchObject({ newLeg: false, legs: ["sip:+77012345678@operator.kz", "sip:+77012345678@fork.kz"] });
  });

  it("with another Call-ID, or one where the first had none or the other way round: not the same call; with none on either: unknown", () => {
    const sameCall = (first: string | null, second: string | null) => {
      const ledger = new PresentationLedger();
      ledger.present(at(0, { callId: first }));
      return ledger.present(at(1_000, { callId: second })).sameCall;
    };
    expect([sameCall("a", "b"), sameCall(null, "a"), sameCall("a", null), sameCall(null, null), sameCall("a", "a")]).toEqual([false, false, false, null, true]);
  });

  it("for another PASSporT: a record of its own", () => {
    const ledger = new PresentationLedger();
    ledger.present(at(0));
    expect(ledger.present(at(1_000, { signingInput: "digest-2" })).presentations).toBe(1);
  });

  it("hands out a copy of the legs: changing it changes nothing held", () => {
    const ledger = new PresentationLedger();
    ledger.present(at(0)).legs.push("sip:intruder");
    expect(ledger.present(at(1_000)).legs).toEqual(["sip:+77012345678@operator.kz"]);
  });
});

describe("how much is remembered", () => {
  it("a leg to its first 256 characters, a Call-ID too", () => {
    const ledger = new PresentationLedger();
    const long = `sip:${"x".repeat(300)}@operator.kz`;
    const callId = `${"c".repeat(300)}@sbc`;
    expect(ledger.present(at(0, { leg: long, callId })).legs).toEqual([long.slice(0, 256)]);
    expect(ledger.present(at(1_000, { leg: long.slice(0, 256), callId: callId.slice(0, 256) }))).toMatchObject({ newLeg: false, sameCall: true });
    expect(ledger.present(at(2_000, { leg: long.slice(0, 255), callId: callId.slice(0, 255) }))).toMatchObject({ newLeg: true, sameCall: false });
  });

  it("at most 16 legs: a seventeenth is new, but not remembered", () => {
    const ledger = new PresentationLedger();
    const legs = Array.from({ length: 17 }, (_, index) => `sip:leg-${index}@operator.kz`);
    for (const [index, leg] of legs.slice(0, 16).entries()) ledger.present(at(index, { leg }));
    const seventeenth = ledger.present(at(16, { leg: legs[16] }));
    expect(seventeenth).toMatchObject({ presentations: 17, newLeg: true, legs: legs.slice(0, 16) });
    expect(ledger.present(at(17, { leg: legs[16] })).newLeg).toBe(true);
  });
});

describe("forgetting", () => {
  it("a record whose window has closed counts for nothing: at the instant it expires the PASSporT is first seen again", () => {
    const ledger = new PresentationLedger();
    ledger.present(at(0));
    expect(ledger.present(at(59_999)).presentations).toBe(2);
    expect(ledger.present(at(60_000, { expiresAtMs: T + 120_000 }))).toMatchObject({ presentations: 1, firstSeenAtMs: T + 60_000 });
  });

  it("sweeps at the first presentation and then at most once a minute, deleting the records expired by then and telling the holder", () => {
    const swept: number[] = [];
    const ledger = new PresentationLedger((atMs) => swept.push(atMs));
    ledger.present(at(0, { signingInput: "short", expiresAtMs: T + 10_000 }));
    ledger.present(at(1_000, { signingInput: "long", expiresAtMs: T + 600_000 }));
    expect(swept).toEqual([T]);
    ledger.present(at(59_999, { signingInput: "other", expiresAtMs: T + 600_000 }));
    expect([swept, [...ledger.held.keys()]]).toEqual([[T], ["short", "long", "other"]]);
    ledger.present(at(60_000, { signingInput: "other", expiresAtMs: T + 600_000 }));
    expect([swept, [...ledger.held.keys()]]).toEqual([[T, T + 60_000], ["long", "other"]]);
  });

  it("deletes a record at the very instant its window closes, and keeps one a millisecond from it", () => {
    const ledger = new PresentationLedger();
    ledger.present(at(0, { signingInput: "closes", expiresAtMs: T + 60_000 }));
    ledger.present(at(0, { signingInput: "stays", expiresAtMs: T + 60_001 }));
    ledger.present(at(60_000, { signingInput: "third", expiresAtMs: T + 600_000 }));
    expect([...ledger.held.keys()]).toEqual(["stays", "third"]);
  });
});
