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
  const presentation = (passport: string, atMs: number, leg = "sip:+77012345678@first-leg.example") => ({ passport, leg, atMs, expiresAtMs: atMs + 60_000, forkWindowMs: 2_000 });

  it("writes 2 rows for a new PASSporT (its row and its expiry entry) and 1 for a repeat", async () => {
    await runInDurableObject(env.REPLAY.getByName(`storage-${crypto.randomUUID()}`), async (_guard: ReplayGuard, state) => {
      const sql = state.storage.sql;
      const written = (query: string, ...bindings: (string | number)[]) => {
        const cursor = sql.exec(query, ...bindings);
        cursor.toArray();
        return cursor.rowsWritten;
      };
      // The statements ReplayGuard.present runs, on its own table.
      expect(written("INSERT INTO presentations (passport, first_ms, expires_ms, count, legs) VALUES (?, ?, ?, 1, ?)", "aa", 1_000, 61_000, "[]")).toBe(2);
      expect(written("UPDATE presentations SET count = count + 1, legs = ? WHERE passport = ?", '["x"]', "aa")).toBe(1);
      expect(written("DELETE FROM presentations WHERE expires_ms <= ?", 61_000)).toBe(1);
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
      expect(sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'presentations' AND name NOT LIKE 'sqlite_%'").toArray()).toEqual([{ name: "presentations_expiry" }]);
      expect(migrated.present(presentation("bb", 5_000))).toEqual({ presentations: 3, firstSeenAtMs: 1_000, legs: ["sip:+77012345678@first-leg.example"], fork: false });
      new ReplayGuard(state, env); // a second start finds nothing to move
      expect(sql.exec<{ count: number }>("SELECT count FROM presentations WHERE passport = 'bb'").one().count).toBe(3);
    });
  });
});
