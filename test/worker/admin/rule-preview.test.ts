import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../../../src/app";
import { DOMESTIC, INTERNATIONAL, postVerdictAndSettle, unsignedCall } from "../metrics/support";
import { NAMED, sbcAuth } from "../support/auth";
import { manualClock, operatorApp, rowsIn } from "./support";

/**
 * `POST /v1/admin/rules/preview` (issue 20 "Rule preview"): a candidate rule, validated as a create
 * is, matched by the verdict's own matcher against the recent-verdicts window, each verdict judged at
 * its own time. The window is seeded through /v1/verdict on a clock the test moves.
 */
const T0 = Date.parse("2026-11-30T10:00:00Z");
const MINUTE = 60_000;

interface Seeded {
  requestId: string;
  at: string;
  cli: string;
  action: string;
}

/** One verdict a minute from T0, oldest first: three under +7727250910…, the last (the fourth) outside it. */
const CALLS = [
  unsignedCall("+77272509101", DOMESTIC),
  unsignedCall("+77272509102", DOMESTIC),
  unsignedCall("+77272509103", INTERNATIONAL),
  unsignedCall("+77282509104", DOMESTIC),
];

let seeded: Seeded[] = [];

beforeEach(async () => {
  // The tests of a file share its database: each starts from an empty window.
  await env.DB.prepare("DELETE FROM recent_verdict_pages").run();
  const clock = manualClock(T0);
  const app = createApp({ clock });
  seeded = [];
  for (const call of CALLS) {
    const response = await postVerdictAndSettle(app, call);
    const { verdict } = (await response.json()) as { verdict: { requestId: string; action: string } };
    seeded.push({ requestId: verdict.requestId, at: new Date(clock.now()).toISOString(), cli: call.from.slice(1), action: verdict.action });
    clock.advance(MINUTE);
  }
});

/** Previews `criteria` (with a block action) as `headers` says, hours after the window, at a time no window below covers. */
const preview = (body: unknown, headers: Record<string, string> = NAMED.analyst.headers) => operatorApp(manualClock(T0 + 5 * 60 * MINUTE)).send("POST", "/v1/admin/rules/preview", body, headers);
const blocking = (criteria: unknown) => ({ criteria, action: "block", reason: "bank impersonation wave", mode: "monitor" });

describe("POST /v1/admin/rules/preview answers from the recent-verdicts window", () => {
  it("the seeded verdicts are allow, allow, block, allow", () => {
    expect(seeded.map((verdict) => verdict.action)).toEqual(["allow", "allow", "block", "allow"]);
  });

  it("counts the verdicts a CLI prefix matches, those otherwise allowed, and lists them newest first", async () => {
    const response = await preview(blocking({ cli: { prefix: "+7727250910" } }));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      window: { verdicts: 4, from: "2026-11-30T10:00:00.000Z", to: "2026-11-30T10:03:00.000Z" },
      matched: 3,
      otherwiseAllowed: 2,
      sample: [seeded[2], seeded[1], seeded[0]],
    });
  });

  it("matches the ingress as the verdict saw it: a carrier, a trunk", async () => {
    const byCarrier = (await (await preview(blocking({ carrier: "TransitCo" }))).json()) as { matched: number; otherwiseAllowed: number; sample: Seeded[] };
    expect(byCarrier).toMatchObject({ matched: 1, otherwiseAllowed: 0, sample: [seeded[2]] });
    const byTrunk = (await (await preview(blocking({ trunk: "kt-1" }))).json()) as { matched: number; otherwiseAllowed: number; sample: Seeded[] };
    expect(byTrunk).toMatchObject({ matched: 3, otherwiseAllowed: 3, sample: [seeded[3], seeded[1], seeded[0]] });
  });

  it("judges a time window at each verdict's time, not at the preview's", async () => {
    const response = await preview(blocking({ cli: { prefix: "+7727250910" }, timeWindow: { start: "10:01", end: "11:00", utcOffset: "+00:00" } }));
    expect(await response.json()).toMatchObject({ matched: 2, otherwiseAllowed: 1, sample: [seeded[2], seeded[1]] });
  });

  it("matches nothing in an empty window", async () => {
    await env.DB.prepare("DELETE FROM recent_verdict_pages").run();
    expect(await (await preview(blocking({ cli: { exact: "+77272509101" } }))).json()).toEqual({ window: { verdicts: 0, from: null, to: null }, matched: 0, otherwiseAllowed: 0, sample: [] });
  });

  it("writes nothing: no rule, no audit entry", async () => {
    const [rules, audit] = [await rowsIn("rules"), await rowsIn("audit_log")];
    expect((await preview(blocking({ cli: { exact: "+77272509101" } }))).status).toBe(200);
    expect([await rowsIn("rules"), await rowsIn("audit_log")]).toEqual([rules, audit]);
  });
});

describe("the preview's sample and its older verdicts", () => {
  it("samples at most 20 of the verdicts it matches, the newest", async () => {
    const clock = manualClock(T0 + 10 * MINUTE);
    const app = createApp({ clock });
    // Answered one after another, kept in that order; their writes settled once at the end, not after each.
    const contexts = [];
    for (let index = 0; index < 18; index++) {
      const context = createExecutionContext();
      const response = await app.request("/v1/verdict", { method: "POST", headers: { ...sbcAuth, "Content-Type": "application/json" }, body: JSON.stringify(unsignedCall(`+772725091${10 + index}`, DOMESTIC)) }, env, context);
      expect(response.status).toBe(200);
      contexts.push(context);
      clock.advance(MINUTE);
    }
    for (const context of contexts) await waitOnExecutionContext(context);
    const { matched, sample } = (await (await preview(blocking({ cli: { prefix: "+772725091" } }))).json()) as { matched: number; sample: Seeded[] };
    expect(matched).toBe(21);
    expect(sample).toHaveLength(20);
    expect(sample.at(-1)?.cli).toBe("77272509102");
  });

  it("reads a verdict kept before its ingress was stored as its display carrier on no trunk, and an unknown carrier as none", async () => {
    const { results } = await env.DB.prepare("SELECT first_seq, verdicts FROM recent_verdict_pages").all<{ first_seq: number; verdicts: string }>();
    for (const { first_seq, verdicts } of results) {
      const older = (JSON.parse(verdicts) as { ingress?: unknown; carrier: string; cli: string }[]).map(({ ingress: _ingress, ...verdict }) => (verdict.cli === "77272509101" ? { ...verdict, carrier: "(unknown)" } : verdict));
      await env.DB.prepare("UPDATE recent_verdict_pages SET verdicts = ?1 WHERE first_seq = ?2").bind(JSON.stringify(older), first_seq).run();
    }
    expect(await (await preview(blocking({ carrier: "TransitCo" }))).json()).toMatchObject({ matched: 1, sample: [seeded[2]] });
    expect(await (await preview(blocking({ carrier: "Kazakhtelecom" }))).json()).toMatchObject({ matched: 2, sample: [seeded[3], seeded[1]] });
    expect(await (await preview(blocking({ carrier: "(unknown)" }))).json()).toMatchObject({ matched: 0 });
    expect(await (await preview(blocking({ trunk: "kt-1" }))).json()).toMatchObject({ matched: 0 });
  });
});

describe("a kept verdict has what re-matching a rule needs", () => {
  it("its numbers, its ingress as presented, mapped and classified, its time, action and request id, and its monitored list", async () => {
    await postVerdictAndSettle(createApp({ clock: manualClock(T0 + 10 * MINUTE) }), CALLS[2], { ...env, POLICY_MODE: "monitor" });
    const response = await operatorApp(manualClock(T0)).send("GET", "/v1/admin/verdicts?limit=2", undefined, NAMED.viewer.headers);
    const { verdicts } = (await response.json()) as { verdicts: Record<string, unknown>[] };
    const ingress = { trunk: "intl-1", carrier: "TransitCo", carrierName: "TransitCo", international: true };
    expect(verdicts[0]).toMatchObject({ cli: "77272509103", destination: "77012345678", at: "2026-11-30T10:10:00.000Z", action: "allow", ingress, monitored: [{ by: "origin.national-on-international", action: "block" }] });
    expect(verdicts[1]).toMatchObject({ ...seeded[3], ingress: { ...ingress, trunk: "kt-1", carrier: "Kazakhtelecom", carrierName: "Kazakhtelecom", international: false } });
    expect(verdicts[1]).not.toHaveProperty("monitored");
  });
});

describe("POST /v1/admin/rules/preview refuses what a create refuses", () => {
  it.each([
    ["an unknown action", { criteria: { cli: { exact: "+77272509101" } }, action: "explode", reason: "x" }, "action"],
    ["criteria naming nobody", { criteria: { timeWindow: { start: "22:00", end: "06:00" } }, action: "block", reason: "x" }, "criteria"],
    ["a past expiry", { criteria: { cli: { exact: "+77272509101" } }, action: "block", reason: "x", expiresAt: "2026-01-01T00:00:00Z" }, "expiresAt"],
    ["an unknown member", { criteria: { cli: { exact: "+77272509101" } }, action: "block", reason: "x", dryRun: true }, "(body)"],
  ])("400 for %s, naming the field", async (_case, body, field) => {
    const response = await preview(body);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string; fields: Record<string, string> } }).error).toMatchObject({ code: "ERR_VALIDATION", fields: { [field]: expect.any(String) } });
  });

  it("403 for a viewer, who may read verdicts but not work on rules", async () => {
    const response = await preview(blocking({ cli: { exact: "+77272509101" } }), NAMED.viewer.headers);
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: { code: "ERR_FORBIDDEN" } });
  });
});

describe("a call whose From presents another number than P-Asserted-Identity", () => {
  // The verdict judges From's number too (src/call/normalize.ts otherPresentedCallers): a rule on it
  // decides the call. A preview that read only the caller ID said such a rule matched nothing.
  const behindPai = { pai: "+77272509201", from: "+77172580000", to: "+77012345678", ingress: DOMESTIC };
  const at = T0 + 10 * MINUTE;

  it("is matched by a preview of a rule on From's number, as the verdict matches it", async () => {
    const response = await postVerdictAndSettle(createApp({ clock: manualClock(at) }), behindPai);
    const { verdict } = (await response.json()) as { verdict: { requestId: string; action: string } };
    expect(await (await preview(blocking({ cli: { exact: "+77172580000" } }))).json()).toMatchObject({
      matched: 1,
      sample: [{ requestId: verdict.requestId, cli: "77272509201", action: verdict.action }],
    });
    expect(await (await preview(blocking({ cli: { exact: "+77272509201" } }))).json()).toMatchObject({ matched: 1 });
  });

  it("is found among the recent verdicts by From's number", async () => {
    await postVerdictAndSettle(createApp({ clock: manualClock(at) }), behindPai);
    const response = await operatorApp(manualClock(at)).send("GET", "/v1/admin/verdicts?number=77172580000", undefined, NAMED.viewer.headers);
    expect(await response.json()).toMatchObject({ verdicts: [{ cli: "77272509201", fromCli: "77172580000" }] });
  });
});

describe("a raw INVITE whose Remote-Party-ID presents another number", () => {
  // The verdict judges it too (src/call/normalize.ts claimedNumbers), as it does From's.
  const at = T0 + 22 * MINUTE;
  const invite = [
    "INVITE sip:+77012345678@operator.example SIP/2.0",
    "From: <sip:+77272509401@carrier.example;user=phone>;tag=1",
    "To: <sip:+77012345678@operator.example>",
    "Remote-Party-ID: <sip:+77172580002@carrier.example>;party=calling",
    "Call-ID: rpid-preview@carrier.example",
    "",
    "",
  ].join("\r\n");

  it("is matched by a preview of a rule on that number, and found among the recent verdicts by it", async () => {
    const context = createExecutionContext();
    const response = await createApp({ clock: manualClock(at) }).request(
      "/v1/verdict?trunk=domestic-1&international=false",
      { method: "POST", headers: { ...sbcAuth, "Content-Type": "message/sip" }, body: invite },
      env,
      context,
    );
    await waitOnExecutionContext(context);
    const { verdict } = (await response.json()) as { verdict: { requestId: string } };
    expect(await (await preview(blocking({ cli: { exact: "+77172580002" } }))).json()).toMatchObject({ matched: 1, sample: [{ requestId: verdict.requestId, cli: "77272509401" }] });
    const listed = await operatorApp(manualClock(at)).send("GET", "/v1/admin/verdicts?number=77172580002", undefined, NAMED.viewer.headers);
    expect(await listed.json()).toMatchObject({ verdicts: [{ requestId: verdict.requestId, cli: "77272509401", claimedClis: ["77172580002"] }] });
  });
});

describe("a call whose From carries a display name", () => {
  const at = T0 + 25 * MINUTE;

  it("is kept among the recent verdicts with the name presented and whether the callee was shown it", async () => {
    const response = await postVerdictAndSettle(createApp({ clock: manualClock(at) }), { from: '"Halyk Bank" <sip:+4930123450007@gw.example>;tag=1', to: "+77012345678", ingress: INTERNATIONAL });
    const { verdict } = (await response.json()) as { verdict: { requestId: string } };
    const listed = await operatorApp(manualClock(at)).send("GET", "/v1/admin/verdicts?number=4930123450007", undefined, NAMED.viewer.headers);
    expect(await listed.json()).toMatchObject({ verdicts: [{ requestId: verdict.requestId, callerName: { presented: "Halyk Bank", presentation: "removed" } }] });
  });

  it("is matched by a preview of a rule on a phrase of that name, as the verdict matches it, and by no other phrase", async () => {
    const response = await postVerdictAndSettle(createApp({ clock: manualClock(at) }), { from: '"Halyk Bank Support" <sip:+4930123450008@gw.example>;tag=1', to: "+77012345678", ingress: INTERNATIONAL });
    const { verdict } = (await response.json()) as { verdict: { requestId: string; action: string } };
    expect(verdict.action).toBe("allow");
    expect(await (await preview(blocking({ name: "HALYK-BANK" }))).json()).toMatchObject({ matched: 1, otherwiseAllowed: 1, sample: [{ requestId: verdict.requestId, cli: "4930123450008" }] });
    expect(await (await preview(blocking({ name: "Kaspi" }))).json()).toMatchObject({ matched: 0 });
  });
});

describe("a call whose P-Asserted-Identity lists a tel identity of another number", () => {
  // The verdict judges that number too (src/call/normalize.ts otherPresentedCallers), as it does From's.
  const twoIdentities = { pai: "<sip:+77272509301@carrier.example;user=phone>, <tel:+77172580001>", from: "+77272509301", to: "+77012345678", ingress: DOMESTIC };
  const at = T0 + 20 * MINUTE;

  it("is matched by a preview of a rule on that number, and found among the recent verdicts by it", async () => {
    const response = await postVerdictAndSettle(createApp({ clock: manualClock(at) }), twoIdentities);
    const { verdict } = (await response.json()) as { verdict: { requestId: string } };
    expect(await (await preview(blocking({ cli: { exact: "+77172580001" } }))).json()).toMatchObject({ matched: 1, sample: [{ requestId: verdict.requestId, cli: "77272509301" }] });
    const listed = await operatorApp(manualClock(at)).send("GET", "/v1/admin/verdicts?number=77172580001", undefined, NAMED.viewer.headers);
    expect(await listed.json()).toMatchObject({ verdicts: [{ requestId: verdict.requestId, cli: "77272509301", assertedCli: "77172580001" }] });
  });
});
