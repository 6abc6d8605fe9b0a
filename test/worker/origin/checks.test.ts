import { describe, expect, it } from "vitest";
import { assessOrigin, withOtherCaller, type SignedCallSummary } from "../../../src/origin/assess";
import { ruleHitsOf } from "../../../src/origin/checks/operator-rules";
import { DEFAULT_POLICY } from "../../../src/origin/policy";
import { compileOriginSnapshot } from "../../../src/origin/snapshot";
import { configWith } from "./support";
import { checkNamed, clockAt, depsFor, NOW_SECONDS, mostSevereAction, roamingTable, ruleFixture, sketchCall, type CallSketch, type ConfigSketch } from "./support";
import { createCamaraRoamingLookup } from "../../../src/origin/roaming/camara-lookup";
import { withIsolateCache, type RoamingAnswer, type RoamingLookup } from "../../../src/origin/roaming/lookup";
import type { Rule } from "../../../src/rules/rule";
import type { Clock } from "../../../src/lib/clock";

async function assess(call: CallSketch, options: { config?: ConfigSketch; rules?: Rule[]; roaming?: RoamingLookup; signed?: SignedCallSummary; clock?: Clock } = {}) {
  const assessment = await assessOrigin(sketchCall(call), options.signed ?? null, depsFor(options));
  return { ...assessment, action: mostSevereAction(assessment.findings), result: (id: string) => checkNamed(assessment.checks, id).result };
}

const domestic = { trunk: "kt-1", carrier: "Kazakhtelecom", international: false };

describe("check 1 — cli.format", () => {
  it("passes a well-formed number", async () => {
    expect((await assess({ cli: "+74951234567" })).result("cli.format")).toBe("pass");
  });
  it.each([
    ["missing", null],
    ["not-a-number", "anonymous"],
    ["unknown-country-code", "+999123456789"],
    ["wrong-length", "+7727250123"],
  ])("blocks a %s caller ID", async (problem, cli) => {
    const { checks, findings } = await assess({ cli });
    expect(checkNamed(checks, "cli.format")).toMatchObject({ result: "fail", evidence: { problem } });
    expect(findings).toContainEqual(expect.objectContaining({ checkId: "cli.format", action: "block", sipCode: 608 }));
  });
  it("takes a caller ID of blanks for a missing one", async () => {
    expect(checkNamed((await assess({ cli: "   " })).checks, "cli.format")).toMatchObject({ result: "fail", detail: "the call presents no caller ID", evidence: { problem: "missing" } });
  });
  it("names a caller ID of more than 15 digits too long, and one of 15 digits and a letter no number", async () => {
    expect(checkNamed((await assess({ cli: "+7727250123456789" })).checks, "cli.format")).toMatchObject({ result: "fail", evidence: { problem: "too-long", presented: "+7727250123456789" } });
    expect(checkNamed((await assess({ cli: "+772725012345678x" })).checks, "cli.format")).toMatchObject({ result: "fail", evidence: { problem: "not-a-number" } });
  });
  it("fails a caller ID the SIP grammar cannot read, showing at most 256 characters of it", async () => {
    const unreadable = { raw: `<sip:${"7".repeat(300)}`, tn: null, unreadable: "the From header is not a name-addr" };
    const { checks, findings } = await assessOrigin({ ...sketchCall({ cli: null }), from: unreadable, cli: unreadable, cliSource: "from" }, null, depsFor());
    expect(checkNamed(checks, "cli.format")).toEqual({
      id: "cli.format",
      result: "fail",
      detail: "the caller ID cannot be read: the From header is not a name-addr",
      evidence: { problem: "unreadable", presented: unreadable.raw.slice(0, 256) },
    });
    expect(findings).toContainEqual(expect.objectContaining({ checkId: "cli.format", action: "block", sipCode: 608 }));
  });
  it("shows at most 256 characters of a caller ID that is no number", async () => {
    const { checks } = await assess({ cli: "x".repeat(300) });
    expect(checkNamed(checks, "cli.format")).toMatchObject({ result: "fail", evidence: { problem: "not-a-number", presented: "x".repeat(256) } });
  });
});

describe("the policy table", () => {
  it("an entry in monitor mode gives a monitored finding; an allowing entry gives none", async () => {
    const config = { numbering: { doNotOriginate: [{ exact: "77272587000" }] }, policy: { outcomes: { "cli.dno": { action: "block" as const, mode: "monitor" as const }, "cli.allocated": { action: "allow" as const } } } };
    const { findings } = await assess({ cli: "+77272587000", ...domestic }, { config });
    expect(findings).toEqual([{ checkId: "cli.dno", action: "block", reason: "the caller ID is on the Do-Not-Originate list", sipCode: 603, monitored: true }]);
    expect((await assess({ cli: "+77092345678", ...domestic }, { config })).findings).toEqual([]);
  });
});

describe("check 2 — cli.allocated", () => {
  it("passes an assigned number", async () => {
    expect((await assess({ cli: "+77272501234", ...domestic })).result("cli.allocated")).toBe("pass");
  });
  it("fails a number in an unassigned range (+7 709…)", async () => {
    const { result, action } = await assess({ cli: "+77092345678", ...domestic });
    expect([result("cli.allocated"), action]).toEqual(["fail", "block"]);
  });
  it("fails a home number outside the operator's allocation inventory", async () => {
    const config = { numbering: { allocated: [{ prefix: "7701" }] } };
    expect((await assess({ cli: "+77272501234", ...domestic }, { config })).result("cli.allocated")).toBe("fail");
    expect((await assess({ cli: "+77012345678", ...domestic }, { config })).result("cli.allocated")).toBe("pass");
  });
  it("fails a block the operator lists as not in service", async () => {
    const config = { numbering: { notInService: [{ from: "77272500000", to: "77272509999" }] } };
    expect((await assess({ cli: "+77272501234", ...domestic }, { config })).result("cli.allocated")).toBe("fail");
  });
});

describe("check 3 — cli.type", () => {
  it("passes a fixed or mobile number", async () => {
    expect((await assess({ cli: "+77012345678", ...domestic })).result("cli.type")).toBe("pass");
  });
  it.each([
    ["emergency", "112"],
    ["emergency", "102"],
    ["short-code", "1414"],
    ["toll-free", "+78001234567"],
    ["premium", "+78091234567"],
  ])("blocks a %s number (%s) as caller", async (type, cli) => {
    const { checks, action } = await assess({ cli, ...domestic });
    expect(checkNamed(checks, "cli.type")).toMatchObject({ result: "fail", evidence: { type } });
    expect(action).toBe("block");
  });
});

describe("check 4 — cli.dno", () => {
  const config = { numbering: { doNotOriginate: [{ exact: "77272587000" }] } };
  it("blocks a Do-Not-Originate number presented as caller", async () => {
    const { result, findings } = await assess({ cli: "+77272587000", ...domestic }, { config });
    expect(result("cli.dno")).toBe("fail");
    expect(findings).toContainEqual(expect.objectContaining({ checkId: "cli.dno", action: "block" }));
  });
  it("passes a number not on the list", async () => {
    expect((await assess({ cli: "+77272501234", ...domestic }, { config })).result("cli.dno")).toBe("pass");
  });
});

describe("check 5 — origin.national-on-international (Kazakh cases, international ingress)", () => {
  it("+7 727… fixed → block", async () => {
    const { result, action, findings } = await assess({ cli: "+77272501234" });
    expect(result("origin.national-on-international")).toBe("fail");
    expect(action).toBe("block");
    expect(findings).toContainEqual({ checkId: "origin.national-on-international", action: "block", sipCode: 608, reason: expect.stringContaining("fixed") });
  });
  it("+7 495… Russia → allow", async () => {
    const { result, action } = await assess({ cli: "+74951234567" });
    expect([result("origin.national-on-international"), action]).toEqual(["pass", "allow"]);
  });
  it("+7 750… VoIP → the operator's policy (default withhold)", async () => {
    expect((await assess({ cli: "+77501234567" })).action).toBe("withhold");
    const config = { policy: { outcomes: { "origin.national-on-international:voip": { action: "block" as const, sipCode: 603 as const } } } };
    expect((await assess({ cli: "+77501234567" }, { config })).findings).toContainEqual(expect.objectContaining({ action: "block", sipCode: 603 }));
  });
  it("a home number of unknown type (6xx zone) → withhold", async () => {
    const config = { policy: { outcomes: { "cli.allocated": { action: "allow" as const } } } };
    const { checks, result, action } = await assess({ cli: "+76001234567" }, { config });
    expect([result("origin.national-on-international"), action]).toEqual(["fail", "withhold"]);
    expect(checkNamed(checks, "origin.national-on-international").detail).toBe("a national caller ID on an international interconnect");
  });
  it.each(["+77272501234", "+77012345678", "+77501234567", "+74951234567"])("%s on domestic ingress → allow", async (cli) => {
    const roaming = roamingTable({});
    const { result, action } = await assess({ cli, ...domestic }, { roaming });
    expect([result("origin.national-on-international"), action]).toEqual(["pass", "allow"]);
    expect(roaming.asked).toEqual([]);
  });
});

describe("check 6 — origin.roaming", () => {
  it("+7 701… with roaming=roaming → allow", async () => {
    const { result, action } = await assess({ cli: "+77012345678" }, { roaming: roamingTable({ "77012345678": "roaming" }) });
    expect([result("origin.roaming"), action]).toEqual(["pass", "allow"]);
  });
  it("+7 701… with roaming=home → block by default, withhold when the policy says so", async () => {
    const roaming = roamingTable({ "77012345678": "home" });
    expect((await assess({ cli: "+77012345678" }, { roaming })).action).toBe("block");
    const config = { policy: { outcomes: { "origin.roaming:home": { action: "withhold" as const } } } };
    const { result, action } = await assess({ cli: "+77012345678" }, { roaming, config });
    expect([result("origin.roaming"), action]).toEqual(["fail", "withhold"]);
  });
  it("lookup answers unknown → withhold, with the source's error as evidence", async () => {
    const failing: RoamingLookup = { lookup: async () => ({ status: "unknown", observedAt: null, source: "camara", error: "no answer within the 150 ms budget" }) };
    const { checks, action } = await assess({ cli: "+77012345678" }, { roaming: failing });
    expect(checkNamed(checks, "origin.roaming")).toMatchObject({ result: "fail", evidence: { status: "unknown", error: expect.stringContaining("150 ms") } });
    expect(action).toBe("withhold");
  });
  it("says when the source observed its answer, and names a visited country only for a subscriber roaming", async () => {
    const observedAt = NOW_SECONDS * 1000 - 60_000;
    const home: RoamingLookup = { lookup: async () => ({ status: "home", observedAt, source: "fixture" }) };
    expect(checkNamed((await assess({ cli: "+77012345678" }, { roaming: home })).checks, "origin.roaming")).toMatchObject({
      result: "fail",
      evidence: { status: "home", visitedCountry: null, observedAt: "2026-11-27T11:59:00.000Z", source: "fixture" },
    });
    const failing: RoamingLookup = { lookup: async () => ({ status: "unknown", observedAt: null, source: "fixture" }) };
    expect(checkNamed((await assess({ cli: "+77012345678" }, { roaming: failing })).checks, "origin.roaming")).toMatchObject({ result: "fail", evidence: { status: "unknown", visitedCountry: null, observedAt: null } });
  });
  it("is not consulted for a foreign or a fixed CLI", async () => {
    const roaming = roamingTable({});
    await assess({ cli: "+79161234567" }, { roaming });
    await assess({ cli: "+77272501234" }, { roaming });
    expect(roaming.asked).toEqual([]);
  });
});

/** A roaming source that answers every number with `answer`. */
const answering = (answer: Partial<RoamingAnswer>): RoamingLookup => ({ lookup: async () => ({ status: "roaming", observedAt: null, source: "fixture", ...answer }) });

/** A CAMARA server answering every request with `body` (cli-spoofing.md §3: `{roaming, countryCode, countryName[], lastStatusTime}`). */
const camaraAnswering = (body: object): RoamingLookup => createCamaraRoamingLookup({ baseUrl: "https://camara.example", token: "t", fetch: (async () => Response.json(body)) as typeof fetch });

describe("check 6 — national roaming is not abroad", () => {
  it.each([
    ["the roaming table", answering({ visitedCountry: "KZ" })],
    ["CAMARA naming the country", camaraAnswering({ roaming: true, countryName: ["KZ"] })],
    ["CAMARA naming the country in lower case", camaraAnswering({ roaming: true, countryName: ["kz"] })],
    ["CAMARA giving only the MCC", camaraAnswering({ roaming: true, countryCode: 401 })],
    ["CAMARA giving the home MCC with no country name", camaraAnswering({ roaming: true, countryCode: 401, countryName: [] })],
  ])("a subscriber roaming in the home country by %s is judged at home: blocked by default", async (_, roaming) => {
    const { checks, findings, action } = await assess({ cli: "+77012345678" }, { roaming });
    expect(checkNamed(checks, "origin.roaming")).toMatchObject({ result: "fail", detail: expect.stringContaining("national roaming in KZ"), evidence: { status: "roaming", judgedAs: "home", reason: "national roaming in KZ" } });
    expect(findings).toContainEqual(expect.objectContaining({ checkId: "origin.roaming", action: "block" }));
    expect(action).toBe("block");
  });
  it("follows the origin.roaming:home policy entry", async () => {
    const config = { policy: { outcomes: { "origin.roaming:home": { action: "withhold" as const } } } };
    expect((await assess({ cli: "+77012345678" }, { roaming: answering({ visitedCountry: "KZ" }), config })).action).toBe("withhold");
  });
  it("roaming in another country, by name or by MCC, still passes", async () => {
    for (const roaming of [answering({ visitedCountry: "TR" }), camaraAnswering({ roaming: true, countryCode: 286, countryName: ["TR"] }), camaraAnswering({ roaming: true, countryCode: 250 })]) {
      const { result, action } = await assess({ cli: "+77012345678" }, { roaming });
      expect([result("origin.roaming"), action]).toEqual(["pass", "allow"]);
    }
  });
  it("the home MCCs are the roaming section's homeMccs when the operator lists them", async () => {
    const config = { roaming: { homeMccs: ["402"] } };
    expect((await assess({ cli: "+77012345678" }, { roaming: camaraAnswering({ roaming: true, countryCode: 402 }), config })).action).toBe("block");
    expect((await assess({ cli: "+77012345678" }, { roaming: camaraAnswering({ roaming: true, countryCode: 401 }), config })).action).toBe("allow");
  });
  it("CAMARA naming several countries for the visited network, the home country among them, is unknown: withheld by default", async () => {
    for (const countryName of [["RU", "KZ"], ["KZ", "RU"]]) {
      const { checks, action } = await assess({ cli: "+77012345678" }, { roaming: camaraAnswering({ roaming: true, countryName }) });
      expect(checkNamed(checks, "origin.roaming"), countryName.join()).toMatchObject({ result: "fail", evidence: { judgedAs: expect.stringMatching(/^(unknown|home)$/), visitedCountries: countryName } });
      expect(action, countryName.join()).not.toBe("allow");
    }
    const { checks, action } = await assess({ cli: "+77012345678" }, { roaming: camaraAnswering({ roaming: true, countryName: ["RU", "KZ"] }) });
    expect(checkNamed(checks, "origin.roaming")).toMatchObject({ evidence: { judgedAs: "unknown", reason: "the visited network is in one of RU, KZ, KZ among them" } });
    expect(action).toBe("withhold");
    // Several countries, none of them home: abroad.
    expect((await assess({ cli: "+77012345678" }, { roaming: camaraAnswering({ roaming: true, countryName: ["GB", "IM"] }) })).action).toBe("allow");
  });
  it("a roaming answer naming no visited country still passes, and says the country is unknown", async () => {
    const { checks, action } = await assess({ cli: "+77012345678" }, { roaming: answering({}) });
    expect(checkNamed(checks, "origin.roaming")).toMatchObject({ result: "pass", detail: expect.stringContaining("country unknown"), evidence: { visitedCountry: "unknown" } });
    expect(action).toBe("allow");
  });
});

describe("check 6 — a roaming observation must be recent (roaming.maxObservationAgeSeconds)", () => {
  const NOW_MS = NOW_SECONDS * 1000;
  const config = { roaming: { maxObservationAgeSeconds: 900 } };
  const observed = (secondsBeforeTheCall: number, answer: Partial<RoamingAnswer> = {}) => answering({ visitedCountry: "TR", observedAt: NOW_MS - secondsBeforeTheCall * 1000, ...answer });

  it("a roaming answer observed longer ago than allowed is unknown: withheld by default, with its age as evidence", async () => {
    const { checks, findings, action } = await assess({ cli: "+77012345678" }, { roaming: observed(3_600), config });
    expect(checkNamed(checks, "origin.roaming")).toMatchObject({
      result: "fail",
      evidence: { status: "roaming", judgedAs: "unknown", observationAgeSeconds: 3_600, reason: expect.stringContaining("observed 3600 s before the call, more than the 900 s allowed") },
    });
    expect(findings).toContainEqual(expect.objectContaining({ checkId: "origin.roaming", action: "withhold" }));
    expect(action).toBe("withhold");
  });
  it("follows the origin.roaming:unknown policy entry", async () => {
    const blocking = { ...config, policy: { outcomes: { "origin.roaming:unknown": { action: "block" as const, sipCode: 608 as const } } } };
    expect((await assess({ cli: "+77012345678" }, { roaming: observed(3_600), config: blocking })).action).toBe("block");
  });
  it("a roaming answer within the limit passes; a second past it does not", async () => {
    expect((await assess({ cli: "+77012345678" }, { roaming: observed(900), config })).action).toBe("allow");
    expect((await assess({ cli: "+77012345678" }, { roaming: observed(901), config })).action).toBe("withhold");
  });
  it("a roaming answer observed more than a minute after the call's instant is not trusted", async () => {
    const { checks, action } = await assess({ cli: "+77012345678" }, { roaming: observed(-120), config });
    expect(checkNamed(checks, "origin.roaming")).toMatchObject({ result: "fail", evidence: { judgedAs: "unknown", observationAgeSeconds: -120, reason: expect.stringContaining("120 s after the call") } });
    expect(action).toBe("withhold");
    expect((await assess({ cli: "+77012345678" }, { roaming: observed(-60), config })).action).toBe("allow");
  });
  it("without a limit, any observation is believed, as before", async () => {
    expect((await assess({ cli: "+77012345678" }, { roaming: observed(365 * 86_400) })).action).toBe("allow");
    expect((await assess({ cli: "+77012345678" }, { roaming: observed(-3_600) })).action).toBe("allow");
  });
  it("only a roaming answer is judged by its age: an old home answer still blocks", async () => {
    expect((await assess({ cli: "+77012345678" }, { roaming: observed(86_400, { status: "home", visitedCountry: undefined }), config })).action).toBe("block");
  });
  it("an answer that does not say when it was observed counts as observed when asked", async () => {
    expect((await assess({ cli: "+77012345678" }, { roaming: answering({ visitedCountry: "TR", observedAt: null }), config })).action).toBe("allow");
  });

  describe("answers from the isolate cache are judged by when they were observed, not when they were cached", () => {
    let nowMs = NOW_MS;
    const clock: Clock = { now: () => nowMs };
    const sourceAt = (observedAt: () => number | null) => {
      const asked: number[] = [];
      const source: RoamingLookup = { lookup: async (_tn, atMs) => (asked.push(atMs), { status: "roaming", visitedCountry: "TR", observedAt: observedAt(), source: "fixture" }) };
      return { source, asked };
    };

    it("an observation already old when cached stops allowing once it passes the limit", async () => {
      nowMs = NOW_MS;
      const { source } = sourceAt(() => NOW_MS - 800_000);
      const roaming = withIsolateCache(source, "age-test-1", 300_000, clock, 900_000);
      expect((await assess({ cli: "+77012345678" }, { roaming, config, clock })).action).toBe("allow");
      nowMs = NOW_MS + 200_000;
      expect((await assess({ cli: "+77012345678" }, { roaming, config, clock })).action).toBe("withhold");
    });
    it("a cached observation too old to allow is asked for again, and a fresh one allows", async () => {
      nowMs = NOW_MS;
      const { source, asked } = sourceAt(() => nowMs);
      const roaming = withIsolateCache(source, "age-test-2", 3_600_000, clock, 900_000);
      await assess({ cli: "+77012345678" }, { roaming, config, clock });
      nowMs = NOW_MS + 1_000_000;
      expect((await assess({ cli: "+77012345678" }, { roaming, config, clock })).action).toBe("allow");
      expect(asked).toEqual([NOW_MS, NOW_MS + 1_000_000]);
    });
    it("one that did not say when it was observed is kept no longer than the limit", async () => {
      nowMs = NOW_MS;
      const { source, asked } = sourceAt(() => null);
      const roaming = withIsolateCache(source, "age-test-3", 3_600_000, clock, 900_000);
      await roaming.lookup("77012345678", nowMs, { ingressCarrier: null, ingressCountry: null });
      nowMs = NOW_MS + 899_000;
      await roaming.lookup("77012345678", nowMs, { ingressCarrier: null, ingressCountry: null });
      nowMs = NOW_MS + 901_000;
      await roaming.lookup("77012345678", nowMs, { ingressCarrier: null, ingressCountry: null });
      expect(asked).toEqual([NOW_MS, NOW_MS + 901_000]);
    });
  });
});

describe("check 7 — origin.own-number-off-net", () => {
  const config = {
    numbering: { ownSubscribers: [{ prefix: "7701" }], portedOut: [{ exact: "77019999999" }] },
    ingress: {
      interconnects: [
        { trunk: "core-1", kind: "domestic" as const, carrierName: "Us", country: "KZ", onNet: true },
        { trunk: "beeline-1", kind: "domestic" as const, carrierName: "Beeline KZ", country: "KZ", onNet: false },
      ],
    },
  };
  it("blocks our subscriber's number arriving from another domestic carrier", async () => {
    const { result, action } = await assess({ cli: "+77012345678", trunk: "beeline-1", carrier: null, international: null }, { config });
    expect([result("origin.own-number-off-net"), action]).toEqual(["fail", "block"]);
  });
  it("passes it on our own network, and a number ported away", async () => {
    expect((await assess({ cli: "+77012345678", trunk: "core-1", carrier: null }, { config })).result("origin.own-number-off-net")).toBe("pass");
    expect((await assess({ cli: "+77019999999", trunk: "beeline-1", carrier: null }, { config })).result("origin.own-number-off-net")).toBe("pass");
  });
  it("leaves our subscriber's number arriving from abroad to checks 5–6", async () => {
    const { checks, result } = await assess({ cli: "+77012345678", trunk: "intl-1", carrier: null, international: true }, { config, roaming: roamingTable({ "77012345678": "roaming" }) });
    expect(checkNamed(checks, "origin.own-number-off-net")).toMatchObject({ result: "pass", detail: "our own subscriber arriving from abroad: decided by checks 5–6" });
    expect(result("origin.roaming")).toBe("pass");
  });
  it("exempts an enterprise breakout listed for our subscribers' range on another domestic carrier's trunk", async () => {
    const listed = { ...config, "allow-list": { entries: [{ customer: "Halyk Contact Centre", cli: { prefix: "7701234" }, trunk: "beeline-1" }] } };
    const { result, action } = await assess({ cli: "+77012345678", trunk: "beeline-1", carrier: null, international: null }, { config: listed });
    expect([result("origin.authorised-use"), result("origin.own-number-off-net"), action]).toEqual(["pass", "skip", "allow"]);
  });
});

describe("check 8 — origin.authorised-use", () => {
  const config = { "allow-list": { entries: [{ customer: "Halyk Contact Centre", cli: { prefix: "7727250" }, trunk: "enterprise-de" }] } };
  it("an allow-listed enterprise trunk presenting its national range from abroad passes", async () => {
    const { result, action } = await assess({ cli: "+77272501234", trunk: "enterprise-de", carrier: "CloudPBX", international: true }, { config });
    expect(result("origin.authorised-use")).toBe("pass");
    expect(result("origin.national-on-international")).toBe("skip");
    expect(action).toBe("allow");
  });
  it("the same range on another international trunk is blocked", async () => {
    const { result, action } = await assess({ cli: "+77272501234", trunk: "intl-1" }, { config });
    expect([result("origin.authorised-use"), action]).toEqual(["skip", "block"]);
  });
  it("is not looked up for a call that names no trunk, and says so", async () => {
    expect(checkNamed((await assess({ cli: "+77272501234", trunk: null }, { config })).checks, "origin.authorised-use")).toEqual({
      id: "origin.authorised-use",
      result: "skip",
      detail: "needs a well-formed caller ID and an ingress trunk",
    });
  });
  it("the listed trunk with a CLI outside the range is not exempt", async () => {
    expect((await assess({ cli: "+77172123456", trunk: "enterprise-de" }, { config })).action).toBe("block");
  });
});

describe("check 9 — rules.operator", () => {
  const rule = ruleFixture({ criteria: { cli: { prefix: "7916" } }, action: "tag", label: "SPAM?" });
  it("a matching rule brings its own action", async () => {
    const { result, findings } = await assess({ cli: "+79161234567" }, { rules: [rule] });
    expect(result("rules.operator")).toBe("fail");
    expect(findings).toContainEqual(expect.objectContaining({ checkId: "rules.operator", action: "tag", label: "SPAM?" }));
  });
  it("no matching rule passes", async () => {
    expect((await assess({ cli: "+79261234567" }, { rules: [rule] })).result("rules.operator")).toBe("pass");
  });
  it("a call no check holds anything against carries no finding at all, and says how many rules were loaded", async () => {
    // An unknown ingress is only reported (origin.ingress:unknown allows by default).
    const { checks, findings } = await assess({ cli: "+79261234567", carrier: "Nobody" }, { rules: [rule] });
    expect(checkNamed(checks, "origin.ingress").result).toBe("warn");
    expect(checkNamed(checks, "rules.operator")).toEqual({ id: "rules.operator", result: "pass", detail: "no operator rule matches", evidence: { rulesLoaded: 1 } });
    expect(findings).toEqual([]);
  });
  it("an allowing rule is listed and costs the call nothing", async () => {
    const allowing = ruleFixture({ criteria: { cli: { prefix: "7926" } }, action: "allow" });
    const { checks, findings } = await assess({ cli: "+79261234567" }, { rules: [allowing] });
    expect(checkNamed(checks, "rules.operator")).toMatchObject({ result: "pass", detail: "only allowing operator rules match", evidence: { matched: 1, rules: [{ id: allowing.id, action: "allow" }] } });
    expect(findings).toEqual([]);
  });
  it("lists at most 20 matched rules in its evidence, counts them all, and each one weighs", async () => {
    const rules = Array.from({ length: 21 }, () => ruleFixture({ criteria: { cli: { prefix: "7916" } }, action: "tag" }));
    const { checks, findings } = await assess({ cli: "+79161234567" }, { rules });
    const evidence = checkNamed(checks, "rules.operator").evidence as { matched: number; rules: unknown[] };
    expect([evidence.matched, evidence.rules.length, findings.filter(({ checkId }) => checkId === "rules.operator").length]).toEqual([21, 20, 21]);
  });
  it("matches a caller ID that check 1 refuses by its digits", async () => {
    const unassigned = ruleFixture({ criteria: { cli: { exact: "999123456789" } }, action: "block" });
    const { result, findings } = await assess({ cli: "+999123456789", ...domestic }, { rules: [unassigned] });
    expect([result("cli.format"), result("rules.operator")]).toEqual(["fail", "fail"]);
    expect(findings).toContainEqual(expect.objectContaining({ checkId: "rules.operator", ruleId: unassigned.id, action: "block", sipCode: 603 }));
  });
  it("a rule in monitor mode gives a monitored finding; an enforced one does not", async () => {
    const monitored = ruleFixture({ criteria: { cli: { prefix: "7916" } }, mode: "monitor" });
    const { findings } = await assess({ cli: "+79161234567" }, { rules: [monitored, rule] });
    expect(findings).toEqual([
      expect.objectContaining({ ruleId: monitored.id, action: "block", monitored: true }),
      expect.not.objectContaining({ monitored: true }),
    ]);
  });
});

describe("signed calls (issue 4 point 10)", () => {
  const gatewayC: SignedCallSummary = { verified: true, attest: "C", verstat: "TN-Validation-Passed", provider: "KZTEL1", diverters: [] };
  const fullA: SignedCallSummary = { verified: true, attest: "A", verstat: "TN-Validation-Passed", provider: "KZTEL1", diverters: [] };
  const vouching = { attestation: { vouching: [{ spc: "KZTEL1", name: "Kazakhtelecom" }] } };
  it("a verified C attestation from an international gateway does not exempt a domestic fixed CLI from check 5", async () => {
    expect((await assess({ cli: "+77272501234" }, { signed: gatewayC, config: vouching })).action).toBe("block");
  });
  it("a verified A attestation by a provider the operator lists waives checks 5–8, naming it", async () => {
    const { checks, result, action } = await assess({ cli: "+77272501234" }, { signed: fullA, config: vouching });
    expect([result("origin.national-on-international"), result("origin.own-number-off-net"), action]).toEqual(["skip", "skip", "allow"]);
    expect(checkNamed(checks, "origin.national-on-international").detail).toBe("a verified A attestation by Kazakhtelecom (KZTEL1) vouches for the number");
  });
  it("still gets checks 2–4 and 9 under an A attestation", async () => {
    const config = { ...vouching, numbering: { doNotOriginate: [{ exact: "77272501234" }] } };
    const rules = [ruleFixture({ criteria: { cli: { exact: "77272501234" } } })];
    const { result } = await assess({ cli: "+77272501234" }, { signed: fullA, config, rules });
    expect([result("cli.allocated"), result("cli.type"), result("cli.dno"), result("rules.operator")]).toEqual(["pass", "pass", "fail", "fail"]);
  });
});

describe("an A attestation by a provider the operator does not list vouches for nothing (a leaf key of any provider under a trusted STI-CA signs A for any number)", () => {
  const signedBy = (provider: string | null): SignedCallSummary => ({ verified: true, attest: "A", verstat: "TN-Validation-Passed", provider, diverters: [] });
  const vouching = { attestation: { vouching: [{ spc: "KZTEL1" }] } };
  it.each([
    ["another provider", "ROGUE1", vouching],
    ["a path naming no provider", null, vouching],
    ["any provider, with no attestation section written", "KZTEL1", {}],
  ])("blocks a national fixed CLI on an international interconnect signed A by %s", async (_, provider, config) => {
    const { checks, action } = await assess({ cli: "+77272501234" }, { signed: signedBy(provider), config });
    expect(action).toBe("block");
    expect(checkNamed(checks, "origin.national-on-international")).toMatchObject({
      result: "fail",
      evidence: { attestation: { attest: "A", provider, vouches: false, note: expect.stringContaining("not in the attestation section's vouching list") } },
    });
  });
  it("names a signing path with no provider as such, not as a provider called null", async () => {
    const { checks } = await assess({ cli: "+77272501234" }, { signed: signedBy(null), config: vouching });
    expect((checkNamed(checks, "origin.national-on-international").evidence as any).attestation.note).toBe(
      "the A attestation by a signer whose certificates name no service provider waives nothing: its provider is not in the attestation section's vouching list",
    );
  });
  it("sends a national mobile CLI to the roaming lookup, which decides", async () => {
    const roaming = roamingTable({});
    const { checks, action } = await assess({ cli: "+77012345678" }, { signed: signedBy("ROGUE1"), config: vouching, roaming });
    expect(roaming.asked).toEqual(["77012345678"]);
    expect(checkNamed(checks, "origin.roaming").result).toBe("fail");
    expect(action).toBe("withhold");
  });
  it("judges our subscriber's number from another domestic carrier by check 7", async () => {
    const config = {
      ...vouching,
      numbering: { ownSubscribers: [{ prefix: "7701" }] },
      ingress: { interconnects: [{ trunk: "beeline-1", kind: "domestic" as const, carrierName: "Beeline KZ", country: "KZ", onNet: false }] },
    };
    const { checks, action } = await assess({ cli: "+77012345678", trunk: "beeline-1", carrier: null, international: null }, { signed: signedBy("ROGUE1"), config });
    expect(checkNamed(checks, "origin.own-number-off-net")).toMatchObject({ result: "fail", evidence: { attestation: { provider: "ROGUE1", vouches: false } } });
    expect(action).toBe("block");
  });
  it("lets a foreign CLI through as before: check 5 has nothing against it", async () => {
    const { result, action } = await assess({ cli: "+79161234567" }, { signed: signedBy("ROGUE1"), config: vouching });
    expect([result("origin.national-on-international"), action]).toEqual(["pass", "allow"]);
  });
});

describe("ingress classification", () => {
  const config = { ingress: { interconnects: [{ carrier: "TransitCo", kind: "international" as const, carrierName: "Transit Co Ltd", country: "AE", onNet: false }] } };
  it("a mapped carrier is known and named in the verdict", async () => {
    const { ingress, result } = await assess({ cli: "+74951234567", trunk: "x", international: false }, { config });
    expect(ingress).toMatchObject({ kind: "international", known: true, carrierName: "Transit Co Ltd", country: "AE", decidedBy: "carrier" });
    expect(result("origin.ingress")).toBe("pass");
  });
  it("an unknown ingress is reported, and follows what the SBC declared", async () => {
    const { ingress, result } = await assess({ cli: "+74951234567", carrier: "Nobody", international: false });
    expect(ingress).toMatchObject({ kind: "domestic", known: false, decidedBy: "declared" });
    expect(result("origin.ingress")).toBe("warn");
    expect(checkNamed((await assess({ cli: "+74951234567", carrier: "Nobody", international: false })).checks, "origin.ingress").detail).toBe("unknown ingress, treated as domestic (as the SBC declared)");
  });
  it("an unknown ingress with no declaration takes the configured default", async () => {
    const { ingress, checks } = await assess({ cli: "+77272501234", carrier: "Nobody", international: null }, { config: { ingress: { unknownIngress: { kind: "domestic", trustDeclared: true } } } });
    expect(ingress).toMatchObject({ kind: "domestic", known: false, decidedBy: "default" });
    expect(checkNamed(checks, "origin.ingress").detail).toBe("unknown ingress, treated as domestic (configured default)");
  });
});

describe("a trunk entry that names its carrier", () => {
  const config = {
    ingress: {
      interconnects: [
        { trunk: "core-1", carrier: "Us", kind: "domestic" as const, carrierName: "Own core network", country: "KZ", onNet: true },
        { trunk: "intl-1", carrier: "TransitCo", kind: "international" as const, carrierName: "Transit Co Ltd", country: "DE", onNet: false },
        { trunk: "kt-1", kind: "domestic" as const, carrierName: "Kazakhtelecom", country: "KZ", onNet: false },
        { carrier: "Beeline", kind: "domestic" as const, carrierName: "Beeline KZ", country: "KZ", onNet: false },
      ],
    },
  };
  it("applies when the SBC reports that carrier, or no carrier", async () => {
    expect((await assess({ cli: "+74951234567", trunk: "core-1", carrier: "Us", international: null }, { config })).ingress).toMatchObject({ kind: "domestic", known: true, onNet: true, decidedBy: "trunk" });
    expect((await assess({ cli: "+74951234567", trunk: "core-1", carrier: null, international: null }, { config })).ingress).toMatchObject({ kind: "domestic", known: true, onNet: true, decidedBy: "trunk" });
  });
  it("does not apply to another carrier reported on that trunk: our own network's entry exempts nobody else's calls", async () => {
    const { ingress, result } = await assess({ cli: "+77012345678", trunk: "core-1", carrier: "Beeline", international: null }, { config: { ...config, numbering: { ownSubscribers: [{ prefix: "7701" }] } } });
    expect(ingress).toMatchObject({ kind: "domestic", known: true, carrierName: "Beeline KZ", onNet: false, decidedBy: "carrier" });
    expect(result("origin.own-number-off-net")).toBe("fail");
    expect((await assess({ cli: "+74951234567", trunk: "core-1", carrier: "Nobody", international: null }, { config })).ingress).toMatchObject({ kind: "international", known: false, onNet: false, decidedBy: "default" });
  });
  it("another carrier on a trunk mapped international takes that carrier's entry only when it is international too", async () => {
    const withIntlCarrier = { ingress: { interconnects: [...config.ingress.interconnects, { carrier: "GlobalTransit", kind: "international" as const, carrierName: "Global Transit AG", country: "CH", onNet: false }] } };
    expect((await assess({ cli: "+74951234567", trunk: "intl-1", carrier: "GlobalTransit", international: null }, { config: withIntlCarrier })).ingress).toMatchObject({ kind: "international", known: true, carrierName: "Global Transit AG", country: "CH", decidedBy: "carrier" });
  });
  it("a trunk entry without a carrier applies whatever carrier the SBC reports", async () => {
    expect((await assess({ cli: "+74951234567", trunk: "kt-1", carrier: "Beeline", international: true }, { config })).ingress).toMatchObject({ kind: "domestic", known: true, carrierName: "Kazakhtelecom", decidedBy: "trunk" });
  });
  it("a trunk mapped international stays international whatever carrier the SBC reports on it: a home landline on it is blocked by check 5", async () => {
    for (const carrier of ["Beeline", "Nobody"]) {
      const { ingress, checks, result, action } = await assess({ cli: "+77272501234", trunk: "intl-1", carrier, international: false }, { config });
      expect(ingress).toMatchObject({ kind: "international", known: false, carrierName: carrier, country: null, onNet: false, decidedBy: "trunk" });
      expect(checkNamed(checks, "origin.ingress")).toMatchObject({ result: "warn", detail: `unknown ingress, treated as international (its trunk is mapped international for another carrier than ${carrier})` });
      expect([result("origin.national-on-international"), action]).toEqual(["fail", "block"]);
    }
  });
});

describe("a From presenting another number than the caller ID (withOtherCaller)", () => {
  /** The caller ID's assessment and From's (judged as unsigned), merged as the verdict pipeline merges them. */
  async function both(cli: string, from: string, options: { rules?: Rule[]; config?: ConfigSketch } = {}) {
    const deps = depsFor(options);
    return withOtherCaller(await assessOrigin(sketchCall({ cli }), null, deps), await assessOrigin(sketchCall({ cli: from }), null, deps), "From");
  }

  it("keeps the check that says more against the call, From's marked as From's, and adds From's findings", async () => {
    const { checks, findings } = await both("+74951234567", "+77272501234");
    expect(checkNamed(checks, "origin.national-on-international")).toMatchObject({
      result: "fail",
      detail: "From: a national fixed caller ID on an international interconnect",
      evidence: { tn: "77272501234", presentedIn: "From" },
    });
    // The caller ID's own pass stays where From says no more against the call.
    expect(checkNamed(checks, "cli.format")).toMatchObject({ result: "pass", evidence: { tn: "74951234567" } });
    expect(findings).toEqual([expect.objectContaining({ checkId: "origin.national-on-international", action: "block", reason: "From: a national fixed caller ID on an international interconnect" })]);
  });
  it("keeps the caller ID's check, and its finding once, where both numbers say the same", async () => {
    const { checks, findings } = await both("+77272501234", "+77272509999");
    expect(checkNamed(checks, "origin.national-on-international")).toMatchObject({ result: "fail", evidence: { tn: "77272501234" } });
    expect(checkNamed(checks, "origin.national-on-international").evidence).not.toHaveProperty("presentedIn");
    expect(findings.filter(({ checkId }) => checkId === "origin.national-on-international")).toEqual([expect.objectContaining({ reason: "a national fixed caller ID on an international interconnect" })]);
    const rule = ruleFixture({ criteria: { cli: { prefix: "7727250" } } });
    const ruled = await both("+77272501234", "+77272509999", { rules: [rule] });
    expect(ruled.findings.filter(({ checkId }) => checkId === "rules.operator")).toEqual([expect.objectContaining({ ruleId: rule.id, reason: `operator rule ${rule.id}` })]);
    expect(checkNamed(ruled.checks, "rules.operator")).toMatchObject({ result: "fail", detail: "1 operator rule(s) match", evidence: { matched: 1 } });
  });
  it("adds each finding of From's that the caller ID's do not have: another check, another rule, or the same check asking for more", async () => {
    // Check 5 withholds the caller ID's VoIP number and blocks From's landline: From's block decides.
    const voip = await both("+77501234567", "+77272501234");
    expect(voip.findings).toEqual([
      expect.objectContaining({ checkId: "origin.national-on-international", action: "withhold" }),
      expect.objectContaining({ checkId: "origin.national-on-international", action: "block", reason: "From: a national fixed caller ID on an international interconnect" }),
    ]);
    expect(mostSevereAction(voip.findings)).toBe("block");
    // From's toll-free number fails check 3 too, which the caller ID's landline does not.
    expect((await both("+77272501234", "+78001234567")).findings).toContainEqual(expect.objectContaining({ checkId: "cli.type", action: "block", reason: "From: a toll-free number is not allowed as caller ID" }));
    // Each number matched a blocking rule of its own: both rules decide.
    const onCaller = ruleFixture({ criteria: { cli: { exact: "77272501234" } } });
    const onFrom = ruleFixture({ criteria: { cli: { exact: "77272509999" } } });
    const ruled = await both("+77272501234", "+77272509999", { rules: [onCaller, onFrom] });
    expect(ruled.findings.filter(({ checkId }) => checkId === "rules.operator").map(({ ruleId }) => ruleId)).toEqual([onCaller.id, onFrom.id]);
  });
  it("lists at most 20 of the rules both numbers matched, counting them all", async () => {
    const onCaller = Array.from({ length: 15 }, () => ruleFixture({ criteria: { cli: { exact: "77272501234" } }, action: "tag" }));
    const onFrom = Array.from({ length: 10 }, () => ruleFixture({ criteria: { cli: { exact: "77272509999" } }, action: "tag" }));
    const evidence = checkNamed((await both("+77272501234", "+77272509999", { rules: [...onCaller, ...onFrom] })).checks, "rules.operator").evidence as { matched: number; rules: unknown[] };
    expect([evidence.matched, evidence.rules.length]).toEqual([25, 20]);
  });
  it("names a From check with no detail by its result", async () => {
    const own = { checks: [{ id: "x", result: "pass" as const }], findings: [], ingress: (await assessOrigin(sketchCall({ cli: null }), null, depsFor())).ingress, nameVoucher: null, cliNumber: null, policy: DEFAULT_POLICY };
    expect(withOtherCaller(own, { ...own, checks: [{ id: "x", result: "fail" }] }, "From").checks).toEqual([{ id: "x", result: "fail", detail: "From: fail", evidence: { presentedIn: "From" } }]);
  });
  it("lists the rules each number matched, From's marked, and counts each rule once", async () => {
    const onCaller = ruleFixture({ criteria: { cli: { prefix: "7495" } }, action: "tag" });
    const onBoth = ruleFixture({ criteria: { cli: { prefix: "7" } }, action: "allow" });
    const onFrom = ruleFixture({ criteria: { cli: { prefix: "7916" } }, action: "block" });
    const { checks, findings } = await both("+74951234567", "+79161234567", { rules: [onCaller, onBoth, onFrom] });
    const check = checkNamed(checks, "rules.operator");
    expect(check).toMatchObject({ result: "fail", detail: "3 operator rule(s) match, on the caller ID or From" });
    expect((check.evidence as { matched: number }).matched).toBe(3);
    expect((check.evidence as { rules: { id: string; presentedIn?: string }[] }).rules.map(({ id, presentedIn }) => [id, presentedIn ?? null]).sort()).toEqual(
      [
        [onCaller.id, null],
        [onBoth.id, null],
        [onFrom.id, "From"],
      ].sort(),
    );
    expect(findings.filter(({ checkId }) => checkId === "rules.operator").map(({ ruleId }) => ruleId)).toEqual([onCaller.id, onFrom.id]);
  });
  it("passes the rules' check when only allowing rules match either number", async () => {
    const own = ruleFixture({ criteria: { cli: { prefix: "7495" } }, action: "allow" });
    const fromRule = ruleFixture({ criteria: { cli: { prefix: "7916" } }, action: "allow" });
    const check = checkNamed((await both("+74951234567", "+79161234567", { rules: [own, fromRule] })).checks, "rules.operator");
    expect(check).toMatchObject({ result: "pass", detail: "only allowing operator rules match", evidence: { matched: 2 } });
  });
  it("keeps the check that matched rules when the other number matched none", async () => {
    const fromRule = ruleFixture({ criteria: { cli: { prefix: "7916" } }, action: "block" });
    const check = checkNamed((await both("+74951234567", "+79161234567", { rules: [fromRule] })).checks, "rules.operator");
    expect(check).toMatchObject({ result: "fail", detail: "From: 1 operator rule(s) match", evidence: { matched: 1, presentedIn: "From" } });
  });
});

describe("the hits a verdict's rules check counts (ruleHitsOf)", () => {
  const rulesCheck = (...rules: { id: string; mode: "enforce" | "monitor" }[]) => [{ id: "cli.dno", result: "pass" as const }, { id: "rules.operator", result: "fail" as const, evidence: { matched: rules.length, rules } }];
  it("one per listed rule, none for a rule whose details were not read, monitored by its mode, its finding or the whole policy", () => {
    const checks = rulesCheck({ id: "r1", mode: "enforce" }, { id: "unread", mode: "enforce" }, { id: "r2", mode: "monitor" }, { id: "r3", mode: "enforce" });
    expect(ruleHitsOf(checks, [{ by: "r3", action: "block", reason: "" }], false)).toEqual([
      { ruleId: "r1", monitored: false },
      { ruleId: "r2", monitored: true },
      { ruleId: "r3", monitored: true },
    ]);
    expect(ruleHitsOf(checks, undefined, true).map(({ monitored }) => monitored)).toEqual([true, true, true]);
    expect(ruleHitsOf(checks, undefined, false).map(({ monitored }) => monitored)).toEqual([false, true, false]);
  });
  it("none without a rules check, or one that lists no rules", () => {
    expect(ruleHitsOf([], undefined, false)).toEqual([]);
    expect(ruleHitsOf([{ id: "rules.operator", result: "pass", evidence: { rulesLoaded: 3 } }], undefined, false)).toEqual([]);
  });
});

describe("an unreadable Request-URI (sip.ruri), weighed by the ingress", () => {
  const ruri = { raw: "sip:+7abc@x", tn: null, unreadable: "not a telephone number" };
  it("blocks it from abroad and only reports it at home, by default", async () => {
    const international = await assessOrigin({ ...sketchCall({ cli: "+79161234567" }), ruri }, null, depsFor());
    expect(checkNamed(international.checks, "sip.ruri")).toEqual({ id: "sip.ruri", result: "fail", detail: "not a telephone number", evidence: { presented: "sip:+7abc@x", ingress: "international" } });
    expect(international.findings).toEqual([expect.objectContaining({ checkId: "sip.ruri", action: "block", sipCode: 608 })]);
    const home = await assessOrigin({ ...sketchCall({ cli: "+79161234567", ...domestic }), ruri }, null, depsFor());
    expect(checkNamed(home.checks, "sip.ruri")).toMatchObject({ result: "fail", evidence: { ingress: "domestic" } });
    expect(home.findings).toEqual([]);
  });
  it("is no check at all for a Request-URI that was read", async () => {
    const { checks } = await assessOrigin({ ...sketchCall({ cli: "+79161234567" }), ruri: { raw: "tel:+77012345678", tn: "77012345678", unreadable: null } }, null, depsFor());
    expect(checks.map(({ id }) => id)).not.toContain("sip.ruri");
  });
});

describe("with the configuration but not the rules (store.rules)", () => {
  it("skips the rules' check, saying why, with no finding, and still runs every other check", async () => {
    const snapshot = compileOriginSnapshot(1, "KZ", configWith(), null);
    const { checks, findings } = await assessOrigin(sketchCall({ cli: "+79161234567" }), null, { ...depsFor(), snapshot: async () => snapshot });
    expect(checkNamed(checks, "rules.operator")).toEqual({ id: "rules.operator", result: "skip", detail: "the operator's rules could not be read (store.rules)" });
    expect(checkNamed(checks, "cli.format").result).toBe("pass");
    expect(findings).toEqual([]);
  });
});

describe("without the operator's configuration (neither D1 nor a saved copy)", () => {
  const unconfigured = { ...depsFor(), snapshot: async () => null };
  it("skips every origin check, saying why, finds nothing, and weighs verification by the built-in policy", async () => {
    const assessment = await assessOrigin(sketchCall({ cli: "+77272501234" }), null, unconfigured);
    expect(assessment.checks.map(({ id, result }) => `${id}:${result}`)).toEqual([
      "origin.ingress:skip",
      "cli.format:skip",
      "cli.allocated:skip",
      "cli.type:skip",
      "cli.dno:skip",
      "origin.national-on-international:skip",
      "origin.roaming:skip",
      "origin.own-number-off-net:skip",
      "origin.authorised-use:skip",
      "rules.operator:skip",
    ]);
    expect(assessment.checks.every(({ detail }) => detail?.startsWith("needs the operator's configuration"))).toBe(true);
    expect(assessment.findings).toEqual([]);
    expect(assessment.policy).toBe(DEFAULT_POLICY);
    expect(assessment.ingress).toMatchObject({ kind: "international", known: false, decidedBy: "declared" });
  });
  it("still reports a Request-URI that cannot be read", async () => {
    const call = { ...sketchCall({ cli: "+77272501234" }), ruri: { raw: "sip:+7abc@x", tn: null, unreadable: "not a telephone number" } };
    const { checks } = await assessOrigin(call, null, unconfigured);
    expect(checks.at(-1)).toEqual({ id: "sip.ruri", result: "fail", detail: "not a telephone number", evidence: { presented: "sip:+7abc@x" } });
  });
});
