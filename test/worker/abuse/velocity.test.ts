import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../../src/app";
import { manualClock } from "../admin/support";
import { checkOf, verdictVia } from "./support";

const START_MS = 1_795_780_800_000;
let trunkCounter = 0;

/** An unsigned domestic call; each test uses its own CLIs and trunk, so the shared counters never mix tests. */
function call(cli: string, options: { to?: string; trunk?: string } = {}) {
  return { from: `<sip:+${cli}@carrier.example>`, to: `<sip:+${options.to ?? "77012345678"}@operator.example>`, ingress: { trunk: options.trunk ?? `velocity-${trunkCounter}`, carrier: "DomesticCo", international: false } };
}

const uniqueCli = () => `772725${String(Math.floor(Math.random() * 1e5)).padStart(5, "0")}`;

function setup(limits: Record<string, string>) {
  trunkCounter++;
  const clock = manualClock(START_MS);
  const bindings = { ...env, VELOCITY_CALLS_PER_CLI: "off", VELOCITY_DESTINATIONS_PER_CLI: "off", VELOCITY_CLIS_PER_TRUNK: "off", ...limits };
  return { clock, bindings, app: createApp({ clock, sharedCache: null }) };
}

describe("velocity: calls per presented CLI", () => {
  it("flags the calls after the count crosses the limit, with the counts as evidence", async () => {
    const { app, bindings, clock } = setup({ VELOCITY_CALLS_PER_CLI: "3/60:block" });
    const cli = uniqueCli();
    const results = [];
    for (let index = 0; index < 5; index++) {
      results.push(await verdictVia(app, call(cli), bindings));
      clock.advance(1_000);
    }
    expect(checkOf(results[0]!, "velocity.calls-per-cli")).toMatchObject({ result: "skip" });
    // Each verdict is judged on the counts the counter answered for the calls before it (one batch of lag).
    expect(results.slice(1).map((verdict) => checkOf(verdict, "velocity.calls-per-cli")?.evidence?.count)).toEqual([1, 2, 3, 4]);
    expect(results.slice(0, 4).every((verdict) => verdict.action === "allow")).toBe(true);
    expect(results[4]).toMatchObject({ action: "block", decidedBy: "velocity.calls-per-cli" });
    expect(checkOf(results[4]!, "velocity.calls-per-cli")).toMatchObject({ result: "fail", evidence: { subject: cli, count: 4, threshold: 3, windowSeconds: 60 } });
  });

  it("counts over a sliding window: calls older than the window stop counting", async () => {
    const { app, bindings, clock } = setup({ VELOCITY_CALLS_PER_CLI: "2/60:tag" });
    const cli = uniqueCli();
    for (let index = 0; index < 3; index++) await verdictVia(app, call(cli), bindings);
    expect(await verdictVia(app, call(cli), bindings)).toMatchObject({ action: "tag", label: "High call velocity" });
    clock.advance(61_000);
    const later = await verdictVia(app, call(cli), bindings);
    expect(checkOf(later, "velocity.calls-per-cli")?.result).toBe("skip"); // the last count is older than its window
    const next = await verdictVia(app, call(cli), bindings);
    expect(checkOf(next, "velocity.calls-per-cli")).toMatchObject({ result: "pass", evidence: { count: 1 } });
  });

  it("shares counts across isolates through the Durable Object", async () => {
    const { bindings } = setup({ VELOCITY_CALLS_PER_CLI: "3/60:tag" });
    const cli = uniqueCli();
    const clock = manualClock(START_MS);
    const isolateA = createApp({ clock, sharedCache: null });
    const isolateB = createApp({ clock, sharedCache: null });
    for (let index = 0; index < 4; index++) await verdictVia(isolateA, call(cli), bindings);
    // B has never counted this CLI: its first call learns the shared count from its own update.
    expect(checkOf(await verdictVia(isolateB, call(cli), bindings), "velocity.calls-per-cli")?.result).toBe("skip");
    expect(checkOf(await verdictVia(isolateB, call(cli), bindings), "velocity.calls-per-cli")).toMatchObject({ result: "fail", evidence: { count: 5 } });
  });

  it("counts a CLI however its trunk prefix is spelt: +7 8 727 … is the +7 727 … the checks read, not a second budget", async () => {
    const { app, bindings, clock } = setup({ VELOCITY_CALLS_PER_CLI: "3/60:block" });
    const cli = uniqueCli();
    const spelt = `78${cli.slice(1)}`;
    const results = [];
    for (let index = 0; index < 5; index++) {
      results.push(await verdictVia(app, call(index % 2 === 0 ? cli : spelt), bindings));
      clock.advance(1_000);
    }
    expect(results.slice(1).map((verdict) => checkOf(verdict, "velocity.calls-per-cli")?.evidence?.count)).toEqual([1, 2, 3, 4]);
    expect(results[4]).toMatchObject({ action: "block", decidedBy: "velocity.calls-per-cli" });
    expect(checkOf(results[4]!, "velocity.calls-per-cli")).toMatchObject({ evidence: { subject: cli } });
  });
});

describe("velocity: a burst answered before the counters are", () => {
  // The verdict is judged on the counts the counters last answered, a batch behind. A burst of calls
  // answered within one batch, after a quiet window, met only a count older than its window (or none):
  // every call of it passed, and one such burst a minute never crossed a limit it exceeded many times.
  it("flags the calls of a burst past the limit, counting what this isolate queued since the last answer", async () => {
    const { app, bindings } = setup({ VELOCITY_CALLS_PER_CLI: "3/60:block" });
    const cli = uniqueCli();
    const burst = [];
    for (let index = 0; index < 5; index++) burst.push(await verdictVia(app, call(cli), bindings, { settle: false }));
    expect(burst.slice(0, 4).every((verdict) => verdict.action === "allow")).toBe(true);
    expect(burst[4]).toMatchObject({ action: "block", decidedBy: "velocity.calls-per-cli" });
    expect(checkOf(burst[4]!, "velocity.calls-per-cli")).toMatchObject({ result: "fail", evidence: { subject: cli, count: 4, threshold: 3 } });
  });

  it("flags a trunk rotating through more distinct CLIs than the limit within one burst", async () => {
    const { app, bindings } = setup({ VELOCITY_CLIS_PER_TRUNK: "3/300:withhold" });
    const trunk = `burst-${crypto.randomUUID()}`;
    const burst = [];
    for (let index = 0; index < 5; index++) burst.push(await verdictVia(app, call(uniqueCli(), { trunk }), bindings, { settle: false }));
    expect(checkOf(burst[4]!, "velocity.clis-per-trunk")).toMatchObject({ result: "fail", evidence: { subject: trunk, count: 4, threshold: 3 } });
    expect(burst[4]!.action).toBe("withhold");
  });
});

describe("rotation: distinct destinations per CLI, distinct CLIs per trunk (SIM-box patterns)", () => {
  it("flags a CLI calling more distinct destinations than the limit", async () => {
    const { app, bindings } = setup({ VELOCITY_DESTINATIONS_PER_CLI: "2/300:tag" });
    const cli = uniqueCli();
    for (const to of ["77011111111", "77012222222", "77013333333", "77011111111"]) await verdictVia(app, call(cli, { to }), bindings);
    const verdict = await verdictVia(app, call(cli, { to: "77014444444" }), bindings);
    expect(checkOf(verdict, "velocity.destinations-per-cli")).toMatchObject({ result: "fail", evidence: { subject: cli, count: 3, threshold: 2, windowSeconds: 300 } });
    expect(verdict.action).toBe("tag");
  });

  it("counts Request-URIs that cannot be read as distinct destinations: they name no number, but a core may route them", async () => {
    const { app, bindings } = setup({ VELOCITY_DESTINATIONS_PER_CLI: "2/300:tag" });
    const cli = uniqueCli();
    const unreadable = (n: number) => ({ ...call(cli), ruri: `sip:+7701555000${n}a@operator.example` });
    for (const n of [1, 2, 3, 1]) await verdictVia(app, unreadable(n), bindings);
    const verdict = await verdictVia(app, unreadable(4), bindings);
    expect(checkOf(verdict, "velocity.destinations-per-cli")).toMatchObject({ result: "fail", evidence: { subject: cli, count: 3, threshold: 2 } });
    expect(verdict).toMatchObject({ action: "tag", decidedBy: "velocity.destinations-per-cli" });
  });

  it("flags a trunk rotating through more distinct CLIs than the limit", async () => {
    const { app, bindings } = setup({ VELOCITY_CLIS_PER_TRUNK: "3/300:withhold" });
    const trunk = `simbox-${crypto.randomUUID()}`;
    for (let index = 0; index < 4; index++) await verdictVia(app, call(uniqueCli(), { trunk }), bindings);
    const verdict = await verdictVia(app, call(uniqueCli(), { trunk }), bindings);
    expect(checkOf(verdict, "velocity.clis-per-trunk")).toMatchObject({ result: "fail", evidence: { subject: trunk, count: 4, threshold: 3 } });
    expect(verdict).toMatchObject({ action: "withhold", decidedBy: "velocity.clis-per-trunk" });
  });
});

describe("rotation on an interconnect the SBC names by its carrier alone", () => {
  // The ingress map takes carrier-only entries ({"carrier": "Kazakhtelecom", …}), and an SBC may send
  // only the carrier. CLIs per trunk then counted nothing and said nothing: a SIM box rotating CLIs on
  // that domestic leg, the case velocity is there for (cli-spoofing.md §3), went unseen.
  it("counts distinct CLIs per carrier when the SBC names no trunk", async () => {
    const { app, bindings } = setup({ VELOCITY_CLIS_PER_TRUNK: "3/300:withhold" });
    const carrier = `SimCo-${crypto.randomUUID()}`;
    const byCarrier = (cli: string) => ({ ...call(cli), ingress: { carrier, international: false } });
    for (let index = 0; index < 4; index++) await verdictVia(app, byCarrier(uniqueCli()), bindings);
    const verdict = await verdictVia(app, byCarrier(uniqueCli()), bindings);
    expect(checkOf(verdict, "velocity.clis-per-trunk")).toMatchObject({ result: "fail", evidence: { subject: `carrier:${carrier}`, count: 4, threshold: 3 } });
    expect(verdict.action).toBe("withhold");
  });
});

describe("counter updates stay off the critical path", () => {
  it("answers without waiting for a counter store that never answers", async () => {
    const { app, bindings } = setup({ VELOCITY_CALLS_PER_CLI: "3/60:tag" });
    const hanging = { getByName: () => ({ observe: () => new Promise(() => {}) }) };
    const verdict = await verdictVia(app, call(uniqueCli()), { ...bindings, VELOCITY: hanging }, { settle: false });
    expect(verdict.action).toBe("allow");
    expect(checkOf(verdict, "store.velocity")).toBeUndefined();
  });

  it("reports a failing counter store on the verdicts after the failed update, with its policy", async () => {
    const { app } = setup({});
    const broken = { getByName: () => ({ observe: () => Promise.reject(new Error("Durable Object overloaded")) }) };
    const bindings = { ...env, VELOCITY_CALLS_PER_CLI: "3/60:tag", VELOCITY: broken, DEPENDENCY_FAILURE_POLICY: "velocity=tag" };
    const cli = uniqueCli();
    expect(checkOf(await verdictVia(app, call(cli), bindings), "store.velocity")).toBeUndefined();
    const next = await verdictVia(app, call(cli), bindings);
    expect(checkOf(next, "store.velocity")).toMatchObject({ result: "fail", detail: expect.stringMatching(/Durable Object overloaded/), evidence: { dependency: "velocity", problem: "error", policy: "tag" } });
    expect(next).toMatchObject({ action: "tag", decidedBy: "store.velocity" });
  });
});
