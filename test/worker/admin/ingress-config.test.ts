import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { getConfigSection, loadOperatorConfig, putConfigSection, StoredConfigInvalidError } from "../../../src/origin/config/store";
import { markIsolateSnapshotsStale } from "../../../src/origin/snapshot";
import { NAMED, TEST_ACTOR } from "../support/auth";
import { manualClock, operatorApp } from "./support";

/**
 * The ingress map keeps one entry per trunk, and one per carrier among the entries without a trunk: an
 * ingress named twice would be judged by whichever came last, so a trunk mapped as international
 * could be judged domestic, where a national caller ID from abroad is not refused. Refused on write.
 */
const international = (name: string) => ({ trunk: name, kind: "international" as const, carrierName: "Transit Co Ltd", country: "AE" });
const domestic = (name: string) => ({ trunk: name, kind: "domestic" as const, carrierName: "Kazakhtelecom", country: "KZ" });

async function putIngress(interconnects: object[]) {
  const { app } = operatorApp(manualClock(Date.now()));
  const current = (await (await app.request("/v1/admin/config/ingress", { headers: NAMED.admin.headers }, env)).json()) as { version: number };
  return app.request(
    "/v1/admin/config/ingress",
    { method: "PUT", headers: { ...NAMED.admin.headers, "Content-Type": "application/json" }, body: JSON.stringify({ document: { interconnects }, version: current.version }) },
    env,
  );
}

afterEach(async () => {
  const current = await getConfigSection(env.DB, "ingress", "KZ");
  await putConfigSection(env.DB, "ingress", { interconnects: [], unknownIngress: { kind: "international", trustDeclared: true } }, current.version, TEST_ACTOR, Date.now(), "KZ");
  markIsolateSnapshotsStale();
});

describe("the ingress map names each ingress once", () => {
  it("refuses a trunk mapped twice, naming the later entry and the earlier", async () => {
    const response = await putIngress([international("intl-1"), domestic("kt-1"), domestic("intl-1")]);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: { code: "ERR_VALIDATION", fields: { "document.interconnects.2.trunk": 'trunk "intl-1" is already mapped by interconnects.0: each trunk is named once' } },
    });
    expect((await getConfigSection(env.DB, "ingress", "KZ")).document.interconnects).toEqual([]);
  });

  it("refuses a carrier mapped twice by entries without a trunk", async () => {
    const carrierOnly = (kind: "international" | "domestic") => ({ carrier: "SimCo", kind, carrierName: "Sim Co" });
    const response = await putIngress([carrierOnly("international"), carrierOnly("domestic")]);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { fields: { "document.interconnects.1.carrier": expect.stringContaining('carrier "SimCo" is already mapped by interconnects.0') } } });
  });

  it("accepts a trunk and a carrier of the same name, and a carrier both on a trunk entry and alone", async () => {
    const response = await putIngress([
      international("TransitCo"),
      { carrier: "TransitCo", kind: "international", carrierName: "Transit Co Ltd" },
      { trunk: "kt-1", carrier: "TransitCo", kind: "domestic", carrierName: "Kazakhtelecom" },
    ]);
    expect(response.status).toBe(200);
  });
});

describe("an interconnect names its ingress", () => {
  it("refuses an entry with neither a trunk nor a carrier", async () => {
    const response = await putIngress([{ kind: "international", carrierName: "Transit Co Ltd" }]);
    expect(response.status).toBe(400);
    expect(JSON.stringify(await response.json())).toContain("give a trunk, a carrier, or both");
  });
});

describe("the configuration store (store.ts)", () => {
  type AuditEntry = { operation: string; before: unknown; after: unknown };
  const ENTRY = { customer: "Bank", cli: { prefix: "+7727250" }, trunk: "bank-sip" };
  /** The entry as the store reads it back: the prefix canonical. */
  const READ_BACK = { ...ENTRY, cli: { prefix: "7727250" } };
  const originVersion = () => env.DB.prepare("SELECT version FROM origin_version WHERE id = 1").first<number>("version");
  const forgetAllowList = async () => (await env.DB.prepare("DELETE FROM operator_config WHERE section = 'allow-list'").run(), markIsolateSnapshotsStale());

  it("audits the first write as a creation from nothing and the next as an update from it, and bumps the origin version each time", async () => {
    await forgetAllowList();
    try {
      const before = await originVersion();
      expect(await putConfigSection(env.DB, "allow-list", { entries: [ENTRY] }, 0, TEST_ACTOR, Date.now(), "KZ")).toMatchObject({ section: { version: 1 } });
      expect(await originVersion()).toBe(before! + 1);
      expect(await putConfigSection(env.DB, "allow-list", { entries: [] }, 1, TEST_ACTOR, Date.now(), "KZ")).toMatchObject({ section: { version: 2 } });
      expect(await originVersion()).toBe(before! + 2);
      const { send } = operatorApp(manualClock(Date.now()));
      const { entries } = (await (await send("GET", "/v1/admin/audit?entity=config&id=allow-list")).json()) as { entries: AuditEntry[] };
      expect(entries.slice(0, 2)).toEqual([
        expect.objectContaining({ operation: "update", before: { entries: [READ_BACK] }, after: { entries: [] } }),
        expect.objectContaining({ operation: "create", before: null, after: { entries: [ENTRY] } }),
      ]);
    } finally {
      await forgetAllowList();
    }
  });

  it("refuses, as a conflict, a write based on a version that is not the current one", async () => {
    await forgetAllowList();
    try {
      await putConfigSection(env.DB, "allow-list", { entries: [ENTRY] }, 0, TEST_ACTOR, Date.now(), "KZ");
      expect(await putConfigSection(env.DB, "allow-list", { entries: [] }, 0, TEST_ACTOR, Date.now(), "KZ")).toMatchObject({ error: "ERR_VERSION_CONFLICT", current: { version: 1, document: { entries: [READ_BACK] } } });
      expect(await putConfigSection(env.DB, "allow-list", { entries: [] }, 7, TEST_ACTOR, Date.now(), "KZ")).toMatchObject({ error: "ERR_VERSION_CONFLICT", current: { version: 1 } });
    } finally {
      await forgetAllowList();
    }
  });

  it("surfaces a stored document that no longer validates, rather than guessing around it", async () => {
    await forgetAllowList();
    try {
      await env.DB.prepare("INSERT INTO operator_config (section, document, version, updated_at, updated_by) VALUES ('allow-list', ?, 1, 0, 'test')").bind(JSON.stringify({ entries: "everyone" })).run();
      await expect(getConfigSection(env.DB, "allow-list", "KZ")).rejects.toThrow(StoredConfigInvalidError);
      await expect(loadOperatorConfig(env.DB, "KZ")).rejects.toThrow(/stored 'allow-list' configuration no longer validates/);
    } finally {
      await forgetAllowList();
    }
  });

  it("leaves out a stored section this release does not know, as a deploy that dropped one", async () => {
    await env.DB.prepare("INSERT INTO operator_config (section, document, version, updated_at, updated_by) VALUES ('retired-section', '{}', 1, 0, 'test')").run();
    try {
      expect(Object.keys(await loadOperatorConfig(env.DB, "KZ")).sort()).toEqual(["allow-list", "attestation", "ingress", "numbering", "policy", "roaming"]);
    } finally {
      await env.DB.prepare("DELETE FROM operator_config WHERE section = 'retired-section'").run();
    }
  });
});
