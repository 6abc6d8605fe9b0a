import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import type { Presentation, ReplayGuard } from "../../../src/abuse/replay-guard";
import { appAt, installTrust, signedIdentity, verdictRequest } from "../support/stir";
import { checkOf, verdictVia } from "./support";

/**
 * The edges of what the replay guard remembers: the instant a PASSporT's window closes, and the bounds
 * on what one row holds (Stryker's survivors in src/abuse/replay*.ts, docs/mutation.md).
 */
beforeEach(() => installTrust());

const guardIn = (test: (guard: ReplayGuard) => Promise<void>) => runInDurableObject(env.REPLAY.getByName(`bounds-${crypto.randomUUID()}`), (guard: ReplayGuard) => test(guard));
const presentation = (atMs: number, leg: string, expiresAtMs = 61_000): Presentation => ({ signingInput: "aa", leg, callId: "call-1", atMs, expiresAtMs });
const LEG = "sip:+77012345678@first-leg.example";

describe("a PASSporT is remembered for as long as it verifies as fresh (RFC 8224 §12.1)", () => {
  it("replayed in the last second of its freshness window, it is still a replay", async () => {
    const { identity } = await signedIdentity();
    await verdictVia(appAt(), verdictRequest([identity], { callId: "call-1" }));
    // 60.5 s after iat: the verifier's clock reads 60 whole seconds, which FRESHNESS_SECONDS=60 accepts.
    const replayed = await verdictVia(appAt(60.5), verdictRequest([identity], { callId: "call-2" }));
    expect(checkOf(replayed, "passport.freshness")).toMatchObject({ result: "pass" });
    expect(checkOf(replayed, "passport.replay")).toMatchObject({ result: "fail", evidence: { presentations: 2, repeat: "replay" } });
    expect(replayed.verstat).toBe("TN-Validation-Failed");
  });

  it("the guard holds a row until its expiry instant, and counts a presentation at that instant as the first again", async () => {
    // The row expires between two sweeps (every 60 s of presentation time), so the guard's own reading
    // of the expiry, not the sweep's delete, decides.
    await guardIn(async (guard) => {
      await guard.present(presentation(1_000, LEG, 30_000));
      expect(await guard.present(presentation(29_999, LEG))).toMatchObject({ presentations: 2, firstSeenAtMs: 1_000 });
      expect(await guard.present(presentation(30_000, LEG))).toMatchObject({ presentations: 1, firstSeenAtMs: 30_000 });
    });
  });
});

describe("one PASSporT's row is bounded, whatever the legs it is presented on", () => {
  it("keeps a leg to its first 256 characters; legs that share them are one leg", async () => {
    const long = `sip:+77012345678@${"x".repeat(300)}.example`;
    await guardIn(async (guard) => {
      expect((await guard.present(presentation(1_000, long))).legs).toEqual([long.slice(0, 256)]);
      expect(await guard.present(presentation(2_000, `${long}.other`))).toMatchObject({ newLeg: false, legs: [long.slice(0, 256)] });
    });
  });

  it("remembers at most 16 legs; a presentation on a 17th is a new leg, and is not added", async () => {
    const legs = Array.from({ length: 17 }, (_, index) => `sip:+77012345678@leg-${index}.example`);
    await guardIn(async (guard) => {
      for (const [index, leg] of legs.slice(0, 16).entries()) await guard.present(presentation(1_000 + index, leg));
      const seventeenth = await guard.present(presentation(2_000, legs[16]!));
      expect(seventeenth).toMatchObject({ presentations: 17, newLeg: true });
      expect(seventeenth.legs).toEqual(legs.slice(0, 16));
    });
  });
});
