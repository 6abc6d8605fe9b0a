import { describe, expect, it } from "vitest";
import { adminAuth, NAMED } from "../support/auth";
import { manualClock, operatorApp } from "./support";

/**
 * Issue 22 item 10 and issue 20 "Audit": the audit log's "who" is the authenticated operator, whatever
 * the client claims; a client-supplied author is kept beside it, as its own field.
 */
const START = Date.parse("2026-11-27T12:00:00Z");
const CLAIMED = "ceo@operator.example";

type AuditEntry = { actor: string; author: string | null; entity: string; entityId: string; operation: string };

async function lastAudit(send: ReturnType<typeof operatorApp>["send"], entity: string, id: string): Promise<AuditEntry> {
  const { entries } = (await (await send("GET", `/v1/admin/audit?entity=${entity}&id=${encodeURIComponent(id)}`)).json()) as { entries: AuditEntry[] };
  return entries[0]!;
}

describe("who changed what", () => {
  it("a rule: the analyst's name, in the audit log and as the rule's author; the claimed author beside it", async () => {
    const { send } = operatorApp(manualClock(START));
    const created = await send("POST", "/v1/admin/rules", { criteria: { cli: { exact: "77272501111" } }, action: "block", reason: "audit identity", author: CLAIMED }, NAMED.analyst.headers);
    const { rule } = (await created.json()) as { rule: { id: string; author: string; version: number } };
    expect(rule.author).toBe(NAMED.analyst.name);
    expect(await lastAudit(send, "rule", rule.id)).toMatchObject({ actor: NAMED.analyst.name, author: CLAIMED, operation: "create" });

    await send("POST", `/v1/admin/rules/${rule.id}/expire`, { author: CLAIMED }, NAMED.admin.headers);
    expect(await lastAudit(send, "rule", rule.id)).toMatchObject({ actor: NAMED.admin.name, author: CLAIMED, operation: "expire" });
    await send("DELETE", `/v1/admin/rules/${rule.id}?author=${encodeURIComponent(CLAIMED)}`, undefined, NAMED.analyst.headers);
    expect(await lastAudit(send, "rule", rule.id)).toMatchObject({ actor: NAMED.analyst.name, author: CLAIMED, operation: "delete" });
  });

  it("a configuration section and a roaming entry: the admin's name", async () => {
    const { send } = operatorApp(manualClock(START));
    const current = (await (await send("GET", "/v1/admin/config/allow-list")).json()) as { version: number };
    const written = await send("PUT", "/v1/admin/config/allow-list", { document: { entries: [] }, version: current.version, author: CLAIMED }, NAMED.admin.headers);
    expect(written.status).toBe(200);
    expect(await written.json()).toMatchObject({ updatedBy: NAMED.admin.name });
    expect(await lastAudit(send, "config", "allow-list")).toMatchObject({ actor: NAMED.admin.name, author: CLAIMED });

    await send("PUT", "/v1/admin/roaming/77015559999", { status: "home", author: CLAIMED }, NAMED.admin.headers);
    expect(await lastAudit(send, "roaming", "77015559999")).toMatchObject({ actor: NAMED.admin.name, author: CLAIMED });
  });

  it("a fraud report is audited under the analyst who filed it", async () => {
    const { send } = operatorApp(manualClock(START));
    const filed = await send("POST", "/v1/reports", { victim: "+77012345678", presentedCli: "+77172580001", time: "2026-11-27T11:40:00Z", channel: "app", reporter: CLAIMED }, NAMED.analyst.headers);
    const { report } = (await filed.json()) as { report: { id: string; reporter: string } };
    expect(report.reporter).toBe(CLAIMED);
    expect(await lastAudit(send, "report", report.id)).toMatchObject({ actor: NAMED.analyst.name, author: null, operation: "create" });
  });

  it("a digest-only token is named by its digest, never by the author it claims", async () => {
    const { send } = operatorApp(manualClock(START));
    const { rule } = (await (await send("POST", "/v1/admin/rules", { criteria: { cli: { exact: "77272502222" } }, action: "tag", reason: "digest-only", author: CLAIMED }, adminAuth)).json()) as { rule: { id: string; author: string } };
    expect(rule.author).toMatch(/^admin-token:[0-9a-f]{12}$/);
    expect(await lastAudit(send, "rule", rule.id)).toMatchObject({ actor: rule.author, author: CLAIMED });
  });
});

describe("reading the audit log", () => {
  type Entry = AuditEntry & { seq: number; at: string; before: unknown; after: unknown };
  const read = async (send: ReturnType<typeof operatorApp>["send"], query: string) => {
    const response = await send("GET", `/v1/admin/audit?${query}`);
    expect(response.status).toBe(200);
    return ((await response.json()) as { entries: Entry[] }).entries;
  };

  it("pages newest first by before: each page goes on below the last seq it showed, none missed or repeated", async () => {
    const clock = manualClock(START);
    const { send } = operatorApp(clock);
    const { rule } = (await (await send("POST", "/v1/admin/rules", { criteria: { cli: { exact: "77272503333" } }, action: "block", reason: "paging the audit log" })).json()) as { rule: { id: string } };
    for (let version = 1; version <= 4; version++) {
      clock.advance(1_000);
      expect((await send("PUT", `/v1/admin/rules/${rule.id}`, { criteria: { cli: { exact: "77272503333" } }, action: "block", reason: `change ${version}`, version })).status).toBe(200);
    }
    const all = await read(send, `entity=rule&id=${rule.id}`);
    expect(all.map(({ operation }) => operation)).toEqual(["update", "update", "update", "update", "create"]);
    expect(all.map(({ at }) => at)).toEqual(["2026-11-27T12:00:04.000Z", "2026-11-27T12:00:03.000Z", "2026-11-27T12:00:02.000Z", "2026-11-27T12:00:01.000Z", "2026-11-27T12:00:00.000Z"]);
    const first = await read(send, `entity=rule&id=${rule.id}&limit=2`);
    const second = await read(send, `entity=rule&id=${rule.id}&limit=2&before=${first.at(-1)!.seq}`);
    const third = await read(send, `entity=rule&id=${rule.id}&limit=2&before=${second.at(-1)!.seq}`);
    expect([...first, ...second, ...third]).toEqual(all);
    expect(await read(send, `entity=rule&id=${rule.id}&before=${all.at(-1)!.seq}`)).toEqual([]);
  });

  it("filters by entity and id: another entity's row under the same id is not listed", async () => {
    const { send } = operatorApp(manualClock(START));
    await send("PUT", "/v1/admin/roaming/77015558888", { status: "home" }, NAMED.admin.headers);
    expect((await read(send, "entity=roaming&id=77015558888")).map(({ entity, entityId }) => [entity, entityId])).toEqual([["roaming", "77015558888"]]);
    expect(await read(send, "entity=rule&id=77015558888")).toEqual([]);
    expect((await read(send, "id=77015558888")).map(({ entity }) => entity)).toEqual(["roaming"]);
  });
});
