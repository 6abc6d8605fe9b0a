import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { base64url } from "jose";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { REPLAY_SAVE_EVERY_MS, ReplayGuard, type Presentation } from "../../../src/abuse/replay-guard";
import { createApp } from "../../../src/app";
import { putConfigSection } from "../../../src/origin/config/store";
import { markIsolateSnapshotsStale } from "../../../src/origin/snapshot";
import { manualClock } from "../admin/support";
import { sbcAuth, TEST_ACTOR } from "../support/auth";
import { appAt, atisRequest, CALLEE, CALLER, IAT, installTrust, pki, postAtis, register, serveChain, signedIdentity, uniquePath, verdictRequest } from "../support/stir";
import { checkOf, verdictVia } from "./support";
import { scrape } from "../metrics/support";

beforeEach(() => installTrust());

const FIRST_LEG = `sip:+${CALLEE}@operator.example`;
const otherLeg = { ruri: `sip:+${CALLEE}@second-leg.example` };
const INTERNATIONAL = { trunk: "intl-1", carrier: "TransitCo", international: true };
/** The call's SIP Call-ID, as an SBC sends it in the JSON request (RFC 3261 §8.1.1.4). */
const onCall = (callId: string, overrides: Record<string, unknown> = {}) => ({ callId, ...overrides });

/** The Identity header with its JWS's signature segment spelled by `spell`. */
function withSignature(identity: string, spell: (signature: string) => string): string {
  const jws = identity.slice(0, identity.indexOf(";"));
  const signature = jws.slice(jws.lastIndexOf(".") + 1);
  return identity.replace(`.${signature};`, `.${spell(signature)};`);
}

/** P-256's group order n (SEC 2 §2.4.2). */
const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const hex = (bytes: Uint8Array) => Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");

/** ECDSA's twin of a signature: (r, s) → (r, n − s), which verifies as well (JWS ES256 is r ‖ s, 32 bytes each: RFC 7518 §3.4). */
function ecdsaTwin(signature: string): string {
  const bytes = base64url.decode(signature);
  const twinS = (P256_ORDER - BigInt(`0x${hex(bytes.subarray(32))}`)).toString(16).padStart(64, "0");
  return base64url.encode(Uint8Array.from([...bytes.subarray(0, 32), ...twinS.match(/../g)!.map((byte) => parseInt(byte, 16))]));
}

const BASE64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/** The same bytes with the lowest spare bit of the last character set: a segment of 4k+2 or 4k+3 characters carries 4 or 2 bits no byte uses. */
function flipSpareBit(segment: string): string {
  expect(segment.length % 4).not.toBe(0);
  return segment.slice(0, -1) + BASE64URL_ALPHABET[BASE64URL_ALPHABET.indexOf(segment.at(-1)!) ^ 1];
}

describe("the replay key is what was signed, so every spelling of one PASSporT is one presentation", () => {
  it("flags a PASSporT presented again within its freshness window, seen from another isolate", async () => {
    const { identity } = await signedIdentity();
    const first = await verdictVia(appAt(), verdictRequest([identity], onCall("call-1")));
    expect(checkOf(first, "passport.replay")).toMatchObject({ result: "pass", evidence: { presentations: 1 } });
    expect(first.action).toBe("allow");

    // A second application stands for another isolate: only the Durable Object connects the two.
    const again = await verdictVia(appAt(5), verdictRequest([identity], onCall("call-2")));
    expect(checkOf(again, "passport.replay")).toMatchObject({ result: "fail", evidence: { presentations: 2, repeat: "replay", sameCall: false, legs: [FIRST_LEG] } });
  });

  it("flags the ECDSA twin (r, n − s) of a presented signature, which verifies as well", async () => {
    const { identity } = await signedIdentity();
    const twin = withSignature(identity, ecdsaTwin);
    expect(twin).not.toBe(identity);
    await verdictVia(appAt(), verdictRequest([identity], onCall("call-1")));

    const again = await verdictVia(appAt(5), verdictRequest([twin], onCall("call-2")));
    expect(checkOf(again, "passport.signature")).toMatchObject({ result: "pass" });
    expect(checkOf(again, "passport.replay")).toMatchObject({ result: "fail", evidence: { presentations: 2 } });
  });

  it("flags a signature whose last character differs only in bits no byte uses", async () => {
    const { identity } = await signedIdentity();
    const respelled = withSignature(identity, flipSpareBit);
    const signatureOf = (value: string) => value.slice(0, value.indexOf(";")).split(".")[2]!;
    expect(signatureOf(respelled)).not.toBe(signatureOf(identity));
    expect(base64url.decode(signatureOf(respelled))).toEqual(base64url.decode(signatureOf(identity)));
    await verdictVia(appAt(), verdictRequest([identity], onCall("call-1")));

    const again = await verdictVia(appAt(5), verdictRequest([respelled], onCall("call-2")));
    expect(checkOf(again, "passport.signature")).toMatchObject({ result: "pass" });
    expect(checkOf(again, "passport.replay")).toMatchObject({ result: "fail", evidence: { presentations: 2 } });
  });

  it("counts another signature over the same header and claims (ECDSA signs with a fresh nonce) as the same PASSporT", async () => {
    const first = await signedIdentity({ origid: "123e4567-e89b-12d3-a456-426655440000" });
    const resigned = await signedIdentity({ origid: "123e4567-e89b-12d3-a456-426655440000", x5u: first.x5u });
    expect(resigned.jws.slice(0, resigned.jws.lastIndexOf("."))).toBe(first.jws.slice(0, first.jws.lastIndexOf(".")));
    expect(resigned.jws).not.toBe(first.jws);
    await verdictVia(appAt(), verdictRequest([first.identity], onCall("call-1")));

    const again = await verdictVia(appAt(5), verdictRequest([resigned.identity], onCall("call-2")));
    expect(checkOf(again, "passport.replay")).toMatchObject({ result: "fail", evidence: { presentations: 2 } });
  });

  it("needs no decoding of the header and claims: spelled another way they are another signing input, which the signature does not cover", async () => {
    const { identity, jws } = await signedIdentity();
    const [header, claims] = jws.split(".") as [string, string];
    const segment = claims.length % 4 !== 0 ? claims : header;
    const respelled = identity.replace(segment, flipSpareBit(segment));
    expect(base64url.decode(flipSpareBit(segment))).toEqual(base64url.decode(segment));

    const forged = await verdictVia(appAt(), verdictRequest([respelled], onCall("call-1")));
    expect(forged.stir.failedCheck).toBe("passport.signature");
    expect(checkOf(forged, "passport.replay")).toBeUndefined();
  });
});

describe("a replay is a failed verification (RFC 8224 §12.1)", () => {
  it("says TN-Validation-Failed in the verdict and in P-Asserted-Identity, fails passport.replay with 438, and trusts no attestation", async () => {
    const { identity } = await signedIdentity();
    const first = await verdictVia(appAt(), verdictRequest([identity], onCall("call-1")));
    expect(first).toMatchObject({ action: "allow", verstat: "TN-Validation-Passed", attest: "A" });

    const replay = await verdictVia(appAt(5), verdictRequest([identity], onCall("call-2")));
    expect(replay).toMatchObject({ action: "tag", verstat: "TN-Validation-Failed", attest: null, decidedBy: "passport.replay", label: "Unverified caller ID", sip: null });
    expect(replay.stir).toMatchObject({ verstat: "TN-Validation-Failed", reasoncode: 438, reasontext: "Invalid Identity Header", failedCheck: "passport.replay" });
    expect(replay.identities).toMatchObject([{ outcome: "failed", verstat: "TN-Validation-Failed", reasoncode: 438, failedCheck: "passport.replay" }]);
    expect(replay.headers).toEqual([
      { name: "P-Asserted-Identity", value: `<tel:+${CALLER};verstat=TN-Validation-Failed>` },
      { name: "Reason", value: 'SIP ;cause=438 ;text="Invalid Identity Header"' },
    ]);
  });

  it("captured on a domestic trunk with attest A and replayed on an international one, a Kazakh landline waives no origin check and is blocked", async () => {
    // The rule the replay must not get round: a first presentation's A attestation by a listed provider vouches for the landline.
    await putConfigSection(env.DB, "attestation", { vouching: [{ spc: "818H" }] }, 0, TEST_ACTOR, Date.now(), "KZ");
    markIsolateSnapshotsStale();
    const genuine = await signedIdentity();
    const vouched = await verdictVia(appAt(), verdictRequest([genuine.identity], onCall("call-0", { ingress: INTERNATIONAL })));
    expect(vouched).toMatchObject({ action: "allow", verstat: "TN-Validation-Passed" });
    expect(checkOf(vouched, "origin.national-on-international")).toMatchObject({ result: "skip" });

    const { identity } = await signedIdentity();
    await verdictVia(appAt(), verdictRequest([identity], onCall("call-1")));
    const replay = await verdictVia(appAt(5), verdictRequest([identity], onCall("call-2", { ingress: INTERNATIONAL })));
    expect(replay).toMatchObject({ action: "block", decidedBy: "origin.national-on-international", verstat: "TN-Validation-Failed", attest: null, sip: { code: 608 } });
    expect(checkOf(replay, "passport.replay")).toMatchObject({ result: "fail" });
    expect(checkOf(replay, "origin.national-on-international")).toMatchObject({ result: "fail" });
  });

  it("takes the action the operator's policy gives a failed verification (stir.tn-validation-failed)", async () => {
    await putConfigSection(env.DB, "policy", { outcomes: { "stir.tn-validation-failed": { action: "block", sipCode: 608 } } }, 0, TEST_ACTOR, Date.now(), "KZ");
    markIsolateSnapshotsStale();
    const { identity } = await signedIdentity();
    await verdictVia(appAt(), verdictRequest([identity], onCall("call-1")));
    const replay = await verdictVia(appAt(5), verdictRequest([identity], onCall("call-2")));
    expect(replay).toMatchObject({ action: "block", sip: { code: 608, reason: "Rejected" }, decidedBy: "passport.replay" });
  });

  it("refuses the retired REPLAY_ACTION setting, naming the policy entry that replaced it", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const response = await appAt().request("/v1/verdict", { method: "POST", headers: { ...sbcAuth, "Content-Type": "application/json" }, body: "{}" }, { ...env, REPLAY_ACTION: "block" });
    expect(response.status).toBe(500);
    expect(((await response.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: "ERR_CONFIG", message: expect.stringContaining("stir.tn-validation-failed") });
    expect(logged).toHaveBeenCalledOnce();
    logged.mockRestore();
  });
});

describe("legitimate re-sends of one SIP call, told by its Call-ID (RFC 3261 §8.1.1.4)", () => {
  const presentTwice = async (first: Record<string, unknown>, second: Record<string, unknown>, secondsApart = 1, bindings: object = env) => {
    const { identity } = await signedIdentity();
    await verdictVia(appAt(), verdictRequest([identity], first), bindings);
    return verdictVia(appAt(secondsApart), verdictRequest([identity], second), bindings);
  };

  it("passes a retransmission (same Call-ID, same leg) and keeps it verified", async () => {
    const again = await presentTwice(onCall("call-1"), onCall("call-1"));
    expect(checkOf(again, "passport.replay")).toMatchObject({ result: "pass", evidence: { presentations: 2, repeat: "re-send", sameCall: true } });
    expect(again).toMatchObject({ action: "allow", verstat: "TN-Validation-Passed", attest: "A" });
  });

  it("passes a failover after a 5xx through another trunk (same Call-ID, same Request-URI)", async () => {
    const again = await presentTwice(onCall("call-1"), onCall("call-1", { ingress: { trunk: "domestic-2", carrier: "DomesticCo", international: false } }));
    expect(checkOf(again, "passport.replay")).toMatchObject({ result: "pass", evidence: { repeat: "re-send" } });
    expect(again).toMatchObject({ action: "allow", verstat: "TN-Validation-Passed" });
  });

  it("takes a fork, or a failover after a 3xx to a new target (same Call-ID, another Request-URI), for a fork: allowed and verified", async () => {
    const fork = await presentTwice(onCall("call-1"), onCall("call-1", otherLeg));
    expect(checkOf(fork, "passport.replay")).toMatchObject({ result: "warn", evidence: { presentations: 2, repeat: "fork", legs: [FIRST_LEG, otherLeg.ruri] } });
    expect(fork).toMatchObject({ action: "allow", verstat: "TN-Validation-Passed" });
  });

  it("applies REPLAY_FORK_ACTION to a fork, which stays verified", async () => {
    const fork = await presentTwice(onCall("call-1"), onCall("call-1", otherLeg), 1, { ...env, REPLAY_FORK_ACTION: "tag" });
    expect(fork).toMatchObject({ action: "tag", label: "Forked call", decidedBy: "passport.replay", verstat: "TN-Validation-Passed" });
    expect(checkOf(fork, "passport.replay")).toMatchObject({ result: "fail", evidence: { repeat: "fork" } });
  });

  it("flags another Call-ID as a replay, on a new leg within the window too: a copied PASSporT on a new call is no fork", async () => {
    const copy = await presentTwice(onCall("call-1"), onCall("call-2", otherLeg));
    expect(checkOf(copy, "passport.replay")).toMatchObject({ result: "fail", evidence: { repeat: "replay", sameCall: false } });
    expect(copy.verstat).toBe("TN-Validation-Failed");
  });

  it("flags the same Call-ID past the re-send window (REPLAY_FORK_WINDOW_SECONDS) as a replay", async () => {
    const late = await presentTwice(onCall("call-1"), onCall("call-1"), 6);
    expect(checkOf(late, "passport.replay")).toMatchObject({ result: "fail", evidence: { repeat: "replay", sameCall: true } });
    const inWiderWindow = await presentTwice(onCall("call-1"), onCall("call-1"), 6, { ...env, REPLAY_FORK_WINDOW_SECONDS: "10" });
    expect(checkOf(inWiderWindow, "passport.replay")).toMatchObject({ result: "pass", evidence: { repeat: "re-send" } });
  });

  it("flags a repeat without a Call-ID after a presentation with one (and the reverse) as a replay", async () => {
    expect(checkOf(await presentTwice(onCall("call-1"), otherLeg), "passport.replay")).toMatchObject({ result: "fail", evidence: { repeat: "replay", sameCall: false } });
    expect(checkOf(await presentTwice({}, onCall("call-1", otherLeg)), "passport.replay")).toMatchObject({ result: "fail", evidence: { repeat: "replay", sameCall: false } });
  });

  it("without any Call-ID, takes a new leg within the window for a fork and a repeat on a known leg for a replay", async () => {
    const { identity } = await signedIdentity();
    const clock = manualClock(IAT * 1000);
    const app = createApp({ clock, sharedCache: null });
    await verdictVia(app, verdictRequest([identity]));
    clock.advance(1_000);
    const fork = await verdictVia(app, verdictRequest([identity], otherLeg));
    expect(checkOf(fork, "passport.replay")).toMatchObject({ result: "warn", evidence: { presentations: 2, repeat: "fork", sameCall: null } });
    expect(fork.verstat).toBe("TN-Validation-Passed");

    const again = await verdictVia(app, verdictRequest([identity]));
    expect(checkOf(again, "passport.replay")).toMatchObject({ result: "fail", evidence: { presentations: 3, repeat: "replay" } });

    clock.advance(10_000); // past the 5 s fork window, still inside the 60 s freshness window
    const late = await verdictVia(app, verdictRequest([identity], { ruri: `sip:+${CALLEE}@third-leg.example` }));
    expect(checkOf(late, "passport.replay")).toMatchObject({ result: "fail", evidence: { presentations: 4, repeat: "replay" } });
  });

  it("reads a raw INVITE's Call-ID, in its compact form (i) too", async () => {
    const { identity } = await signedIdentity();
    const invite = (callIdHeader: string) =>
      [
        `INVITE ${FIRST_LEG} SIP/2.0`,
        "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds",
        `From: <sip:+${CALLER}@carrier.example;user=phone>;tag=1928301774`,
        `To: <sip:+${CALLEE}@operator.example>`,
        callIdHeader,
        "CSeq: 314159 INVITE",
        `Identity: ${identity}`,
        "Content-Length: 0",
        "",
        "",
      ].join("\r\n");
    const post = async (body: string) => {
      const response = await appAt(1).request("/v1/verdict?trunk=domestic-1&international=false", { method: "POST", headers: { ...sbcAuth, "Content-Type": "message/sip" }, body }, env);
      return ((await response.json()) as { verdict: Parameters<typeof checkOf>[0] }).verdict;
    };
    expect(checkOf(await post(invite("Call-ID: a84b4c76e66710@carrier.example")), "passport.replay")).toMatchObject({ evidence: { presentations: 1 } });
    expect(checkOf(await post(invite("i: a84b4c76e66710@carrier.example")), "passport.replay")).toMatchObject({ result: "pass", evidence: { repeat: "re-send" } });
    expect(checkOf(await post(invite("Call-ID: f81d4fae7dec11d0@attacker.example")), "passport.replay")).toMatchObject({ result: "fail", evidence: { repeat: "replay" } });
  });
});

/**
 * The real guard, reached with the round trip a Durable Object has deployed (it lives in one place, the
 * verdict may run in another): 20 ms, well inside the budget. Locally it answers in the same turn.
 */
const REMOTE_GUARD_MS = 20;
const remoteGuard = {
  getByName: (name: string) => {
    const stub = env.REPLAY.getByName(name);
    return { present: async (presentation: Presentation) => (await new Promise((resolve) => setTimeout(resolve, REMOTE_GUARD_MS)), stub.present(presentation)) };
  },
};

describe("the guard's own time: what runs before it cannot starve it", () => {
  const bindings = { ...env, REPLAY: remoteGuard, VERDICT_BUDGET_MS: "250" };

  it.each([
    ["answers 404 just before the budget runs out", { status: 404, delayMs: 238 }],
    ["answers only after the budget", { delayMs: 1_500 }],
  ])("a replay beside a second Identity header whose repository %s is still caught", async (_how, repository) => {
    const { identity } = await signedIdentity();
    const app = appAt();
    expect((await verdictVia(app, verdictRequest([identity], onCall("victim-call")), bindings)).verstat).toBe("TN-Validation-Passed");
    const decoy = (await signedIdentity({ x5u: await register({ path: uniquePath("decoy"), body: `${pki.leaf}${pki.intermediate}`, ...repository }) })).identity;
    const replay = await verdictVia(app, verdictRequest([identity, decoy], onCall("attacker-call")), bindings, { settle: false });
    expect(checkOf(replay, "passport.replay")).toMatchObject({ result: "fail" });
    expect(replay).toMatchObject({ verstat: "TN-Validation-Failed", attest: null });
  });

  it("a PASSporT judged fresh in the last instant of its window is still remembered when the guard is asked, however long its repository took", async () => {
    const x5u = await serveChain(pki.leaf, { delayMs: 300 });
    const { identity } = await signedIdentity({ x5u });
    // Clocks that run with wall time (workerd moves Date.now() across I/O), started at the given instant.
    const running = (epochMs: number) => {
      const started = Date.now();
      return { now: () => epochMs + (Date.now() - started) };
    };
    const first = await verdictVia(createApp({ clock: running(IAT * 1000), sharedCache: null }), verdictRequest([identity], onCall("victim-call")));
    expect(first.verstat).toBe("TN-Validation-Passed");
    // 60.9 s after iat (fresh: whole seconds, 60 ≤ FRESHNESS_SECONDS), on another isolate that must fetch the certificate first.
    const replay = await verdictVia(createApp({ clock: running((IAT + 60) * 1000 + 900), sharedCache: null }), verdictRequest([identity], onCall("attacker-call")));
    expect(checkOf(replay, "passport.freshness")).toMatchObject({ result: "pass" });
    expect(checkOf(replay, "passport.replay")).toMatchObject({ result: "fail", evidence: { presentations: 2 } });
  });
});

describe("what the replay guard remembers", () => {
  it("records only PASSporTs that verified, so forgeries cannot fill the store", async () => {
    const { identity } = await signedIdentity();
    // Same signature bytes over altered claims: the forgery fails verification and must leave no trace.
    const [, header, , rest] = /^([^.]+)\.([^.]+)\.(.+)$/.exec(identity)!;
    const forgedClaims = btoa(JSON.stringify({ attest: "A", dest: { tn: [CALLEE] }, iat: IAT, orig: { tn: CALLER }, origid: crypto.randomUUID() })).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
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

  it("is not asked by the ATIS endpoint by default, a stateless verification that has no Call-ID to tell a re-send by", async () => {
    const { identity } = await signedIdentity();
    for (let time = 0; time < 2; time++) {
      const response = await postAtis(appAt(time), atisRequest(identity));
      expect(await response.json()).toEqual({ verificationResponse: { verstat: "TN-Validation-Passed" } });
    }
    const verdict = await verdictVia(appAt(2), verdictRequest([identity]));
    expect(checkOf(verdict, "passport.replay")).toMatchObject({ result: "pass", evidence: { presentations: 1 } });
  });
});

describe("ATIS_REPLAY_CHECK: the ATIS endpoint asks the replay guard too", () => {
  const checking = { ...env, ATIS_REPLAY_CHECK: "true" };
  const atisAnswer = async (app: ReturnType<typeof appAt>, identity: string, bindings: object = checking) => ((await (await postAtis(app, atisRequest(identity), {}, bindings)).json()) as { verificationResponse: Record<string, unknown> }).verificationResponse;

  it("fails a captured PASSporT presented again toward the same callee, from another isolate: 438, naming the replay", async () => {
    const { identity } = await signedIdentity();
    expect(await atisAnswer(appAt(), identity)).toEqual({ verstat: "TN-Validation-Passed" });
    expect(await atisAnswer(appAt(3), identity)).toEqual({
      verstat: "TN-Validation-Failed",
      reasoncode: 438,
      reasontext: "Invalid Identity Header",
      reasondesc: expect.stringMatching(/^PASSporT replayed: presentation 2 within its freshness window, again on a leg already seen, with no Call-ID to tell a re-send/),
    });
  });

  it("fails a repeat toward the same callees within the fork window, however the request lists them: the leg is the set of callees", async () => {
    const OTHER = "77019876543";
    const presented = async (first: string[], again: string[]) => {
      const { identity } = await signedIdentity();
      const answer = async (app: ReturnType<typeof appAt>, callees: string[]) =>
        ((await (await postAtis(app, atisRequest(identity, { to: { tn: callees } }), {}, checking)).json()) as { verificationResponse: Record<string, unknown> }).verificationResponse;
      expect(await answer(appAt(), first)).toEqual({ verstat: "TN-Validation-Passed" });
      return answer(appAt(1), again);
    };
    const replayed = { verstat: "TN-Validation-Failed", reasoncode: 438, reasondesc: expect.stringMatching(/^PASSporT replayed: .* again on a leg already seen/) };
    // An SBC that lists To and the Request-URI sends the callee twice when both name it, once when To names no number.
    expect(await presented([CALLEE], [CALLEE, CALLEE])).toMatchObject(replayed);
    expect(await presented([CALLEE, OTHER], [OTHER, `+${CALLEE}`])).toMatchObject(replayed);
    // Toward another callee besides, within the fork window: a fork, which stays verified.
    expect(await presented([CALLEE], [CALLEE, OTHER])).toEqual({ verstat: "TN-Validation-Passed" });
  });

  it("fails an ATIS presentation of a PASSporT a /v1/verdict call already presented, and the reverse", async () => {
    const first = await signedIdentity();
    await verdictVia(appAt(), verdictRequest([first.identity], onCall("call-1")));
    expect(await atisAnswer(appAt(1), first.identity)).toMatchObject({ verstat: "TN-Validation-Failed", reasoncode: 438 });

    const second = await signedIdentity();
    expect(await atisAnswer(appAt(), second.identity)).toEqual({ verstat: "TN-Validation-Passed" });
    const verdict = await verdictVia(appAt(10), verdictRequest([second.identity], onCall("call-2")));
    expect(checkOf(verdict, "passport.replay")).toMatchObject({ result: "fail", evidence: { presentations: 2, repeat: "replay" } });
  });

  it("records no forgery: a PASSporT that failed verification is not remembered", async () => {
    const { identity } = await signedIdentity();
    const forged = withSignature(identity, (signature) => `${signature.slice(0, 10)}${signature[10] === "A" ? "B" : "A"}${signature.slice(11)}`);
    expect(await atisAnswer(appAt(), forged)).toMatchObject({ verstat: "TN-Validation-Failed", reasoncode: 438 });
    expect(await atisAnswer(appAt(1), identity)).toEqual({ verstat: "TN-Validation-Passed" });
  });

  it("leaves the verification as it is when the guard is down, and counts the dependency's failure", async () => {
    const { identity } = await signedIdentity();
    const down = { ...checking, REPLAY: { getByName: () => ({ present: () => Promise.reject(new Error("Durable Object reset")) }) } };
    const app = appAt();
    const series = 'shaken_dependency_errors_total{dependency="replay"}';
    const before = (await scrape(app)).get(series) ?? 0;
    for (let time = 0; time < 2; time++) expect(await atisAnswer(app, identity, down)).toEqual({ verstat: "TN-Validation-Passed" });
    expect((await scrape(app)).get(series)).toBe(before + 2);
  });
});

describe("replay guard storage: in memory, saved a page at a time (issue 19)", () => {
  const presentation = (signingInput: string, atMs: number, leg = "sip:+77012345678@first-leg.example", windowMs = 60_000, callId: string | null = null): Presentation => ({
    signingInput,
    leg,
    callId,
    atMs,
    expiresAtMs: atMs + windowMs,
  });
  const guardIn = async (test: (guard: ReplayGuard, state: DurableObjectState) => Promise<void>) =>
    runInDurableObject(env.REPLAY.getByName(`storage-${crypto.randomUUID()}`), async (guard: ReplayGuard, state) => test(guard, state));
  const pagesIn = (state: DurableObjectState) => state.storage.sql.exec<{ count: number }>("SELECT COUNT(*) AS count FROM presentation_pages").one().count;
  /**
   * Presents through `guard`, answering the record and the rows written as the guard reports them; checks
   * them against what the storage's cursors counted, plus a row for each alarm set.
   */
  const metered = (guard: ReplayGuard, state: DurableObjectState) => {
    const sql = state.storage.sql;
    const exec = sql.exec.bind(sql);
    let cursors: SqlStorageCursor<Record<string, SqlStorageValue>>[] = [];
    sql.exec = ((query: string, ...bindings: unknown[]) => {
      const cursor = exec(query, ...bindings);
      cursors.push(cursor);
      return cursor;
    }) as typeof sql.exec;
    const setAlarm = state.storage.setAlarm.bind(state.storage);
    let alarms = 0;
    state.storage.setAlarm = ((...args: Parameters<typeof setAlarm>) => {
      alarms++;
      return setAlarm(...args);
    }) as typeof setAlarm;
    // Since the last answer: what an alarm did in between is reported with the next answer.
    return async (signingInput: string, atMs: number, { leg, windowMs, callId }: { leg?: string; windowMs?: number; callId?: string | null } = {}) => {
      const { storage, ...record } = await guard.present(presentation(signingInput, atMs, leg, windowMs, callId));
      expect(storage.rowsWritten).toBe(cursors.reduce((sum, cursor) => sum + cursor.rowsWritten, 0) + alarms);
      cursors = [];
      alarms = 0;
      return { record, written: storage.rowsWritten, alarmsRun: storage.alarmsRun };
    };
  };

  it("writes no row per presentation: the first sets the alarm that saves them (a row), the others nothing", async () => {
    await guardIn(async (guard, state) => {
      const present = metered(guard, state);
      expect(await present("aa", 1_000)).toMatchObject({ written: 1, record: { presentations: 1 } });
      expect(await present("aa", 1_100)).toMatchObject({ written: 0, record: { presentations: 2 } });
      expect(await present("bb", 1_200)).toMatchObject({ written: 0, record: { presentations: 1 } });
      expect(await present("aa", 1_300, { leg: "sip:+77012345678@other-leg.example" })).toMatchObject({ written: 0, record: { presentations: 3, newLeg: true } });
      expect(pagesIn(state)).toBe(0);
      const alarm = await state.storage.getAlarm();
      expect(alarm).toBeGreaterThan(Date.now() + REPLAY_SAVE_EVERY_MS - 5_000);
      expect(alarm).toBeLessThanOrEqual(Date.now() + REPLAY_SAVE_EVERY_MS);
    });
  });

  it("saves the changed records as one page at the alarm, and a restarted guard reads them back", async () => {
    await guardIn(async (guard, state) => {
      const present = metered(guard, state);
      await present("aa", 1_000, { callId: "call-1" });
      await present("aa", 2_000, { callId: "call-1", leg: "sip:+77012345678@other-leg.example" });
      await present("bb", 2_500);
      await guard.alarm();
      expect(pagesIn(state)).toBe(1);
      // The page and the next alarm, reported with the next answer, as is the alarm run (a request).
      expect(await present("cc", 3_000)).toMatchObject({ written: 1 + 1, alarmsRun: 1 });

      const restarted = metered(new ReplayGuard(state, env), state);
      expect((await restarted("aa", 4_000, { callId: "call-1" })).record).toEqual({
        presentations: 3,
        firstSeenAtMs: 1_000,
        legs: ["sip:+77012345678@first-leg.example", "sip:+77012345678@other-leg.example"],
        newLeg: false,
        sameCall: true,
      });
      expect((await restarted("bb", 4_000)).record).toMatchObject({ presentations: 2 });
    });
  });

  it("reads back only what it can: a page that is no list, and records of another shape, are left out; the rest are read", async () => {
    await guardIn(async (_guard, state) => {
      const write = (records: string) => state.storage.sql.exec("INSERT INTO presentation_pages (expires_ms, records) VALUES (?, ?)", 9e15, records);
      const far = 9e15;
      write("not json");
      write(JSON.stringify({ 0: "object", 1: 1, 2: far, 3: 1, 4: [], 5: null, length: 6 }));
      write(
        JSON.stringify([
          ["good", 1_000, far, 1, ["sip:+77012345678@first-leg.example"], null],
          { 0: "object", 1: 1, 2: far, 3: 1, 4: [], 5: null, length: 6 },
          ["short", 1_000, far, 1, []],
          ["long", 1_000, far, 1, [], null, "extra"],
          ["text-number", "1000", far, 1, [], null],
          ["text-count", 1_000, far, "1", [], null],
          ["legs-not-text", 1_000, far, 1, ["sip:a", 5], null],
          ["legs-not-list", 1_000, far, 1, "sip:a", null],
          ["call-not-text", 1_000, far, 1, [], 7],
        ]),
      );
      const restarted = new ReplayGuard(state, env);
      expect(await restarted.present(presentation("good", 2_000))).toMatchObject({ presentations: 2, firstSeenAtMs: 1_000 });
      for (const digest of ["short", "long", "text-number", "text-count", "legs-not-text", "legs-not-list", "call-not-text", "object"]) {
        expect(await restarted.present(presentation(digest, 2_000)), digest).toMatchObject({ presentations: 1, firstSeenAtMs: 2_000 });
      }
    });
  });

  it("saves nothing of a record the sweep has forgotten before the save", async () => {
    await guardIn(async (guard, state) => {
      await guard.present(presentation("brief", 1_000, undefined, 10_000));
      await guard.alarm();
      await guard.present(presentation("brief", 2_000, undefined, 10_000)); // changed since the page
      await guard.present(presentation("later", 62_000, undefined, 600_000)); // the sweep forgets "brief"
      await guard.alarm();
      const pages = state.storage.sql.exec<{ records: string }>("SELECT records FROM presentation_pages ORDER BY page").toArray();
      expect(pages.map(({ records }) => (JSON.parse(records) as [string][]).map(([digest]) => digest))).toEqual([["later"]]);
    });
  });

  it("pages 2 000 records at most, each page kept until the last of its records' windows closes", async () => {
    await guardIn(async (guard, state) => {
      await guard.present(presentation("brief", 1_000, undefined, 10_000));
      for (let index = 1; index < 4_000; index++) await guard.present(presentation(`r-${index}`, 1_000, undefined, 600_000));
      await guard.alarm();
      const pages = state.storage.sql.exec<{ expires_ms: number; records: string }>("SELECT expires_ms, records FROM presentation_pages ORDER BY page").toArray();
      expect(pages.map(({ expires_ms, records }) => [expires_ms, JSON.parse(records).length])).toEqual([
        [601_000, 2_000],
        [601_000, 2_000],
      ]);
      // At 62 s the sweep runs: "brief" is forgotten, its page kept for the others.
      await guard.present(presentation("probe", 62_000, undefined, 600_000));
      const restarted = new ReplayGuard(state, env);
      expect(await restarted.present(presentation("r-1", 63_000))).toMatchObject({ presentations: 2 });
      expect(await restarted.present(presentation("brief", 63_000, undefined, 10_000))).toMatchObject({ presentations: 1 });
    });
  });

  it("forgets what was presented since its last save when it restarts: a PASSporT first presented then is new again", async () => {
    await guardIn(async (guard, state) => {
      await guard.present(presentation("aa", 1_000));
      await guard.alarm();
      await guard.present(presentation("aa", 1_500)); // after the save: its count is lost
      await guard.present(presentation("cc", 1_600)); // after the save: lost
      const restarted = new ReplayGuard(state, env);
      expect(await restarted.present(presentation("aa", 2_000))).toMatchObject({ presentations: 2 });
      expect(await restarted.present(presentation("cc", 2_000))).toMatchObject({ presentations: 1 });
    });
  });

  it("tells each repeat whether it is on a new leg and carries the first presentation's Call-ID", async () => {
    await guardIn(async (guard, state) => {
      const present = metered(guard, state);
      const otherLeg = "sip:+77012345678@other-leg.example";
      expect((await present("aa", 1_000, { callId: "call-1" })).record).toEqual({ presentations: 1, firstSeenAtMs: 1_000, legs: ["sip:+77012345678@first-leg.example"], newLeg: true, sameCall: true });
      expect((await present("aa", 2_000, { callId: "call-1" })).record).toMatchObject({ presentations: 2, newLeg: false, sameCall: true });
      expect((await present("aa", 3_000, { callId: "call-2", leg: otherLeg })).record).toMatchObject({ presentations: 3, newLeg: true, sameCall: false });
      expect((await present("aa", 4_000, { callId: "call-1", leg: otherLeg })).record).toMatchObject({ presentations: 4, newLeg: false, sameCall: true });
      expect((await present("aa", 5_000)).record).toMatchObject({ presentations: 5, sameCall: false });
      expect((await present("bb", 1_000)).record).toMatchObject({ presentations: 1, sameCall: null });
      expect((await present("bb", 2_000, { leg: otherLeg })).record).toMatchObject({ presentations: 2, newLeg: true, sameCall: null });
      expect((await present("bb", 3_000, { callId: "call-1" })).record).toMatchObject({ presentations: 3, sameCall: false });
      // A Call-ID is kept to its first 256 characters, as legs are; equal prefixes are one call.
      const long = "x".repeat(300);
      await present("cc", 1_000, { callId: long });
      expect((await present("cc", 2_000, { callId: `${long}y` })).record).toMatchObject({ sameCall: true });
    });
  });

  it("sweeps the closed windows' records once a minute, deleting each page that holds nothing else with 1 row written", async () => {
    await guardIn(async (guard, state) => {
      const present = metered(guard, state);
      for (let index = 0; index < 50; index++) await present(`old-${index}`, 1_000 + index, { windowMs: 10_000 });
      await guard.alarm();
      for (let index = 0; index < 20; index++) await present(`new-${index}`, 40_000 + index);
      await guard.alarm();
      // Each page holds the records that changed since the one before.
      expect(state.storage.sql.exec<{ records: string }>("SELECT records FROM presentation_pages ORDER BY page").toArray().map(({ records }) => JSON.parse(records).length)).toEqual([50, 20]);

      // At 30 s the old records' windows (to 11.000–11.049 s) have closed, but the last sweep (at 1 s) is less than a minute ago.
      expect((await present("probe-1", 30_000)).written).toBe(1 + 1); // the page the last alarm wrote, and the alarm the probe sets
      expect(pagesIn(state)).toBe(2);
      // At 61 s a minute has passed: the old records' page is deleted, 1 row written.
      expect((await present("probe-2", 61_000)).written).toBe(1);
      expect(pagesIn(state)).toBe(1);
      await guard.alarm();
      // A restarted guard reads no old record back, and every new one.
      const restarted = new ReplayGuard(state, env);
      expect(await restarted.present(presentation("old-7", 61_500, undefined, 10_000))).toMatchObject({ presentations: 1 });
      expect(await restarted.present(presentation("new-7", 61_500))).toMatchObject({ presentations: 2 });
    });
  });

  it("counts a PASSporT whose window has closed as new, even before the sweep forgets it", async () => {
    await guardIn(async (guard, state) => {
      const present = metered(guard, state);
      const briefly = { windowMs: 10_000 };
      await present("aa", 1_000, briefly);
      expect((await present("aa", 5_000, briefly)).record.presentations).toBe(2);
      // 20 s: the window (to 11 s) has closed, and the last sweep ran at 1 s, under a minute ago.
      expect((await present("aa", 20_000, { ...briefly, callId: "call-9" })).record).toMatchObject({ presentations: 1, firstSeenAtMs: 20_000, newLeg: true, sameCall: true });
      expect((await present("aa", 21_000, { ...briefly, callId: "call-9" })).record).toMatchObject({ presentations: 2, firstSeenAtMs: 20_000, sameCall: true });
    });
  });

  it("leaves out of a page it reads back whatever it cannot read", async () => {
    await guardIn(async (_guard, state) => {
      state.storage.sql.exec("INSERT INTO presentation_pages (expires_ms, records) VALUES (99000, 'not json'), (99000, ?)", JSON.stringify([["aa", 1_000, 61_000, 4, ["sip:a"], null], ["bb", "x"]]));
      const restarted = new ReplayGuard(state, env);
      expect(await restarted.present(presentation("aa", 2_000, "sip:a"))).toMatchObject({ presentations: 5, newLeg: false });
      expect(await restarted.present(presentation("bb", 2_000))).toMatchObject({ presentations: 1 });
    });
  });
});
