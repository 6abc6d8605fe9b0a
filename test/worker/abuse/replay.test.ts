import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../../../src/app";
import { manualClock } from "../admin/support";
import { appAt, IAT, installTrust, signedIdentity, verdictRequest } from "../support/stir";
import { checkOf, verdictVia } from "./support";

beforeEach(() => installTrust());

const otherLeg = { ruri: "sip:+77012345678@second-leg.example" };

describe("replay of a verified PASSporT (RFC 8224 §12.1, spec §9)", () => {
  it("flags a PASSporT presented again within its freshness window, seen from another isolate", async () => {
    const { identity } = await signedIdentity();
    const first = await verdictVia(appAt(), verdictRequest([identity]));
    expect(checkOf(first, "passport.replay")).toMatchObject({ result: "pass", evidence: { presentations: 1 } });
    expect(first.action).toBe("allow");

    // A second application stands for another isolate: only the Durable Object connects the two.
    const again = await verdictVia(appAt(5), verdictRequest([identity]));
    expect(checkOf(again, "passport.replay")).toMatchObject({ result: "fail", evidence: { presentations: 2, fork: false, legs: ["sip:+77012345678@operator.example"] } });
    expect(again).toMatchObject({ action: "tag", decidedBy: "passport.replay", label: "Replayed caller ID" });
  });

  it("tells a forked leg (same PASSporT, another Request-URI, within the fork window) from a replay", async () => {
    const { identity } = await signedIdentity();
    const clock = manualClock(IAT * 1000);
    const app = createApp({ clock, sharedCache: null });
    await verdictVia(app, verdictRequest([identity]));
    clock.advance(1_000);
    const fork = await verdictVia(app, verdictRequest([identity], otherLeg));
    expect(checkOf(fork, "passport.replay")).toMatchObject({ result: "warn", evidence: { presentations: 2, fork: true, legs: ["sip:+77012345678@operator.example", otherLeg.ruri] } });
    expect(fork.action).toBe("allow");

    clock.advance(10_000); // past the 5 s fork window, still inside the 60 s freshness window
    const late = await verdictVia(app, verdictRequest([identity], { ruri: "sip:+77012345678@third-leg.example" }));
    expect(checkOf(late, "passport.replay")).toMatchObject({ result: "fail", evidence: { presentations: 3, fork: false } });
  });

  it("applies the configured actions to replays and forks", async () => {
    const bindings = { ...env, REPLAY_ACTION: "block", REPLAY_FORK_ACTION: "tag" };
    const { identity } = await signedIdentity();
    await verdictVia(appAt(), verdictRequest([identity]), bindings);
    expect(await verdictVia(appAt(), verdictRequest([identity], otherLeg), bindings)).toMatchObject({ action: "tag", label: "Forked call" });
    expect(await verdictVia(appAt(), verdictRequest([identity]), bindings)).toMatchObject({ action: "block", decidedBy: "passport.replay" });
  });

  it("records only PASSporTs that verified, so forgeries cannot fill the store", async () => {
    const { identity } = await signedIdentity();
    // Same signature bytes over altered claims: the forgery fails verification and must leave no trace.
    const [, header, , rest] = /^([^.]+)\.([^.]+)\.(.+)$/.exec(identity)!;
    const forgedClaims = btoa(JSON.stringify({ attest: "A", dest: { tn: ["77012345678"] }, iat: IAT, orig: { tn: "77272501234" }, origid: crypto.randomUUID() })).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
    const forged = await verdictVia(appAt(), verdictRequest([`${header}.${forgedClaims}.${rest}`]));
    expect(forged.stir.failedCheck).toBe("passport.signature");
    expect(checkOf(forged, "passport.replay")).toBeUndefined();

    const genuine = await verdictVia(appAt(), verdictRequest([identity]));
    expect(checkOf(genuine, "passport.replay")).toMatchObject({ result: "pass", evidence: { presentations: 1 } });
  });

  it("forgets a PASSporT once its freshness window has closed", async () => {
    const { identity } = await signedIdentity();
    const bindings = { ...env, FRESHNESS_SECONDS: "10" };
    await verdictVia(appAt(), verdictRequest([identity]), bindings);
    // Stale now: refused at freshness, before the replay guard is asked.
    const stale = await verdictVia(appAt(11), verdictRequest([identity]), bindings);
    expect(stale.stir.failedCheck).toBe("passport.freshness");
    expect(checkOf(stale, "passport.replay")).toBeUndefined();
  });
});
