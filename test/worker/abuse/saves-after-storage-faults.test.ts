import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ReplayGuard, type Presentation } from "../../../src/abuse/replay-guard";
import { VelocityCounter } from "../../../src/abuse/velocity-counter";
import type { Observation } from "../../../src/abuse/velocity-window";

/**
 * The replay guard and the velocity counters save from memory at most every second / ten seconds
 * (src/lib/durable-storage.ts PeriodicSave). One storage fault — a refused alarm, a failed page write —
 * must cost at most that one save, not every save after it: README "Stores: loss bounds and retention"
 * bounds what a restart forgets by ≤ 1 s and ≤ 10 s.
 */
const presentation = (signingInput: string, atMs: number): Presentation => ({ signingInput, leg: "sip:+77012345678@leg.example", callId: "call-1", atMs, expiresAtMs: atMs + 60_000 });
const pagesIn = (state: DurableObjectState) => state.storage.sql.exec<{ count: number }>("SELECT COUNT(*) AS count FROM presentation_pages").one().count;

/** Makes the object's next setAlarm fail once (a storage hiccup), then behave. */
function refuseOneAlarm(state: DurableObjectState) {
  const setAlarm = state.storage.setAlarm.bind(state.storage);
  let refused = false;
  state.storage.setAlarm = ((...args: Parameters<typeof setAlarm>) => {
    if (refused) return setAlarm(...args);
    refused = true;
    return Promise.reject(new Error("storage operation failed (simulated)"));
  }) as typeof setAlarm;
}

describe("a refused alarm is set again by the next change", () => {
  it("replay guard: the presentation that met the refusal fails, the next one sets the alarm, and its save keeps both", async () => {
    await runInDurableObject(env.REPLAY.getByName(`faults-${crypto.randomUUID()}`), async (guard: ReplayGuard, state) => {
      refuseOneAlarm(state);
      // The Worker reports store.replay for this one call; the guard has counted it all the same.
      await expect(guard.present(presentation("first", 1_000))).rejects.toThrow(/simulated/);
      expect(await guard.present(presentation("second", 2_000))).toMatchObject({ presentations: 1 });
      expect(await state.storage.getAlarm()).not.toBeNull();
      await guard.alarm();
      expect(pagesIn(state)).toBe(1);
      const restarted = new ReplayGuard(state, env);
      expect(await restarted.present(presentation("first", 3_000))).toMatchObject({ presentations: 2, firstSeenAtMs: 1_000 });
      expect(await restarted.present(presentation("second", 3_000))).toMatchObject({ presentations: 2, firstSeenAtMs: 2_000 });
    });
  });

  it("velocity counter: the batch that met the refusal fails, the next one sets the alarm, and its snapshot counts both", async () => {
    const T0 = 1_800_000_000_000;
    const event = (atMs: number): Observation => ({ key: "calls-per-cli:7701", value: null, atMs, windowMs: 600_000 });
    await runInDurableObject(env.VELOCITY.getByName(`faults-${crypto.randomUUID()}`), async (counter: VelocityCounter, state) => {
      refuseOneAlarm(state);
      await expect(counter.observe([event(T0)])).rejects.toThrow(/simulated/);
      await counter.observe([event(T0 + 100)]);
      expect(await state.storage.getAlarm()).not.toBeNull();
      await counter.alarm();
      const restarted = new VelocityCounter(state, env);
      expect((await restarted.observe([event(T0 + 6_000)])).counts[0]).toMatchObject({ count: 3 });
    });
  });
});

describe("a page write that fails at the alarm", () => {
  it("leaves its records unsaved, so the alarm's retry saves them and a restarted guard knows them", async () => {
    await runInDurableObject(env.REPLAY.getByName(`faults-${crypto.randomUUID()}`), async (guard: ReplayGuard, state) => {
      await guard.present(presentation("aa", 1_000));
      await guard.present(presentation("bb", 1_100));
      const sql = state.storage.sql;
      const exec = sql.exec.bind(sql);
      let failed = false;
      sql.exec = ((query: string, ...bindings: unknown[]) => {
        if (!failed && query.startsWith("INSERT INTO presentation_pages")) {
          failed = true;
          throw new Error("SQLITE_FULL (simulated)");
        }
        return exec(query, ...bindings);
      }) as typeof sql.exec;
      await expect(guard.alarm()).rejects.toThrow(/simulated/);
      expect(pagesIn(state)).toBe(0);
      // Workers retries a failed alarm (at least once).
      await guard.alarm();
      expect(pagesIn(state)).toBe(1);
      const restarted = new ReplayGuard(state, env);
      expect(await restarted.present(presentation("aa", 5_000))).toMatchObject({ presentations: 2 });
      expect(await restarted.present(presentation("bb", 5_000))).toMatchObject({ presentations: 2 });
    });
  });
});
