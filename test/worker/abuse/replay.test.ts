import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { ReplayGuard } from "../../../src/abuse/replay-guard";
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

describe("replay guard storage", () => {
  const presentation = (passport: string, atMs: number, leg = "sip:+77012345678@first-leg.example", windowMs = 60_000) => ({ passport, leg, atMs, expiresAtMs: atMs + windowMs, forkWindowMs: 2_000 });
  const guardIn = async (test: (guard: ReplayGuard, state: DurableObjectState) => void) =>
    runInDurableObject(env.REPLAY.getByName(`storage-${crypto.randomUUID()}`), async (guard: ReplayGuard, state) => test(guard, state));
  const rowsIn = (state: DurableObjectState) => state.storage.sql.exec<{ count: number }>("SELECT COUNT(*) AS count FROM presentations").one().count;
  /** The rows each call of `present` writes and reads, as the storage counts them, summed over its statements. */
  const metered = (guard: ReplayGuard, state: DurableObjectState) => {
    const sql = state.storage.sql;
    const exec = sql.exec.bind(sql);
    let cursors: SqlStorageCursor<Record<string, SqlStorageValue>>[] = [];
    sql.exec = ((query: string, ...bindings: unknown[]) => {
      const cursor = exec(query, ...bindings);
      cursors.push(cursor);
      return cursor;
    }) as typeof sql.exec;
    return (passport: string, atMs: number, { leg, windowMs }: { leg?: string; windowMs?: number } = {}) => {
      cursors = [];
      const record = guard.present(presentation(passport, atMs, leg, windowMs));
      return { record, written: cursors.reduce((sum, cursor) => sum + cursor.rowsWritten, 0), read: cursors.reduce((sum, cursor) => sum + cursor.rowsRead, 0) };
    };
  };

  it("writes 1 row for a new PASSporT and 1 for a repeat, and keeps no index beside its key", async () => {
    await guardIn((guard, state) => {
      const present = metered(guard, state);
      present("00", 1_000); // the object's first presentation runs the sweep: measured below
      expect(present("aa", 2_000)).toMatchObject({ written: 1, record: { presentations: 1 } });
      expect(present("aa", 3_000)).toMatchObject({ written: 1, record: { presentations: 2 } });
      expect(present("aa", 5_000, { leg: "sip:+77012345678@other-leg.example" })).toMatchObject({ written: 1, record: { presentations: 3, fork: false } });
      const indexes = state.storage.sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'presentations'").toArray();
      expect(indexes.filter(({ name }) => !name.startsWith("sqlite_autoindex_"))).toEqual([]);

      // An earlier version run after this one (a rollback) adds its index on expiry; the next start drops it.
      state.storage.sql.exec("CREATE INDEX IF NOT EXISTS presentations_expiry ON presentations (expires_ms)");
      const restarted = new ReplayGuard(state, env);
      // Its row, and the sweep's deletes of "00" and "aa", whose windows closed at 61 and 62 s.
      expect(metered(restarted, state)("bb", 70_000)).toMatchObject({ written: 1 + 2, record: { presentations: 1 } });
    });
  });

  it("sweeps the closed windows' rows once a minute, deleting each with 1 row written, and keeps the open ones", async () => {
    await guardIn((guard, state) => {
      const present = metered(guard, state);
      for (let index = 0; index < 50; index++) present(`old-${index}`, 1_000 + index, { windowMs: 10_000 });
      for (let index = 0; index < 20; index++) present(`new-${index}`, 40_000 + index);
      expect(rowsIn(state)).toBe(70);

      // At 30 s the old rows' windows (to 11.000–11.049 s) have closed, but the last sweep (at 1 s) is less than a minute ago.
      expect(present("probe-1", 30_000).written).toBe(1);
      expect(rowsIn(state)).toBe(71);
      // At 61 s a minute has passed: 50 rows deleted, each 1 row written, and the table read once.
      const swept = present("probe-2", 61_000);
      expect(swept.written).toBe(1 + 50);
      expect(swept.read).toBeLessThanOrEqual(71 + 5);
      expect(rowsIn(state)).toBe(22);
      expect(state.storage.sql.exec<{ count: number }>("SELECT COUNT(*) AS count FROM presentations WHERE passport LIKE 'old-%'").one().count).toBe(0);
    });
  });

  it("counts a PASSporT whose window has closed as new, even before the sweep deletes its row", async () => {
    await guardIn((guard, state) => {
      const present = metered(guard, state);
      const briefly = { windowMs: 10_000 };
      present("aa", 1_000, briefly);
      expect(present("aa", 5_000, briefly).record.presentations).toBe(2);
      // 20 s: the window (to 11 s) has closed, and the last sweep ran at 1 s, under a minute ago.
      expect(present("aa", 20_000, briefly)).toMatchObject({ written: 1, record: { presentations: 1, firstSeenAtMs: 20_000, fork: false } });
      expect(present("aa", 21_000, briefly).record).toMatchObject({ presentations: 2, firstSeenAtMs: 20_000 });
      expect(rowsIn(state)).toBe(1);
    });
  });

  it("moves the rows of an object created with the earlier rowid table, and goes on counting them", async () => {
    await runInDurableObject(env.REPLAY.getByName(`storage-${crypto.randomUUID()}`), async (_guard: ReplayGuard, state) => {
      const sql = state.storage.sql;
      sql.exec("DROP TABLE presentations");
      sql.exec(
        `CREATE TABLE presentations (passport TEXT PRIMARY KEY, first_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL, count INTEGER NOT NULL, legs TEXT NOT NULL);
         CREATE INDEX presentations_expiry ON presentations (expires_ms);`,
      );
      sql.exec("INSERT INTO presentations (passport, first_ms, expires_ms, count, legs) VALUES (?, ?, ?, ?, ?)", "bb", 1_000, 61_000, 2, '["sip:+77012345678@first-leg.example"]');

      const migrated = new ReplayGuard(state, env);
      expect(sql.exec<{ sql: string }>("SELECT sql FROM sqlite_master WHERE name = 'presentations'").one().sql).toMatch(/WITHOUT ROWID$/);
      expect(sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'presentations' AND name NOT LIKE 'sqlite_%'").toArray()).toEqual([]);
      expect(migrated.present(presentation("bb", 5_000))).toEqual({ presentations: 3, firstSeenAtMs: 1_000, legs: ["sip:+77012345678@first-leg.example"], fork: false });
      new ReplayGuard(state, env); // a second start finds nothing to move
      expect(sql.exec<{ count: number }>("SELECT count FROM presentations WHERE passport = 'bb'").one().count).toBe(3);
    });
  });
});
