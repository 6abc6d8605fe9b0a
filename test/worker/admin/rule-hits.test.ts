import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../../../src/app";
import { markIsolateSnapshotsStale } from "../../../src/origin/snapshot";
import { DOMESTIC, postVerdictAndSettle } from "../metrics/support";
import { NAMED } from "../support/auth";
import { emptyRetainedTables, manualClock, operatorApp, statsAt } from "./support";

/**
 * Per-rule hits (issue 20 "Monitor mode", the rules page): each verdict counts a hit on every rule its
 * call matched, enforced or monitored, deciding or not; `GET /v1/stats/rules?ids=` sums them over the
 * last 24 hours and 7 days. The overview chart's "would have" series is `/v1/stats` byHour's
 * byMonitoredAction.
 */
const T0 = Date.parse("2026-11-30T10:00:00Z");
const HOUR = 3_600_000;
const NOW = T0 + HOUR / 2;

beforeEach(emptyRetainedTables);

let cliCount = 0;
/** Two domestic mobile numbers nothing but an operator rule stops, new ones per test (the tests share one database). */
function numbers() {
  const base = `7701222${String(++cliCount).padStart(3, "0")}`;
  return { x: `${base}1`, y: `${base}2`, prefix: base };
}

async function createRule(body: Record<string, unknown>): Promise<string> {
  const response = await operatorApp(manualClock(T0)).send("POST", "/v1/admin/rules", { reason: "bank impersonation wave", ...body }, NAMED.analyst.headers);
  expect(response.status).toBe(201);
  markIsolateSnapshotsStale();
  return ((await response.json()) as { rule: { id: string } }).rule.id;
}

const callAt = async (atMs: number, cli: string, bindings: object = env) => {
  const response = await postVerdictAndSettle(createApp({ clock: manualClock(atMs) }), { from: `+${cli}`, to: "+77012345678", ingress: DOMESTIC }, bindings);
  return ((await response.json()) as { verdict: { action: string } }).verdict.action;
};

const hitsOf = (ids: string, headers: Record<string, string> = NAMED.viewer.headers) => operatorApp(manualClock(NOW)).send("GET", `/v1/stats/rules?ids=${ids}`, undefined, headers);

describe("GET /v1/stats/rules: each rule's hits over 24 hours and 7 days, enforced and monitored", () => {
  it("counts every match, deciding or not, apart by mode, in its period", async () => {
    const { x, y, prefix } = numbers();
    const enforced = await createRule({ criteria: { cli: { exact: `+${x}` } }, action: "block" });
    const monitored = await createRule({ criteria: { cli: { prefix: `+${prefix}` } }, action: "tag", mode: "monitor" });
    // At T0: x blocked by the enforced rule with the monitored one beside it; y only monitored; x again with the whole policy monitored.
    expect([await callAt(T0, x), await callAt(T0 + 1000, y), await callAt(T0 + 2000, x, { ...env, POLICY_MODE: "monitor" })]).toEqual(["block", "allow", "allow"]);
    // Three days before: within the week, not the day. Eight days before: in neither.
    await callAt(T0 - 72 * HOUR, x);
    await callAt(T0 - 192 * HOUR, x);

    const response = await hitsOf(`${enforced},${monitored}`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      periods: { day: { from: "2026-11-29T11:00:00Z", to: "2026-11-30T10:59:59Z" }, week: { from: "2026-11-23T11:00:00Z", to: "2026-11-30T10:59:59Z" } },
      rules: [
        { id: enforced, enforced: { day: 1, week: 2 }, monitored: { day: 1, week: 1 } },
        { id: monitored, enforced: { day: 0, week: 0 }, monitored: { day: 3, week: 4 } },
      ],
    });
  });

  it("counts a match of an allowing rule, which decides nothing", async () => {
    const { x } = numbers();
    const allowing = await createRule({ criteria: { cli: { exact: `+${x}` } }, action: "allow" });
    expect(await callAt(T0, x)).toBe("allow");
    expect(await (await hitsOf(allowing)).json()).toMatchObject({ rules: [{ id: allowing, enforced: { day: 1, week: 1 }, monitored: { day: 0, week: 0 } }] });
  });

  it("counts an allowing rule's match as monitored while the whole policy is (POLICY_MODE=monitor)", async () => {
    const { x } = numbers();
    const allowing = await createRule({ criteria: { cli: { exact: `+${x}` } }, action: "allow" });
    expect(await callAt(T0, x, { ...env, POLICY_MODE: "monitor" })).toBe("allow");
    expect(await (await hitsOf(allowing)).json()).toMatchObject({ rules: [{ id: allowing, enforced: { day: 0, week: 0 }, monitored: { day: 1, week: 1 } }] });
  });

  it("counts the rules From's number matched beside those the caller ID matched, and lists both in the verdict", async () => {
    // From presenting another number than P-Asserted-Identity is judged too. When both numbers matched
    // rules, the verdict kept one number's operator-rules check: the other's rules decided the call but
    // were neither listed nor counted, so a rule blocking a spoofer behind a P-Asserted-Identity under
    // some broad rule read 0 hits, and looked dead.
    const { x, y } = numbers();
    const onPai = await createRule({ criteria: { cli: { exact: `+${x}` } }, action: "tag" });
    const onFrom = await createRule({ criteria: { cli: { exact: `+${y}` } }, action: "block", mode: "monitor" });
    const response = await postVerdictAndSettle(createApp({ clock: manualClock(T0) }), { pai: `+${x}`, from: `+${y}`, to: "+77012345678", ingress: DOMESTIC });
    const { verdict } = (await response.json()) as { verdict: { action: string; monitored?: { by: string }[]; checks: { id: string; evidence?: { matched?: number; rules?: { id: string }[] } }[] } };
    expect(verdict.action).toBe("tag");
    expect(verdict.monitored).toMatchObject([{ by: onFrom }]);
    const rulesCheck = verdict.checks.find((check) => check.id === "rules.operator");
    expect(rulesCheck?.evidence).toMatchObject({ matched: 2 });
    expect(rulesCheck?.evidence?.rules?.map((rule) => rule.id)).toEqual([onPai, onFrom]);
    expect(await (await hitsOf(`${onPai},${onFrom}`)).json()).toMatchObject({
      rules: [
        { id: onPai, enforced: { day: 1, week: 1 }, monitored: { day: 0, week: 0 } },
        { id: onFrom, enforced: { day: 0, week: 0 }, monitored: { day: 1, week: 1 } },
      ],
    });
  });

  it("answers zeros for a rule nothing matched", async () => {
    const id = crypto.randomUUID();
    expect(await (await hitsOf(id)).json()).toMatchObject({ rules: [{ id, enforced: { day: 0, week: 0 }, monitored: { day: 0, week: 0 } }] });
  });

  it.each([
    ["no ids", ""],
    ["an id that is no rule id", "not-a-rule"],
    ["too many ids", Array.from({ length: 201 }, () => crypto.randomUUID()).join(",")],
  ])("400 naming ids (or the bad one, ids.<n>) for %s", async (_case, ids) => {
    const response = await hitsOf(ids);
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as { error: { code: string; fields: Record<string, string> } };
    expect(error.code).toBe("ERR_VALIDATION");
    expect(Object.keys(error.fields)).toEqual([expect.stringMatching(/^ids(\.0)?$/)]);
  });
});

describe("/v1/stats byHour: the overview chart's would-have series", () => {
  it("gives each hour's verdicts by what monitored rules and entries would have done, beside what was done", async () => {
    const { x, y, prefix } = numbers();
    await createRule({ criteria: { cli: { exact: `+${x}` } }, action: "block" });
    await createRule({ criteria: { cli: { prefix: `+${prefix}` } }, action: "tag", mode: "monitor" });
    await callAt(T0, x);
    await callAt(T0, y);
    await callAt(T0, x, { ...env, POLICY_MODE: "monitor" });
    const { byHour } = await statsAt(NOW, "");
    expect(byHour).toEqual([{ hour: "2026-11-30T10", hours: 1, calls: 3, byAction: { block: 1, allow: 2 }, byMonitoredAction: { tag: 2, block: 1 } }]);
  });
});
