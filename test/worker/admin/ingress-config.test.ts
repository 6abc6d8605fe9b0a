import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { getConfigSection, putConfigSection } from "../../../src/origin/config/store";
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
