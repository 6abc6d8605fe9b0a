import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../../../src/app";
import { fixedClock } from "../../../src/lib/clock";
import { getConfigSection, putConfigSection } from "../../../src/origin/config/store";
import { roamingLookupFor } from "../../../src/origin/deps";
import { createCamaraRoamingLookup } from "../../../src/origin/roaming/camara-lookup";
import { roamingSettingsSchema } from "../../../src/origin/roaming/settings";
import { markIsolateSnapshotsStale } from "../../../src/origin/snapshot";
import { manualClock, operatorApp } from "../admin/support";
import { NAMED, sbcAuth, TEST_ACTOR } from "../support/auth";

/**
 * Issue 22 item 11: the CAMARA bearer token goes only to hosts the deployment allows
 * (CAMARA_ALLOWED_HOSTS, a deploy-time variable), whatever an admin token writes into the D1
 * configuration; and a CAMARA answer is bounded while it is read.
 */
const hints = { ingressCarrier: "TransitCo", ingressCountry: null };
const roamingDocument = (camaraBaseUrl: string) => ({ source: "camara" as const, camaraBaseUrl, budgetMs: 150, cacheTtlSeconds: 0 });

/** Writes the roaming section straight into D1, as settings stored before the allow-list existed were. */
async function storeRoamingSettings(document: Parameters<typeof putConfigSection<"roaming">>[2]) {
  const current = await getConfigSection(env.DB, "roaming", "KZ");
  await putConfigSection(env.DB, "roaming", document, current.version, TEST_ACTOR, Date.now(), "KZ");
  markIsolateSnapshotsStale();
}
const storeTableSource = () => storeRoamingSettings({ source: "table", budgetMs: 150, cacheTtlSeconds: 300 });

afterEach(async () => {
  vi.restoreAllMocks();
  await storeTableSource();
});

describe("the roaming configuration names only allowed CAMARA hosts", () => {
  async function putRoaming(bindings: object, camaraBaseUrl: string) {
    const { app } = operatorApp(manualClock(Date.now()));
    const current = (await (await app.request("/v1/admin/config/roaming", { headers: NAMED.admin.headers }, bindings)).json()) as { version: number };
    return app.request("/v1/admin/config/roaming", { method: "PUT", headers: { ...NAMED.admin.headers, "Content-Type": "application/json" }, body: JSON.stringify({ document: roamingDocument(camaraBaseUrl), version: current.version }) }, bindings);
  }

  it("refuses a host outside CAMARA_ALLOWED_HOSTS, naming the field", async () => {
    const response = await putRoaming(env, "https://collector.attacker.example/camara");
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: "ERR_VALIDATION", fields: { "document.camaraBaseUrl": expect.stringContaining("collector.attacker.example is not in CAMARA_ALLOWED_HOSTS") } } });
  });

  it("refuses the camara source altogether where no host is allowed", async () => {
    const response = await putRoaming({ ...env, CAMARA_ALLOWED_HOSTS: "" }, "https://camara.example");
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { fields: { "document.camaraBaseUrl": expect.stringContaining("CAMARA_ALLOWED_HOSTS is not set") } } });
  });

  it("accepts an allowed host, and subdomains of a `.domain` entry", async () => {
    const bindings = { ...env, CAMARA_ALLOWED_HOSTS: "camara.example, .roaming.operator.example" };
    expect((await putRoaming(bindings, "https://camara.example")).status).toBe(200);
    expect((await putRoaming(bindings, "https://api.roaming.operator.example/v1")).status).toBe(200);
    expect((await putRoaming(bindings, "https://roaming.operator.example.attacker.example/")).status).toBe(400);
  });
});

describe("settings stored earlier that name another host", () => {
  it("never send the token there: the lookup answers unknown without a request", async () => {
    const fetch = vi.fn<typeof globalThis.fetch>();
    const settings = roamingSettingsSchema.parse(roamingDocument("https://collector.attacker.example"));
    const lookup = roamingLookupFor(settings, { db: env.DB, camaraToken: "secret-token", camaraAllowedHosts: ["camara.example"], clock: fixedClock(0), fetch });
    expect(await lookup.lookup("77071234567", 0, hints)).toMatchObject({ status: "unknown", source: "camara", error: expect.stringContaining("not in CAMARA_ALLOWED_HOSTS") });
    expect(fetch).not.toHaveBeenCalled();
  });

  it("through /v1/verdict: the call is judged with roaming unknown, and nothing is fetched from that host", async () => {
    await storeRoamingSettings(roamingDocument("https://collector.attacker.example"));
    const fetched = vi.spyOn(globalThis, "fetch");
    const call = { from: "+77071234567", to: "+77012345678", ingress: { trunk: "intl-1", carrier: "TransitCo", international: true } };
    const response = await createApp({ sharedCache: null }).request("/v1/verdict", { method: "POST", headers: { ...sbcAuth, "Content-Type": "application/json" }, body: JSON.stringify(call) }, { ...env, CAMARA_TOKEN: "secret-token" });
    const { verdict } = (await response.json()) as { verdict: { checks: { id: string; evidence?: unknown }[] } };
    expect(verdict.checks.find((check) => check.id === "origin.roaming")).toMatchObject({ evidence: { status: "unknown", source: "camara", error: expect.stringContaining("not in CAMARA_ALLOWED_HOSTS") } });
    expect(fetched.mock.calls.map(([input]) => String(input instanceof Request ? input.url : input))).not.toContainEqual(expect.stringContaining("attacker.example"));
  });
});

describe("a CAMARA answer is bounded while it is read", () => {
  it("stops reading an endless body once past 16 KiB, and answers unknown", async () => {
    const CHUNK = new Uint8Array(4096).fill(0x20);
    let sent = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent += CHUNK.byteLength;
        // Bounded only to keep a broken implementation from spinning forever: 8 MiB.
        if (sent > 8 * 1024 * 1024) controller.close();
        else controller.enqueue(CHUNK);
      },
    });
    const lookup = createCamaraRoamingLookup({ baseUrl: "https://camara.example", token: "secret-token", fetch: async () => new Response(endless, { headers: { "Content-Type": "application/json" } }) });
    expect(await lookup.lookup("77071234567", 0, hints)).toMatchObject({ status: "unknown", error: "response larger than 16384 bytes" });
    expect(sent).toBeLessThanOrEqual(16 * 1024 + 2 * CHUNK.byteLength);
  });

  it("refuses a declared length over the bound before reading", async () => {
    let pulled = false;
    // highWaterMark 0: the stream is pulled only when someone reads it.
    const body = new ReadableStream<Uint8Array>({ pull: (controller) => ((pulled = true), controller.enqueue(new Uint8Array(1))) }, { highWaterMark: 0 });
    const lookup = createCamaraRoamingLookup({ baseUrl: "https://camara.example", token: "secret-token", fetch: async () => new Response(body, { headers: { "Content-Length": "1048576" } }) });
    expect(await lookup.lookup("77071234567", 0, hints)).toMatchObject({ status: "unknown", error: "response larger than 16384 bytes" });
    expect(pulled).toBe(false);
  });
});
