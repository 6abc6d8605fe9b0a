import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { putRoamingEntry } from "../../../src/origin/roaming/table-lookup";
import { NAMED, TEST_ACTOR } from "../support/auth";
import { manualClock, operatorApp } from "./support";

/** Issue 22 item 9: roaming table writes are versioned, and their audit rows say what each replaced. */
const START = Date.parse("2026-11-27T12:00:00Z");

type AuditEntry = { operation: string; actor: string; before: Record<string, unknown> | null; after: Record<string, unknown> | null };

async function auditOf(send: ReturnType<typeof operatorApp>["send"], tn: string): Promise<AuditEntry[]> {
  return ((await (await send("GET", `/v1/admin/audit?entity=roaming&id=${tn}`)).json()) as { entries: AuditEntry[] }).entries;
}

describe("roaming table writes", () => {
  it("of two concurrent PUTs based on the same version, one gets 409", async () => {
    const { send } = operatorApp(manualClock(START));
    const tn = "77015550001";
    const responses = await Promise.all([
      send("PUT", `/v1/admin/roaming/${tn}`, { status: "roaming", visitedCountry: "TR" }, { "If-Match": '"0"' }),
      send("PUT", `/v1/admin/roaming/${tn}`, { status: "home" }, { "If-Match": '"0"' }),
    ]);
    expect(responses.map((response) => response.status).sort()).toEqual([200, 409]);
    const written = (await responses.find((response) => response.status === 200)!.json()) as { status: string; version: number };
    expect(written.version).toBe(1);
    const refused = (await responses.find((response) => response.status === 409)!.json()) as { error: { code: string; current: unknown } };
    expect(refused.error).toMatchObject({ code: "ERR_VERSION_CONFLICT", current: { status: written.status, version: 1 } });

    const audit = await auditOf(send, tn);
    expect(audit).toEqual([expect.objectContaining({ operation: "create", before: null, after: expect.objectContaining({ status: written.status, version: 1 }) })]);
  });

  it("refuse an observedAt more than a minute ahead of the clock, naming it, and write nothing", async () => {
    const { send } = operatorApp(manualClock(START));
    const tn = "77015550009";
    const ahead = await send("PUT", `/v1/admin/roaming/${tn}`, { status: "roaming", visitedCountry: "TR", observedAt: new Date(START + 61_000).toISOString() });
    expect(ahead.status).toBe(400);
    expect(await ahead.json()).toMatchObject({ error: { code: "ERR_VALIDATION", fields: { observedAt: expect.stringMatching(/^is 61 s in the future/) } } });
    expect((await send("GET", `/v1/admin/roaming/${tn}`)).status).toBe(404);
    // A minute ahead is taken for now (a feed's clock a little fast), as check 6 takes it.
    const withinMinute = await send("PUT", `/v1/admin/roaming/${tn}`, { status: "roaming", visitedCountry: "TR", observedAt: new Date(START + 60_000).toISOString() });
    expect(withinMinute.status).toBe(200);
  });

  it("record in each audit row the entry the write replaced", async () => {
    const { send } = operatorApp(manualClock(START));
    const tn = "77015550002";
    const first = await send("PUT", `/v1/admin/roaming/${tn}`, { status: "roaming", visitedCountry: "TR" }, { "If-Match": '"0"' });
    expect(first.headers.get("ETag")).toBe('"1"');
    expect((await send("PUT", `/v1/admin/roaming/${tn}`, { status: "home" }, { "If-Match": '"1"' })).status).toBe(200);
    expect((await send("PUT", `/v1/admin/roaming/${tn}`, { status: "not-mobile" }, { "If-Match": '"1"' })).status).toBe(409);
    expect((await send("DELETE", `/v1/admin/roaming/${tn}`, undefined, { "If-Match": '"2"' })).status).toBe(204);

    expect(await auditOf(send, tn)).toEqual([
      expect.objectContaining({ operation: "delete", before: expect.objectContaining({ status: "home", version: 2 }), after: null }),
      expect.objectContaining({ operation: "update", before: expect.objectContaining({ status: "roaming", visitedCountry: "TR", version: 1 }), after: expect.objectContaining({ status: "home", version: 2 }) }),
      expect.objectContaining({ operation: "create", before: null, after: expect.objectContaining({ status: "roaming", version: 1 }) }),
    ]);
  });

  it("without If-Match apply to the entry as it is, and still audit what they replaced", async () => {
    const { send } = operatorApp(manualClock(START));
    const tn = "77015550003";
    expect((await send("PUT", `/v1/admin/roaming/${tn}`, { status: "roaming", visitedCountry: "AE" })).status).toBe(200);
    const second = await send("PUT", `/v1/admin/roaming/${tn}`, { status: "home" }, NAMED.admin.headers);
    expect(await second.json()).toMatchObject({ tn, status: "home", version: 2 });
    expect((await auditOf(send, tn))[0]).toMatchObject({ operation: "update", actor: NAMED.admin.name, before: { status: "roaming", visitedCountry: "AE", version: 1 } });
  });

  it("that both read the same version: only one applies, whatever the timing between read and write", async () => {
    const tn = "77015550005";
    await putRoamingEntry(env.DB, tn, { status: "home" }, undefined, TEST_ACTOR, START);
    // Each writer's batch waits until both have read the entry, as two isolates racing would.
    let arrived = 0;
    let release!: () => void;
    const bothRead = new Promise<void>((resolve) => (release = resolve));
    const racing = new Proxy(env.DB, {
      get(target, property) {
        if (property === "batch") {
          return async (statements: D1PreparedStatement[]) => {
            if (++arrived === 2) release();
            await bothRead;
            return target.batch(statements);
          };
        }
        const value = Reflect.get(target, property) as unknown;
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const results = await Promise.all([
      putRoamingEntry(racing, tn, { status: "roaming", visitedCountry: "TR" }, undefined, TEST_ACTOR, START),
      putRoamingEntry(racing, tn, { status: "not-mobile" }, undefined, TEST_ACTOR, START),
    ]);
    expect(results.map((result) => ("error" in result ? result.error : "written")).sort()).toEqual(["ERR_VERSION_CONFLICT", "written"]);
    const { send } = operatorApp(manualClock(START));
    const [update] = await auditOf(send, tn);
    expect(update).toMatchObject({ operation: "update", before: { status: "home", version: 1 }, after: { version: 2 } });
  });

  it("refuse a stale If-Match on delete", async () => {
    const { send } = operatorApp(manualClock(START));
    const tn = "77015550004";
    await send("PUT", `/v1/admin/roaming/${tn}`, { status: "home" });
    await send("PUT", `/v1/admin/roaming/${tn}`, { status: "roaming", visitedCountry: "GE" });
    expect((await send("DELETE", `/v1/admin/roaming/${tn}`, undefined, { "If-Match": '"1"' })).status).toBe(409);
    expect((await send("GET", `/v1/admin/roaming/${tn}`)).status).toBe(200);
  });
});
