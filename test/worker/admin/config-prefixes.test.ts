import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { getConfigSection, putConfigSection } from "../../../src/origin/config/store";
import { markIsolateSnapshotsStale } from "../../../src/origin/snapshot";
import { verdictVia } from "../abuse/support";
import { NAMED, TEST_ACTOR } from "../support/auth";
import { appAt } from "../support/stir";
import { manualClock, operatorApp } from "./support";

/**
 * A configuration keeps prefixes as international digits. Written without `+` and starting with the
 * Kazakh trunk prefix 8, a prefix is also a number dialled at home: a Do-Not-Originate entry `8800`
 * meant for the toll-free +7 800 kept +880 0 (Bangladesh), and the bank's toll-free numbers were never
 * refused as callers. Refused when written; shown with `+`, so a section read and sent back is accepted.
 */
async function send(method: "GET" | "PUT", section: string, document?: unknown) {
  const { app } = operatorApp(manualClock(Date.now()));
  const headers = { ...NAMED.admin.headers, "Content-Type": "application/json" };
  if (method === "GET") return app.request(`/v1/admin/config/${section}`, { headers }, env);
  const { version } = await getConfigSection(env.DB, section as "numbering", "KZ");
  return app.request(`/v1/admin/config/${section}`, { method: "PUT", headers, body: JSON.stringify({ document, version }) }, env);
}

describe("a configuration prefix that may be dialled at home", () => {
  it.each([
    ["numbering", { doNotOriginate: [{ exact: "77272501234" }, { prefix: "8800" }] }, "document.doNotOriginate.1.prefix", "write +7800 for that, or +8800 for the international prefix"],
    ["numbering", { typeOverrides: [{ pattern: { prefix: "8750" }, type: "voip" }] }, "document.typeOverrides.0.pattern.prefix", "write +7750 for that, or +8750"],
    ["allow-list", { entries: [{ customer: "Halyk", cli: { prefix: "8727250" }, trunk: "ent-1" }] }, "document.entries.0.cli.prefix", "write +7727250 for that"],
  ])("is refused in %s, naming the field and both readings", async (section, document, field, message) => {
    const before = await getConfigSection(env.DB, section as "numbering", "KZ");
    const response = await send("PUT", section, document);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: "ERR_VALIDATION", fields: { [field]: expect.stringContaining(message) } } });
    expect((await getConfigSection(env.DB, section as "numbering", "KZ")).version).toBe(before.version);
  });

  it("is accepted with `+`, either reading, and a prefix without `+` that no one dials at home", async () => {
    const response = await send("PUT", "numbering", { doNotOriginate: [{ prefix: "+7800" }, { prefix: "+8800" }, { prefix: "7727" }] });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { document: { doNotOriginate: unknown[] } }).document.doNotOriginate).toEqual([{ prefix: "+7800" }, { prefix: "+8800" }, { prefix: "+7727" }]);
  });

  it("+7800 written so refuses the toll-free caller ID it names", async () => {
    expect((await send("PUT", "numbering", { doNotOriginate: [{ prefix: "+7800" }] })).status).toBe(200);
    markIsolateSnapshotsStale();
    const verdict = await verdictVia(appAt(), { from: "+78001234567", to: "+77012345678", ingress: { trunk: "kt-1", carrier: "Kazakhtelecom", international: false } });
    expect(verdict.checks.find((check) => check.id === "cli.dno")).toMatchObject({ result: "fail" });
  });
});

describe("a section read and sent back", () => {
  /** A numbering section stored before the check, holding a prefix that may be dialled at home. */
  async function storeOlderNumbering() {
    const stored = await getConfigSection(env.DB, "numbering", "KZ");
    await putConfigSection(env.DB, "numbering", { ...stored.document, homeRanges: [{ prefix: "76" }], doNotOriginate: [{ prefix: "86" }] }, stored.version, TEST_ACTOR, Date.now(), "KZ");
  }

  it("is accepted as read, its prefixes shown with +, though one stored before the check could be read at home", async () => {
    await storeOlderNumbering();
    const read = (await (await send("GET", "numbering")).json()) as { document: { doNotOriginate: unknown[]; homeRanges: unknown[] } };
    expect(read.document.doNotOriginate).toEqual([{ prefix: "+86" }]);
    expect(read.document.homeRanges).toEqual([{ prefix: "+76" }]);
    expect((await send("PUT", "numbering", read.document)).status).toBe(200);
    expect((await getConfigSection(env.DB, "numbering", "KZ")).document.doNotOriginate).toEqual([{ prefix: "86" }]);
  });

  it("shows the prefixes so in GET /v1/admin/config too", async () => {
    await storeOlderNumbering();
    const { app } = operatorApp(manualClock(Date.now()));
    const all = (await (await app.request("/v1/admin/config", { headers: NAMED.admin.headers }, env)).json()) as { sections: { numbering: { document: { doNotOriginate: unknown[] } } } };
    expect(all.sections.numbering.document.doNotOriginate).toEqual([{ prefix: "+86" }]);
  });
});
