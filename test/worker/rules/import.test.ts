import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { readOriginVersion } from "../../../src/origin/snapshot";
import { verdictVia } from "../abuse/support";
import { manualClock, operatorApp } from "../admin/support";
import { CALLEE } from "../support/stir";

const START = Date.parse("2026-11-27T12:00:00Z");
const exactBlock = (cli: string) => ({ criteria: { cli: { exact: cli } }, action: "block", reason: "reported robocaller" });
const unsigned = (cli: string) => ({ from: `<sip:+${cli}@carrier.example>`, to: `<sip:+${CALLEE}@operator.example>`, ingress: { trunk: "domestic-1", carrier: "DomesticCo", international: false } });

describe("POST /v1/admin/rules/import: an import moves the origin version once", () => {
  it("writes unpublished batches without a version bump, and the publishing batch puts them all in force", async () => {
    const { app, send } = operatorApp(manualClock(START));
    const importId = crypto.randomUUID();
    const before = await readOriginVersion(env.DB);
    const first = await send("POST", "/v1/admin/rules/import", { importId, first: 0, rules: [exactBlock("77272511111"), exactBlock("77272511112")], publish: false });
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ importId, created: 2, publishedVersion: null, ids: [expect.any(String), expect.any(String)] });
    expect(await readOriginVersion(env.DB)).toBe(before);

    const last = await send("POST", "/v1/admin/rules/import", { importId, first: 2, rules: [exactBlock("77272511113")] });
    expect(await last.json()).toMatchObject({ created: 1, publishedVersion: before + 1 });
    expect(await readOriginVersion(env.DB)).toBe(before + 1);
    for (const cli of ["77272511111", "77272511113"]) expect(await verdictVia(app, unsigned(cli))).toMatchObject({ action: "block", decidedBy: "rules.operator" });
  });

  it("sending a batch again after a lost answer writes nothing twice", async () => {
    const { send } = operatorApp(manualClock(START));
    const batch = { importId: crypto.randomUUID(), first: 0, rules: [exactBlock("77272522221")] };
    const sent = (await (await send("POST", "/v1/admin/rules/import", batch)).json()) as { ids: string[] };
    const again = await send("POST", "/v1/admin/rules/import", batch);
    expect(await again.json()).toMatchObject({ ids: sent.ids, created: 0 });
    const { rules } = (await (await send("GET", "/v1/admin/rules?cli=77272522221")).json()) as { rules: unknown[] };
    expect(rules).toHaveLength(1);
  });

  it("refuses the whole batch when one rule is invalid, naming it by its place in the batch", async () => {
    const { send } = operatorApp(manualClock(START));
    const before = await readOriginVersion(env.DB);
    const response = await send("POST", "/v1/admin/rules/import", { importId: crypto.randomUUID(), first: 0, rules: [exactBlock("77272533331"), exactBlock("not digits")] });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: "ERR_VALIDATION", fields: { "rules.1.criteria.cli.exact": expect.any(String) } } });
    const { rules } = (await (await send("GET", "/v1/admin/rules?cli=77272533331")).json()) as { rules: unknown[] };
    expect(rules).toHaveLength(0);
    expect(await readOriginVersion(env.DB)).toBe(before);
  });

  it("refuses more than 1 000 rules in one batch", async () => {
    const { send } = operatorApp(manualClock(START));
    const rules = Array.from({ length: 1_001 }, (_, index) => exactBlock(String(77_272_540_000 + index)));
    const response = await send("POST", "/v1/admin/rules/import", { importId: crypto.randomUUID(), first: 0, rules });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { fields: { rules: expect.any(String) } } });
  });
});
