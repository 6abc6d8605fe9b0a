import "reflect-metadata";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { Grammar } from "sip.js/lib/grammar/grammar.js";
import { parse as sipJsParse } from "sip.js/lib/grammar/pegjs/dist/grammar.js";
import { describe, expect, it } from "vitest";
import { COMPILED_GRAMMAR, compiledFromInstalledSipJs } from "../../../scripts/compile-sip-grammar";
import { matchSipRule } from "../../../src/sip/grammar";
import { parse as compiledParse } from "../../../src/sip/grammar/compiled.js";
import { fuzzRuns, fuzzTimeoutMs, hostileText, inviteSeed, mutationOf } from "../fuzz/mutations";
import { haveRealworld, list, read } from "../realworld/realworld";

const RUNS = fuzzRuns(1_000);

/** The rules the INVITE reader uses, and a few more of sip.js's, so the whole table is exercised. */
const RULES = ["Request_Response", "Name_Addr_Header", "From", "To", "SIP_URI", "Contact", "Via", "CSeq", "Call_ID", "Content_Type", "Event", "absoluteURI"] as const;

/** Header values and request lines of INVITE texts, by the rule that reads them. */
function valuesOf(invites: string[]): { rule: string; input: string }[] {
  const seeds: { rule: string; input: string }[] = [];
  for (const invite of invites) {
    const lines = invite.split(/\r?\n/);
    const requestLine = lines.find((line) => /^[A-Z]+ \S+ SIP\/2\.0$/.test(line));
    if (requestLine) seeds.push({ rule: "Request_Response", input: requestLine });
    for (const line of lines) {
      const header = /^(From|To|P-Asserted-Identity|Contact|Via|CSeq|Call-ID|Content-Type)\s*:\s*(.+)$/i.exec(line);
      if (!header) continue;
      const name = header[1]!.toLowerCase();
      const rule = { from: "Name_Addr_Header", to: "Name_Addr_Header", "p-asserted-identity": "Name_Addr_Header", contact: "Contact", via: "Via", cseq: "CSeq", "call-id": "Call_ID", "content-type": "Content_Type" }[name]!;
      seeds.push({ rule, input: header[2]! });
    }
  }
  return seeds;
}

/** The project's own fixture INVITE always; the real-world ones when ../shared/realworld is beside the repository. */
const fixtureSeeds = valuesOf([inviteSeed("aaa.bbb.ccc;info=<https://cr.example.net/sp.pem>;alg=ES256;ppt=shaken")]);
const realWorldSeeds = haveRealworld ? valuesOf(list("invites").map((file) => read("invites", file))) : [];
const seeds = [...fixtureSeeds, ...realWorldSeeds];

/** Our grammar's answer in the contract of sip.js's `Grammar.parse`: what the rule built, or -1. */
function parseSipRule(input: string, rule: string): unknown {
  const match = matchSipRule(input, rule);
  return match.matched ? match.data : -1;
}

/** How a parser refused an input: its SyntaxError's message, expectations and location (null when it did not). */
function refusal(parse: (input: string, options: object) => unknown, input: string, rule: string): unknown {
  try {
    parse(input, { startRule: rule });
    return null;
  } catch (error) {
    const { message, expected, found, location } = error as { message: string; expected: unknown; found: unknown; location: unknown };
    return { message, expected, found, location };
  }
}

/**
 * What sip.js's own Grammar.parse and ours build for the same input must be equal, class for class, and
 * a refusal must be the same refusal: where the grammar stopped is what the tel: and P-Asserted-Identity
 * readings (src/sip/address.ts) rely on.
 */
function sameAsSipJs(input: string, rule: string): void {
  expect(parseSipRule(input, rule)).toStrictEqual(Grammar.parse(input, rule));
  const theirs = refusal(sipJsParse, input, rule) as { location?: { start: { offset: number } } } | null;
  expect(refusal(compiledParse, input, rule)).toStrictEqual(theirs);
  // matchSipRule asks the grammar for the offset alone (no SyntaxError built): it must be the SyntaxError's.
  const match = matchSipRule(input, rule);
  if (!match.matched) expect(match.stoppedAt).toBe(theirs?.location?.start.offset ?? null);
}

describe("sip.js's grammar, built once (src/sip/grammar/compiled.js)", () => {
  it("is exactly what scripts/compile-sip-grammar.ts writes from the installed sip.js (run `npm run generate:sip-grammar` after upgrading it)", () => {
    expect(readFileSync(COMPILED_GRAMMAR, "utf8")).toBe(compiledFromInstalledSipJs());
  });

  it("reads the fixture INVITE's request line and headers as sip.js's Grammar.parse does", () => {
    expect(fixtureSeeds.length).toBeGreaterThanOrEqual(5);
    for (const { rule, input } of fixtureSeeds) sameAsSipJs(input, rule);
    // What the INVITE reader parses (request line, From, To) is accepted; the two-identity PAI is not one name-addr.
    const accepted = fixtureSeeds.filter(({ rule, input }) => parseSipRule(input, rule) !== -1).map(({ input }) => input);
    expect(accepted).toEqual(expect.arrayContaining([expect.stringMatching(/^INVITE /), expect.stringMatching(/^"Caller" /), expect.stringMatching(/^<sip:\+77012345678@/)]));
    expect(parseSipRule("<sip:+77272501234@carrier.example;user=phone>, <tel:+77272501234>", "Name_Addr_Header")).toBe(-1);
  });

  it.skipIf(!haveRealworld)("reads every real-world INVITE's request line and headers as sip.js's Grammar.parse does", () => {
    for (const { rule, input } of realWorldSeeds) sameAsSipJs(input, rule);
    // The seeds include values the grammar accepts and, from the deliberately broken INVITEs, some it refuses.
    const accepted = realWorldSeeds.filter(({ rule, input }) => parseSipRule(input, rule) !== -1).length;
    expect(accepted).toBeGreaterThan(30);
    expect(realWorldSeeds.length - accepted).toBeGreaterThan(0);
  });

  it(
    "parses mutated real-world values and arbitrary text exactly as sip.js does, under every rule",
    () => {
      const input = fc.oneof(
        fc.constantFrom(...seeds).chain(({ input }) => mutationOf(input)),
        hostileText,
      );
      fc.assert(
        fc.property(input, fc.constantFrom(...RULES), (text, rule) => sameAsSipJs(text, rule)),
        { numRuns: RUNS },
      );
    },
    fuzzTimeoutMs(RUNS),
  );

  it("keeps no state from one parse to the next: a refused input, a different rule, then the same input again", () => {
    const from = '"Caller" <sip:+77272501234@carrier.example;user=phone>;tag=1';
    const first = parseSipRule(from, "Name_Addr_Header");
    expect(first).not.toBe(-1);
    expect(parseSipRule("<<sip:x", "Name_Addr_Header")).toBe(-1);
    expect(parseSipRule("INVITE sip:+77012345678@operator.example SIP/2.0", "Request_Response")).toMatchObject({ method: "INVITE" });
    expect(parseSipRule(from, "Name_Addr_Header")).toStrictEqual(first);
    expect(parseSipRule(from, "No_Such_Rule")).toBe(-1);
    expect(parseSipRule(from, "Name_Addr_Header")).toStrictEqual(first);
  });
});
