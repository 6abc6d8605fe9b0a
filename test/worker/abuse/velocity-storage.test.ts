import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { VelocityCounter } from "../../../src/abuse/velocity-counter";
import type { Observation } from "../../../src/abuse/velocity-tables";
import { RECORD_EVENT, RECORD_SIGHTING, ROWID_VELOCITY_TABLES, SWEEP_START, SWEEPS } from "../../../src/abuse/velocity-sql";

const DAY_MS = 86_400_000;
const T0 = 1_800_000_000_000;

const counterIn = async (test: (counter: VelocityCounter, state: DurableObjectState) => void) =>
  runInDurableObject(env.VELOCITY.getByName(`storage-${crypto.randomUUID()}`), async (counter: VelocityCounter, state) => test(counter, state));
const rowsIn = (state: DurableObjectState, query: string, ...bindings: (string | number)[]) =>
  state.storage.sql.exec<{ count: number }>(`SELECT COUNT(*) AS count FROM ${query}`, ...bindings).one().count;
const event = (key: string, atMs: number): Observation => ({ key, value: null, atMs, windowMs: 60_000 });
const sighting = (key: string, value: string, atMs: number): Observation => ({ key, value, atMs, windowMs: 300_000 });

describe("velocity counter storage: rows written", () => {
  it("writes one row per event, two per newer sighting and none for a sighting older than the one held", async () => {
    await counterIn((_counter, state) => {
      const written = (query: string, ...bindings: (string | number)[]) => {
        const cursor = state.storage.sql.exec(query, ...bindings);
        cursor.toArray();
        return cursor.rowsWritten;
      };
      const second = Math.floor(T0 / 1000);
      expect([written(RECORD_EVENT, "calls-per-cli:1", second), written(RECORD_EVENT, "calls-per-cli:1", second), written(RECORD_EVENT, "calls-per-cli:1", second + 1)]).toEqual([1, 1, 1]);
      const key = "destinations-per-cli:1";
      expect([written(RECORD_SIGHTING, key, "d", T0), written(RECORD_SIGHTING, key, "d", T0 + 5_000), written(RECORD_SIGHTING, key, "d", T0 + 1_000), written(RECORD_SIGHTING, key, "d", T0 + 5_000)]).toEqual([2, 2, 0, 0]);
      expect(state.storage.sql.exec<{ last_ms: number }>("SELECT last_ms FROM sightings WHERE key = ?", key).one().last_ms).toBe(T0 + 5_000);
      // Every index is one the counts read: the primary keys and sightings_recent, nothing on age.
      const indexes = state.storage.sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('events', 'sightings')").toArray().map(({ name }) => name);
      expect(indexes.filter((name) => !name.startsWith("sqlite_autoindex_"))).toEqual(["sightings_recent"]);

      // An earlier version run on these tables after this one (a rollback) adds its index on age; the next start drops it.
      state.storage.sql.exec("CREATE INDEX IF NOT EXISTS sightings_age ON sightings (last_ms)");
      new VelocityCounter(state, env);
      expect(written(RECORD_SIGHTING, key, "d", T0 + 9_000)).toBe(2);
    });
  });
});

describe("velocity counter storage: the sweep", () => {
  /** 128 events and 128 sightings of one key that sorts after every other: each table is owed a step of 256 rows, and barely grows. */
  const batchAt = (atMs: number) => [...Array.from({ length: 128 }, () => event("zz:now", atMs)), ...Array.from({ length: 128 }, () => sighting("zz:now", "v", atMs))];

  it("deletes the rows past the 24 h horizon within one pass, a step of twice the batch's observations, and keeps every row inside it", async () => {
    await counterIn((counter, state) => {
      const old = Array.from({ length: 1_500 }, (_, index) => [event(`calls-per-cli:old-${index}`, T0), sighting(`destinations-per-cli:old-${index}`, "d", T0)]).flat();
      const recent = Array.from({ length: 300 }, (_, index) => [event(`calls-per-cli:recent-${index}`, T0 + 7_200_000), sighting(`destinations-per-cli:recent-${index}`, "d", T0 + 7_200_000)]).flat();
      counter.observe(old);
      counter.observe(recent);
      const later = T0 + DAY_MS + 3_600_000; // the old rows are past the horizon, the recent ones are not
      const oldLeft = () => [rowsIn(state, "events WHERE key LIKE 'calls-per-cli:old-%'"), rowsIn(state, "sightings WHERE key LIKE 'destinations-per-cli:old-%'")];

      counter.observe(batchAt(later));
      for (const left of oldLeft()) {
        expect(left).toBeGreaterThanOrEqual(1_500 - 256); // the step visited 256 rows of each table
        expect(left).toBeLessThan(1_500);
      }
      for (let batch = 1; batch < 8; batch++) counter.observe(batchAt(later + batch * 1_000));
      expect(oldLeft()).toEqual([0, 0]); // about 1 800 rows per table, 256 a step: a pass takes 8 steps
      expect([rowsIn(state, "events WHERE key LIKE 'calls-per-cli:recent-%'"), rowsIn(state, "sightings WHERE key LIKE 'destinations-per-cli:recent-%'")]).toEqual([300, 300]);
    });
  });

  it("waits until a step's worth of rows is owed, so small batches share one step", async () => {
    await counterIn((counter, state) => {
      counter.observe(Array.from({ length: 1_000 }, (_, index) => event(`calls-per-cli:${String(index).padStart(4, "0")}`, T0)));
      const later = T0 + DAY_MS + 1_000;
      for (let batch = 0; batch < 127; batch++) counter.observe([event("zz:now", later + batch)]); // 254 rows owed: no step yet
      expect(rowsIn(state, "events WHERE key LIKE 'calls-per-cli:%'")).toBe(1_000);
      counter.observe([event("zz:now", later + 127)]); // 256: one step of 256 rows
      expect(rowsIn(state, "events WHERE key LIKE 'calls-per-cli:%'")).toBe(1_000 - 256);
    });
  });

  it("reads about two rows per row it visits, however many values the position's key has", async () => {
    await counterIn((counter, state) => {
      counter.observe(Array.from({ length: 5_000 }, (_, index) => sighting("clis-per-trunk:big", `cli-${String(index).padStart(4, "0")}`, T0 + index)));
      const from = ["clis-per-trunk:big", "cli-0100"];
      const boundary = state.storage.sql.exec(SWEEPS.sightings.boundary, ...from, 255);
      expect(boundary.one()).toEqual({ key: "clis-per-trunk:big", rest: "cli-0356" });
      const deleted = state.storage.sql.exec(SWEEPS.sightings.deleteTo, ...from, "clis-per-trunk:big", "cli-0356", T0 + 200);
      deleted.toArray();
      expect(deleted.rowsWritten).toBe(99); // cli-0101 … cli-0199: seen before the cutoff
      // Walking sightings_recent instead of the primary key would read all 5 000 values of the key.
      expect(boundary.rowsRead + deleted.rowsRead).toBeLessThanOrEqual(2 * 256 + 100);
    });
  });

  it("goes on after a restart from where the object last saved its position, not from the start", async () => {
    await counterIn((counter, state) => {
      counter.observe(Array.from({ length: 1_000 }, (_, index) => event(`calls-per-cli:${String(index).padStart(4, "0")}`, T0)));
      const later = T0 + DAY_MS + 1_000;
      counter.observe(batchAt(later)); // deletes calls-per-cli:0000…0255 and saves the position
      expect(state.storage.kv.get("velocity-sweep")).toMatchObject({ events: ["calls-per-cli:0255", Math.floor(T0 / 1000)] });
      // Expired rows that sort before the saved position, written after it was saved.
      for (let index = 0; index < 10; index++) state.storage.sql.exec(RECORD_EVENT, `aa:${index}`, Math.floor(T0 / 1000));

      const restarted = new VelocityCounter(state, env);
      restarted.observe(batchAt(later + 1_000));
      expect(rowsIn(state, "events WHERE key LIKE 'aa:%'")).toBe(10);
      expect(rowsIn(state, "events WHERE key LIKE 'calls-per-cli:%'")).toBe(1_000 - 512);
    });
  });

  it("saves its position only after a step has moved it, at most once a minute", async () => {
    await counterIn((counter, state) => {
      // A quiet object: one call a minute for ten minutes owes no step, so nothing is saved.
      for (let minute = 0; minute < 10; minute++) counter.observe([event("calls-per-cli:quiet", T0 + minute * 60_000)]);
      expect(state.storage.kv.get("velocity-sweep")).toBeUndefined();
      counter.observe(batchAt(T0 + 600_000)); // a step of each table: saved
      expect(state.storage.kv.get("velocity-sweep")).toEqual({ events: SWEEP_START, sightings: SWEEP_START });
      state.storage.kv.delete("velocity-sweep");
      counter.observe(batchAt(T0 + 630_000)); // another step, under a minute later: not saved yet
      expect(state.storage.kv.get("velocity-sweep")).toBeUndefined();
      counter.observe([event("calls-per-cli:quiet", T0 + 700_000)]); // a minute on, a step still unsaved: saved now
      expect(state.storage.kv.get("velocity-sweep")).toEqual({ events: SWEEP_START, sightings: SWEEP_START });
      state.storage.kv.delete("velocity-sweep");
      counter.observe([event("calls-per-cli:quiet", T0 + 800_000)]); // no step since that save: nothing to save
      expect(state.storage.kv.get("velocity-sweep")).toBeUndefined();
    });
  });

  it("starts over at the table's end, and ignores a saved position it cannot read", async () => {
    await counterIn((counter, state) => {
      counter.observe([event("calls-per-cli:a", T0)]);
      state.storage.kv.put("velocity-sweep", { events: "not a position", sightings: [1, 2, 3] });
      const restarted = new VelocityCounter(state, env);
      restarted.observe(batchAt(T0 + DAY_MS + 1_000)); // fewer rows than a step: the expired a deleted, back to the start
      expect(rowsIn(state, "events")).toBe(1);
      expect(state.storage.kv.get("velocity-sweep")).toEqual({ events: SWEEP_START, sightings: SWEEP_START });
    });
  });

  it("walks each table by its primary key", async () => {
    await counterIn((_counter, state) => {
      const planOf = (query: string, ...bindings: (string | number)[]) =>
        state.storage.sql.exec<{ detail: string }>(`EXPLAIN QUERY PLAN ${query}`, ...bindings).toArray().map(({ detail }) => detail).join("; ");
      for (const table of ["events", "sightings"] as const) {
        const statements = SWEEPS[table];
        for (const plan of [planOf(statements.boundary, "", "", 9), planOf(statements.deleteTo, "", "", "k", "v", 0), planOf(statements.deleteRest, "", "", 0)]) {
          expect(plan).toMatch(new RegExp(`^SEARCH ${table} USING PRIMARY KEY \\(\\(key,(second|value)\\)>\\(\\?,\\?\\)`));
        }
      }
    });
  });
});

describe("velocity counter storage: an object created with the earlier tables", () => {
  it("moves their rows into the new tables once, and counts on from them", async () => {
    await counterIn((_counter, state) => {
      const sql = state.storage.sql;
      sql.exec("DROP TABLE events; DROP TABLE sightings;");
      sql.exec(ROWID_VELOCITY_TABLES);
      const second = Math.floor(T0 / 1000);
      for (let index = 0; index < 5; index++) sql.exec("INSERT INTO events (key, second, count) VALUES (?, ?, ?)", "calls-per-cli:7701", second - index, 2);
      for (let index = 0; index < 7; index++) sql.exec("INSERT INTO sightings (key, value, last_ms) VALUES (?, ?, ?)", "destinations-per-cli:7701", `d${index}`, T0 - index * 1_000);

      const migrated = new VelocityCounter(state, env);
      const tables = sql.exec<{ name: string; sql: string }>("SELECT name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' ORDER BY name").toArray();
      expect(tables.map(({ name }) => name)).toEqual(["events", "sightings", "sightings_recent"]);
      for (const { name, sql: definition } of tables) if (name !== "sightings_recent") expect(definition).toMatch(/WITHOUT ROWID$/);

      expect(migrated.observe([event("calls-per-cli:7701", T0 + 500), sighting("destinations-per-cli:7701", "d-new", T0 + 500)]).counts).toEqual([
        { key: "calls-per-cli:7701", atMs: T0 + 500, count: 11, capped: false },
        { key: "destinations-per-cli:7701", atMs: T0 + 500, count: 8, capped: false },
      ]);
      new VelocityCounter(state, env); // a second start finds nothing to move
      expect(rowsIn(state, "events")).toBe(5);
      expect(rowsIn(state, "sightings")).toBe(8);
    });
  });
});
