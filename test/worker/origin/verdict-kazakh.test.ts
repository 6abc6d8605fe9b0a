import { env, exports } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { getConfigSection, putConfigSection } from "../../../src/origin/config/store";
import { putRoamingEntry } from "../../../src/origin/roaming/table-lookup";
import { markIsolateSnapshotsStale } from "../../../src/origin/snapshot";
import { sbcAuth, TEST_ACTOR } from "../support/auth";

/** Issue 4's Kazakh cases through `POST /v1/verdict`, on the deployed entry point. */
async function verdictFor(from: string, ingress: { trunk: string; carrier: string; international: boolean }) {
  const response = await exports.default.fetch("http://x/v1/verdict", {
    method: "POST",
    headers: { ...sbcAuth, "Content-Type": "application/json" },
    body: JSON.stringify({ from, to: "+77012345678", ingress }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { verdict: { action: string; checks: { id: string; result: string; evidence?: Record<string, unknown> }[] } }).verdict;
}

/** The roaming section back on the table source, with `settings` added. */
async function useRoamingTable(settings: { maxObservationAgeSeconds?: number }) {
  const current = await getConfigSection(env.DB, "roaming", "KZ");
  await putConfigSection(env.DB, "roaming", { source: "table", budgetMs: 150, cacheTtlSeconds: 300, ...settings }, current.version, TEST_ACTOR, Date.now(), "KZ");
  markIsolateSnapshotsStale();
}

const international = { trunk: "intl-1", carrier: "TransitCo", international: true };
const domestic = { trunk: "kt-1", carrier: "Kazakhtelecom", international: false };
describe("Kazakh cases through /v1/verdict", () => {
  beforeAll(async () => {
    await putRoamingEntry(env.DB, "77012345678", { status: "home" }, undefined, TEST_ACTOR, Date.now());
    await putRoamingEntry(env.DB, "77051234567", { status: "roaming", visitedCountry: "TR" }, undefined, TEST_ACTOR, Date.now());
    markIsolateSnapshotsStale();
  });
  afterEach(() => vi.restoreAllMocks());

  it("+7 727… fixed on international ingress → block", async () => {
    expect((await verdictFor("+77272501234", international)).action).toBe("block");
  });
  it("+7 701… mobile with roaming=home → block (default policy)", async () => {
    expect((await verdictFor("+77012345678", international)).action).toBe("block");
  });
  it("+7 705… mobile with roaming=roaming → allow", async () => {
    expect((await verdictFor("+77051234567", international)).action).toBe("allow");
  });
  it("+7 495… Russia → allow", async () => {
    expect((await verdictFor("+74951234567", international)).action).toBe("allow");
  });
  it("+7 750… VoIP → the operator's policy (default withhold)", async () => {
    expect((await verdictFor("+77501234567", international)).action).toBe("withhold");
  });
  it.each(["+77272501234", "+77012345678", "+77501234567", "+74951234567"])("%s on domestic ingress → allow", async (from) => {
    expect((await verdictFor(from, domestic)).action).toBe("allow");
  });
  it("+7 707… mobile whose CAMARA lookup does not answer within the budget → unknown → withhold", async () => {
    await putConfigSection(env.DB, "roaming", { source: "camara", camaraBaseUrl: "https://camara.example", budgetMs: 150, cacheTtlSeconds: 0 }, 0, TEST_ACTOR, Date.now(), "KZ");
    markIsolateSnapshotsStale();
    vi.spyOn(globalThis, "fetch").mockImplementation((_input, init) => new Promise((_, reject) => init?.signal?.addEventListener("abort", () => reject(new Error("aborted")))));
    const verdict = await verdictFor("+77071234567", international);
    expect(verdict.action).toBe("withhold");
    expect(verdict.checks.find((check) => check.id === "origin.roaming")).toMatchObject({ result: "fail", evidence: { status: "unknown", source: "camara" } });
  });
  it("+7 777… mobile in the roaming table as roaming in KZ → national roaming, judged at home → block", async () => {
    await useRoamingTable({});
    await putRoamingEntry(env.DB, "77771234567", { status: "roaming", visitedCountry: "KZ" }, undefined, TEST_ACTOR, Date.now());
    const verdict = await verdictFor("+77771234567", international);
    expect(verdict.action).toBe("block");
    expect(verdict.checks.find((check) => check.id === "origin.roaming")).toMatchObject({ result: "fail", evidence: { reason: "national roaming in KZ" } });
  });
  it("+7 778… mobile roaming in TR, last observed two hours ago, with maxObservationAgeSeconds 900 → unknown → withhold", async () => {
    await useRoamingTable({ maxObservationAgeSeconds: 900 });
    await putRoamingEntry(env.DB, "77781234567", { status: "roaming", visitedCountry: "TR", observedAt: Date.now() - 7_200_000 }, undefined, TEST_ACTOR, Date.now());
    const verdict = await verdictFor("+77781234567", international);
    expect(verdict.action).toBe("withhold");
    expect(verdict.checks.find((check) => check.id === "origin.roaming")).toMatchObject({ result: "fail", evidence: { status: "roaming", judgedAs: "unknown", observationAgeSeconds: expect.any(Number) } });
  });
});
