import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { readOriginVersion } from "../../../src/origin/snapshot";
import { verdictVia } from "../abuse/support";
import { NAMED } from "../support/auth";
import { CALLEE } from "../support/stir";
import { manualClock, operatorApp } from "./support";

/**
 * An import's batches without `publish` leave rules no isolate enforces until the origin version moves.
 * The listing showed them exactly like rules in force, so an analyst believed a fraudster's numbers were
 * blocked; it now says `published: false`, lists just those with `?published=false`, and an admin can
 * publish what an abandoned import left with `POST /v1/admin/rules/publish`.
 */

const START = Date.parse("2026-11-27T12:00:00Z");
const exactBlock = (cli: string) => ({ criteria: { cli: { exact: cli } }, action: "block", reason: "reported robocaller" });
const unsigned = (cli: string) => ({ from: `<sip:+${cli}@carrier.example>`, to: `<sip:+${CALLEE}@operator.example>`, ingress: { trunk: "domestic-1", carrier: "DomesticCo", international: false } });
type Listed = { id: string; published: boolean };

beforeEach(async () => {
  await env.DB.batch([env.DB.prepare("DELETE FROM rules"), env.DB.prepare("DELETE FROM rule_tombstones")]);
});

/** A client that died after its first batch: two rules written, none published. */
async function abandonedImport(send: ReturnType<typeof operatorApp>["send"], clis: string[]): Promise<string[]> {
  const response = await send("POST", "/v1/admin/rules/import", { importId: crypto.randomUUID(), first: 0, rules: clis.map(exactBlock), publish: false });
  expect(response.status).toBe(200);
  return ((await response.json()) as { ids: string[] }).ids;
}

const listed = async (send: ReturnType<typeof operatorApp>["send"], query = "") => ((await (await send("GET", `/v1/admin/rules${query}`)).json()) as { rules: Listed[] }).rules;

describe("GET /v1/admin/rules says which rules are published", () => {
  it("lists an unfinished import's rules with published: false, beside the rules in force, and ?published=false lists just those", async () => {
    const { send } = operatorApp(manualClock(START));
    const inForce = ((await (await send("POST", "/v1/admin/rules", exactBlock("77272508001"))).json()) as { rule: { id: string } }).rule.id;
    const pending = await abandonedImport(send, ["77272508002", "77272508003"]);
    const all = await listed(send);
    expect(Object.fromEntries(all.map(({ id, published }) => [id, published]))).toEqual({ [inForce]: true, [pending[0]!]: false, [pending[1]!]: false });
    expect((await listed(send, "?published=false")).map(({ id }) => id).sort()).toEqual([...pending].sort());
    expect((await listed(send, "?published=true")).map(({ id }) => id)).toEqual([inForce]);
    const one = await send("GET", `/v1/admin/rules/${pending[0]}`);
    expect(await one.json()).toMatchObject({ rule: { id: pending[0], published: false } });
    expect(await (await send("GET", `/v1/admin/rules/${inForce}`)).json()).toMatchObject({ rule: { id: inForce, published: true } });
  });

  it("shows them published once the next change moves the version, whatever it changed", async () => {
    const { send } = operatorApp(manualClock(START));
    const pending = await abandonedImport(send, ["77272508011"]);
    await send("POST", "/v1/admin/rules", { criteria: { trunk: "intl-9" }, action: "tag", reason: "unrelated change" });
    expect(await (await send("GET", `/v1/admin/rules/${pending[0]}`)).json()).toMatchObject({ rule: { published: true } });
    expect(await listed(send, "?published=false")).toEqual([]);
  });
});

describe("an import's publishing batch", () => {
  it("is audited as a publish, naming who put in force what the store held unpublished, even with no rules of its own", async () => {
    const { send } = operatorApp(manualClock(START));
    await abandonedImport(send, ["77272508011", "77272508012"]);
    const before = await readOriginVersion(env.DB);
    const response = await send("POST", "/v1/admin/rules/import", { importId: crypto.randomUUID(), first: 0, rules: [], publish: true, author: "ops.aigerim" }, NAMED.analyst.headers);
    expect(response.status).toBe(200);
    expect(await readOriginVersion(env.DB)).toBe(before + 1);
    const { entries } = (await (await send("GET", "/v1/admin/audit?entity=rule&limit=1")).json()) as { entries: unknown[] };
    expect(entries).toMatchObject([{ actor: NAMED.analyst.name, author: "ops.aigerim", operation: "publish", before: { version: before, unpublished: 2 }, after: { version: before + 1, unpublished: 0 } }]);
  });

  it("counts its own rules among those it puts in force, and answers the version it published", async () => {
    const { send } = operatorApp(manualClock(START));
    const before = await readOriginVersion(env.DB);
    const response = await send("POST", "/v1/admin/rules/import", { importId: crypto.randomUUID(), first: 0, rules: [exactBlock("77272508013")], publish: true });
    expect(await response.json()).toMatchObject({ created: 1, publishedVersion: before + 1 });
    const { entries } = (await (await send("GET", "/v1/admin/audit?entity=rule&limit=1")).json()) as { entries: unknown[] };
    expect(entries).toMatchObject([{ operation: "publish", before: { version: before, unpublished: 1 }, after: { version: before + 1, unpublished: 0 } }]);
  });
});

describe("POST /v1/admin/rules/publish", () => {
  it("moves the origin version, so what an abandoned import left is published and enforced; the audit log names who did it", async () => {
    const clock = manualClock(START);
    const { app, send } = operatorApp(clock);
    await abandonedImport(send, ["77272508021", "77272508022"]);
    expect(await verdictVia(app, unsigned("77272508022"))).toMatchObject({ action: "allow" });
    const before = await readOriginVersion(env.DB);
    const response = await send("POST", "/v1/admin/rules/publish", { author: "ops.daniyar" }, NAMED.admin.headers);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ version: before + 1 });
    expect(await readOriginVersion(env.DB)).toBe(before + 1);
    expect(await listed(send, "?published=false")).toEqual([]);
    // The very next call in the isolate that published enforces them, as after any other write here.
    expect(await verdictVia(app, unsigned("77272508022"))).toMatchObject({ action: "block", decidedBy: "rules.operator" });
    const { entries } = (await (await send("GET", "/v1/admin/audit?entity=rule&limit=1")).json()) as { entries: unknown[] };
    expect(entries).toMatchObject([{ actor: NAMED.admin.name, author: "ops.daniyar", operation: "publish", before: { version: before, unpublished: 2 }, after: { version: before + 1, unpublished: 0 } }]);
  });

  it("is an admin's: an analyst is refused with 403 and the version stays", async () => {
    const { send } = operatorApp(manualClock(START));
    const before = await readOriginVersion(env.DB);
    const response = await send("POST", "/v1/admin/rules/publish", {}, NAMED.analyst.headers);
    expect(response.status).toBe(403);
    expect(await readOriginVersion(env.DB)).toBe(before);
  });

  it("refuses a member it does not define, naming it", async () => {
    const { send } = operatorApp(manualClock(START));
    const response = await send("POST", "/v1/admin/rules/publish", { importId: crypto.randomUUID() });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: "ERR_VALIDATION", fields: { "(body)": expect.stringContaining("importId") } } });
  });
});
