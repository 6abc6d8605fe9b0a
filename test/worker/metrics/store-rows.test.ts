import { describe, expect, it } from "vitest";
import { replayStoreFrom } from "../../../src/abuse/replay";
import type { ReplayGuard } from "../../../src/abuse/replay-guard";
import { velocityStoreFrom } from "../../../src/abuse/velocity";
import type { VelocityCounter } from "../../../src/abuse/velocity-counter";
import { env } from "cloudflare:workers";
import { createApp } from "../../../src/app";
import { recordCertificateCacheLookup } from "../../../src/metrics/record";
import { meteredD1 } from "../support/d1";
import { DOMESTIC, growthDuring, INTERNATIONAL, postVerdictAndSettle, scrape, unsignedCall } from "./support";

/**
 * Issue 19: what a verdict costs is mostly the rows its stores write, so each store counts what its
 * storage reported doing (shaken_store_rows_written_total, shaken_store_rows_read_total) and each
 * Durable Object request (shaken_durable_object_requests_total), by store. The bench reads these.
 */
const WRITTEN = (store: string) => `shaken_store_rows_written_total{store="${store}"}`;
const READ = (store: string) => `shaken_store_rows_read_total{store="${store}"}`;
const REQUESTS = (store: string) => `shaken_durable_object_requests_total{store="${store}"}`;

describe("rows the D1 stores wrote and read", () => {
  it("are what D1 reported for each of their statements (meta.rows_written, meta.rows_read), store by store", async () => {
    const { db, rowsRead, rowsWritten } = meteredD1();
    const growth = await growthDuring(async (app) => {
      for (const call of [unsignedCall("+77272501234", INTERNATIONAL), unsignedCall("+77272501235", DOMESTIC)]) await postVerdictAndSettle(app, call, { ...env, DB: db });
    });
    expect(rowsWritten()).toBeGreaterThan(0);
    expect(growth(WRITTEN("stats")) + growth(WRITTEN("recent-verdicts"))).toBe(rowsWritten());
    expect(growth(READ("stats")) + growth(READ("recent-verdicts"))).toBe(rowsRead());
    expect(growth(WRITTEN("recent-verdicts"))).toBeGreaterThan(0);
    expect(growth(WRITTEN("stats"))).toBeGreaterThan(0);
  });

  it("count the metrics' own flush, whose rows show in the scrape after it", async () => {
    const app = createApp();
    await scrape(app);
    recordCertificateCacheLookup(true);
    const flushed = await scrape(app); // writes the increment: a row written, counted after the write
    const next = await scrape(app);
    expect((next.get(WRITTEN("metrics")) ?? 0) - (flushed.get(WRITTEN("metrics")) ?? 0)).toBeGreaterThanOrEqual(1);
  });
});

describe("rows and requests of the Durable Object stores", () => {
  const storage = { rowsRead: 3, rowsWritten: 5, alarmsRun: 2 };

  it("count each velocity call, the alarms and rows the object's answer reports", async () => {
    const namespace = { getByName: () => ({ observe: async () => ({ counts: [], storage }) }) } as unknown as DurableObjectNamespace<VelocityCounter>;
    const growth = await growthDuring(() => velocityStoreFrom(namespace).observe("shard-00", []));
    expect([growth(REQUESTS("velocity")), growth(WRITTEN("velocity")), growth(READ("velocity"))]).toEqual([1 + 2, 5, 3]);
  });

  it("count each replay presentation, the alarms and rows the object's answer reports, and hand the judgement the record alone", async () => {
    const record = { presentations: 1, firstSeenAtMs: 1, legs: ["sip:a"], newLeg: true, sameCall: null };
    const namespace = { getByName: () => ({ present: async () => ({ ...record, storage }) }) } as unknown as DurableObjectNamespace<ReplayGuard>;
    let answered: unknown;
    const growth = await growthDuring(async () => {
      answered = await replayStoreFrom(namespace).present({ signingInput: "ab", leg: "sip:a", callId: null, atMs: 1, expiresAtMs: 2 });
    });
    expect(answered).toEqual(record);
    expect([growth(REQUESTS("replay")), growth(WRITTEN("replay")), growth(READ("replay"))]).toEqual([1 + 2, 5, 3]);
  });

  it("count a call that failed as a request too", async () => {
    const namespace = { getByName: () => ({ observe: async () => Promise.reject(new Error("overloaded")) }) } as unknown as DurableObjectNamespace<VelocityCounter>;
    const growth = await growthDuring(() => velocityStoreFrom(namespace).observe("shard-00", []).catch(() => null));
    expect(growth(REQUESTS("velocity"))).toBe(1);
  });
});
