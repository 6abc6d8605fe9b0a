import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../../src/app";
import { systemClock } from "../../../src/lib/clock";
import { createSnapshotCache } from "../../../src/origin/snapshot";
import { createRule } from "../../../src/rules/store";
import { checkOf, verdictVia } from "../abuse/support";
import { switchableD1 } from "../support/d1-faults";
import { CALLEE } from "../support/stir";

const unsigned = (cli: string) => ({ from: `<sip:+${cli}@carrier.example>`, to: `<sip:+${CALLEE}@operator.example>`, ingress: { trunk: "domestic-1", carrier: "DomesticCo", international: false } });
const exactBlock = (cli: string, reason: string) => ({ criteria: { cli: { exact: cli } }, action: "block" as const, reason });

describe("an exact-number rule is read from D1 on a hit, once per number and rule version", () => {
  it("reads a hit once, answers the next call on that number from the isolate, and reads again when the rules change", async () => {
    const cli = "77272504441";
    const first = await createRule(env.DB, exactBlock(cli, "reported robocaller"), { actor: "analyst", author: null }, Date.now());
    const watched = switchableD1(env.DB);
    const app = createApp({ sharedCache: null, snapshots: createSnapshotCache({ homeCountry: "KZ", clock: systemClock, refreshIntervalMs: 0 }) });
    const bindings = { ...env, DB: watched.db };
    const hitReads = () => watched.queries.filter((sql) => sql.includes("WHERE cli_key = ?1")).length;

    const verdict = await verdictVia(app, unsigned(cli), bindings);
    expect(verdict).toMatchObject({ action: "block", decidedBy: "rules.operator" });
    expect(checkOf(verdict, "rules.operator")!.evidence).toMatchObject({ rules: [{ id: first.id, reason: "reported robocaller", author: "analyst" }] });
    await verdictVia(app, unsigned(cli), bindings);
    expect(hitReads()).toBe(1);
    // A call on a number no exact rule names reads nothing.
    await verdictVia(app, unsigned("77272504442"), bindings);
    expect(hitReads()).toBe(1);

    const second = await createRule(env.DB, { ...exactBlock(cli, "second report"), action: "tag" }, { actor: "analyst", author: null }, Date.now());
    await verdictVia(app, unsigned(cli), bindings); // its version check loads the change
    const after = await verdictVia(app, unsigned(cli), bindings);
    expect((checkOf(after, "rules.operator")!.evidence!.rules as { id: string }[]).map((rule) => rule.id).sort()).toEqual([first.id, second.id].sort());
  });
});
