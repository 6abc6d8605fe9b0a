import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../../../src/app";
import { checkOf, verdictVia } from "../abuse/support";
import { adminGet, scrape } from "../metrics/support";
import { d1WithBatch, writesIn } from "../support/d1";
import { CALLEE } from "../support/stir";

/**
 * Issue 22 item 5: background work holds one slot per isolate (a write-behind flush, the velocity
 * flush, the metrics flush), so one store call that never returns used to stop statistics, `/metrics`
 * and velocity in that isolate for good. Each case here hangs a store, lets the background timeout
 * (BACKGROUND_TIMEOUT_MS) pass, then lets the store answer again, and checks that the work resumes in
 * the same isolate. Without the timeout, waiting for the first verdict's background work never ends.
 */
beforeEach(() => {
  vi.spyOn(console, "log").mockImplementation(() => {});
  vi.spyOn(console, "error").mockImplementation(() => {});
});
afterEach(() => vi.restoreAllMocks());

const neverSettles = () => new Promise<never>(() => {});


/** A store that hangs while `hanging` is set and is the real one otherwise: the same binding object throughout, as an isolate keeps it. */
function hangingSwitch() {
  const state = { hanging: true };
  // D1: every write (a batch that is not all SELECTs) hangs; reads answer, batched ones too (the rules
  // snapshot reads its changes in one batch), so the verdict's own rules snapshot is not what is tested here.
  const DB = d1WithBatch((statements, real) => (state.hanging && writesIn(statements) ? neverSettles() : real(statements)));
  const VELOCITY = { getByName: (name: string) => (state.hanging ? { observe: neverSettles } : env.VELOCITY.getByName(name)) };
  const bindings = { ...env, DB, VELOCITY, BACKGROUND_TIMEOUT_MS: "50", VELOCITY_CALLS_PER_CLI: "3/60:tag", VELOCITY_DESTINATIONS_PER_CLI: "off", VELOCITY_CLIS_PER_TRUNK: "off" };
  return { state, bindings, app: createApp({ sharedCache: null }) };
}

/** An unsigned Almaty landline on an international trunk: blocked, so it counts as a blocked CLI. */
const spoofed = (cli: string) => ({ from: `<sip:+${cli}@transit.example>`, to: `<sip:+${CALLEE}@operator.example>`, ingress: { trunk: "intl-1", carrier: "TransitCo", international: true } });

interface Stats {
  topBlockedClis: { cli: string; count: number }[];
}

describe("write-behind: a D1 write that never returns", () => {
  it("is abandoned after the background timeout and counted; statistics and recent verdicts resume once D1 answers", async () => {
    const { state, bindings, app } = hangingSwitch();
    await verdictVia(app, spoofed("77272508801"), bindings);

    state.hanging = false;
    await verdictVia(app, spoofed("77272508802"), bindings);
    const stats = (await (await adminGet(app, "/v1/stats", bindings)).json()) as Stats;
    // The first verdict's counts went with the abandoned write: at most once, never twice.
    expect(stats.topBlockedClis.map(({ cli }) => cli)).toContain("77272508802");
    expect(stats.topBlockedClis.map(({ cli }) => cli)).not.toContain("77272508801");
    const recent = (await (await adminGet(app, "/v1/admin/verdicts?number=77272508802", bindings)).json()) as { verdicts: unknown[] };
    expect(recent.verdicts).toHaveLength(1);

    const metrics = await scrape(app, bindings);
    expect(metrics.get('shaken_background_timeouts_total{task="write-behind:stats"}')).toBeGreaterThanOrEqual(1);
    expect(metrics.get('shaken_background_timeouts_total{task="write-behind:recent-verdicts"}')).toBeGreaterThanOrEqual(1);
    expect(metrics.get('shaken_background_dropped_total{task="write-behind:recent-verdicts"}')).toBeGreaterThanOrEqual(1);
  });
});

describe("metrics flush: a D1 write that never returns", () => {
  it("lets /metrics answer after the background timeout, and counts again once D1 answers", async () => {
    const { state, bindings, app } = hangingSwitch();
    await verdictVia(app, spoofed("77272508811"), bindings);
    const during = await scrape(app, bindings);

    state.hanging = false;
    await verdictVia(app, spoofed("77272508812"), bindings);
    const after = await scrape(app, bindings);
    expect(after.get('shaken_background_timeouts_total{task="metrics-flush"}')).toBeGreaterThan(during.get('shaken_background_timeouts_total{task="metrics-flush"}') ?? 0);
    expect(after.get('shaken_verdicts_total{action="block"}')).toBeGreaterThan(during.get('shaken_verdicts_total{action="block"}') ?? 0);
  });
});

describe("velocity flush: a counter call that never returns", () => {
  it("is reported on the next verdict as store.velocity, and counting resumes once the counters answer", async () => {
    const { state, bindings, app } = hangingSwitch();
    const cli = "77272508821";
    await verdictVia(app, spoofed(cli), bindings);
    const degraded = await verdictVia(app, spoofed(cli), bindings);
    expect(checkOf(degraded, "store.velocity")).toMatchObject({ result: "warn", detail: expect.stringMatching(/velocity-flush did not settle within 50 ms/), evidence: { dependency: "velocity", policy: "allow" } });

    state.hanging = false;
    await verdictVia(app, spoofed(cli), bindings);
    const recovered = await verdictVia(app, spoofed(cli), bindings);
    expect(checkOf(recovered, "store.velocity")).toBeUndefined();
    // The two calls made while the counters hung are not sent again (they may have counted): the count starts after them.
    expect(checkOf(recovered, "velocity.calls-per-cli")).toMatchObject({ result: "pass", evidence: { count: 1 } });
    expect((await scrape(app, bindings)).get('shaken_background_timeouts_total{task="velocity-flush"}')).toBeGreaterThanOrEqual(2);
  });
});
