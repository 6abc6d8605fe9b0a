import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { MeteredStorage, PeriodicSave } from "../../../src/lib/durable-storage";

/**
 * A Durable Object's storage as the replay guard and the velocity counters use it (src/lib/durable-storage.ts),
 * inside a real object's SQLite: what it reports of its rows and alarms is what `shaken_store_rows_*_total`
 * and `shaken_durable_object_requests_total` bill an operator for, and its saves bound what a restart forgets.
 */
const inObject = (work: (state: DurableObjectState) => Promise<void>) => runInDurableObject(env.REPLAY.getByName(`durable-storage-${crypto.randomUUID()}`), (_guard, state) => work(state));

describe("MeteredStorage: the rows and alarms an object reports", () => {
  it("reports the rows each statement's cursor read and wrote, and the rows it answered; then starts again from nothing", async () => {
    await inObject(async (state) => {
      const storage = new MeteredStorage(state.storage);
      storage.run("CREATE TABLE IF NOT EXISTS metered (id INTEGER PRIMARY KEY, value TEXT)");
      storage.take(); // the table's creation
      storage.run("INSERT INTO metered (id, value) VALUES (1, 'a'), (2, 'b'), (3, 'c')");
      expect(storage.take()).toMatchObject({ rowsWritten: 3, alarmsRun: 0 });
      expect(storage.rows<{ id: number }>("SELECT id FROM metered ORDER BY id")).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
      expect(storage.take()).toEqual({ rowsRead: 3, rowsWritten: 0, alarmsRun: 0 });
      expect(storage.take()).toEqual({ rowsRead: 0, rowsWritten: 0, alarmsRun: 0 });
    });
  });

  it("reports a row written for each alarm it sets and each alarm it ran", async () => {
    await inObject(async (state) => {
      const storage = new MeteredStorage(state.storage);
      await storage.setAlarm(Date.now() + 60_000);
      storage.alarmRun();
      storage.alarmRun();
      expect(storage.take()).toEqual({ rowsRead: 0, rowsWritten: 1, alarmsRun: 2 });
      expect(await state.storage.getAlarm()).not.toBeNull();
    });
  });

  it("writes all of a transaction's work or none of it", async () => {
    await inObject(async (state) => {
      const storage = new MeteredStorage(state.storage);
      storage.run("CREATE TABLE IF NOT EXISTS metered (id INTEGER PRIMARY KEY)");
      expect(() =>
        storage.transaction(() => {
          storage.run("INSERT INTO metered (id) VALUES (1)");
          throw new Error("storage fault (simulated)");
        }),
      ).toThrow(/simulated/);
      storage.transaction(() => storage.run("INSERT INTO metered (id) VALUES (2)"));
      expect(storage.rows<{ id: number }>("SELECT id FROM metered")).toEqual([{ id: 2 }]);
    });
  });
});

describe("PeriodicSave: a burst of changes costs one save", () => {
  it("sets one alarm for a burst, saves at the alarm, and sets the next alarm at the next change", async () => {
    await inObject(async (state) => {
      const storage = new MeteredStorage(state.storage);
      let saves = 0;
      const saving = new PeriodicSave(storage, 1_000, () => saves++);
      const startedAtMs = Date.now();
      await saving.changed();
      await saving.changed();
      await saving.changed();
      // One alarm, a second ahead: a row written.
      expect(storage.take()).toMatchObject({ rowsWritten: 1 });
      expect(await state.storage.getAlarm()).toBeGreaterThanOrEqual(startedAtMs + 1_000);
      await state.storage.deleteAlarm();

      saving.due();
      expect(saves).toBe(1);
      expect(storage.take()).toMatchObject({ rowsWritten: 0, alarmsRun: 1 });
      await saving.changed();
      expect(storage.take()).toMatchObject({ rowsWritten: 1 });
      expect(await state.storage.getAlarm()).not.toBeNull();
    });
  });
});
