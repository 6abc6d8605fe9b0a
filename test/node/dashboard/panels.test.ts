import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";

/**
 * The dashboard's script as the browser runs it, with every DOM and storage object it touches while
 * loading standing in as a do-anything stub; the test reads the functions it declares.
 */
interface DashboardFunctions {
  isRepositoryFailure: (check: string) => boolean;
  /** Takes the form's fields as a Map here (FormData's `get`). */
  ruleFromForm: (fields: Map<string, string>) => { criteria: { cli?: Record<string, string>; name?: string } };
  ruleSearchOf: (typed: string) => string;
  ruleModeText: (rule: { mode: string; published?: boolean }) => string;
  escapedText: (text: string) => string;
}

function loadDashboardScript(): DashboardFunctions {
  const script = readFileSync(join(import.meta.dirname, "../../../src/dashboard/assets/dashboard.js"), "utf8");
  const anything: unknown = new Proxy(function stub() {}, { get: (_, key) => (key === Symbol.toPrimitive ? () => "" : anything), apply: () => anything, construct: () => anything as object });
  // The form's fields, as the browser's FormData reads them.
  class FormData {
    constructor(private readonly fields: Map<string, string>) {}
    get(name: string) {
      return this.fields.get(name) ?? null;
    }
  }
  const context: Record<string, unknown> = { document: anything, sessionStorage: anything, window: anything, location: anything, fetch: anything, uPlot: anything, FormData };
  runInNewContext(`${script}\n;globalThis.exported = { isRepositoryFailure, ruleFromForm, ruleSearchOf, ruleModeText, escapedText };`, context);
  return context.exported as DashboardFunctions;
}

describe('the dashboard\'s "Certificate repository failures" panel (issue 23 item 3)', () => {
  const { isRepositoryFailure } = loadDashboardScript();

  it("counts what the repository served and the credential in it", () => {
    for (const check of ["x5u.fetch", "x5u.policy", "x5u.content", "certificate.chain", "certificate.validity", "certificate.tnauthlist"]) expect(isRepositoryFailure(check)).toBe(true);
  });

  it("does not list revocation results, nor checks of other stages", () => {
    for (const check of ["certificate.revocation", "passport.signature", "store.trust", "origin.national-on-international"]) expect(isRepositoryFailure(check)).toBe(false);
  });
});

describe('the dashboard\'s "Add a rule" form and rule search', () => {
  const { ruleFromForm, ruleSearchOf } = loadDashboardScript();
  const form = (cli: string, match = "exact") => new Map([["cli", cli], ["match", match], ["action", "block"], ["mode", "enforce"], ["reason", "reports of 7 Dec"]]);

  it("sends a number typed with + as the international number it is: +81 3 1234 5678 is Tokyo, not the national 8 131 234 5678", () => {
    // Without its +, the API reads 81312345678 as dialled at home (+7 131 234 5678): the Tokyo spoofer went unblocked.
    expect(ruleFromForm(form("+81312345678")).criteria.cli).toEqual({ exact: "+81312345678" });
    expect(ruleFromForm(form("+86", "prefix")).criteria.cli).toEqual({ prefix: "+86" });
  });

  it("sends a number typed without + as typed, for the API to read in the home plan", () => {
    expect(ruleFromForm(form("87172580000")).criteria.cli).toEqual({ exact: "87172580000" });
  });

  it("sends a display-name phrase beside the number, or alone when no number is typed", () => {
    expect(ruleFromForm(new Map([...form("+77172580000"), ["name", " Halyk Bank "]])).criteria).toEqual({ cli: { exact: "+77172580000" }, name: "Halyk Bank" });
    expect(ruleFromForm(new Map([...form(""), ["name", "Halyk Bank"]])).criteria).toEqual({ name: "Halyk Bank" });
    expect(ruleFromForm(form("+77172580000")).criteria).toEqual({ cli: { exact: "+77172580000" } });
  });

  it("searches for a number typed with + in international form", () => {
    expect(ruleSearchOf(" +81 3 1234-5678 ")).toBe("+81312345678");
    expect(ruleSearchOf("7727")).toBe("7727");
    expect(ruleSearchOf("")).toBe("");
  });
});

describe("the dashboard's rules table", () => {
  const { ruleModeText } = loadDashboardScript();

  // An import whose last batch never came left rules no isolate enforces; the table showed them as in force.
  it("says of a rule an unfinished import left that it is not published, hence enforced nowhere", () => {
    expect(ruleModeText({ mode: "enforce", published: false })).toBe("enforce, not published");
    expect(ruleModeText({ mode: "enforce", published: true })).toBe("enforce");
    expect(ruleModeText({ mode: "monitor" })).toBe("monitor");
  });
});

describe("a calling peer's text on the dashboard", () => {
  const { escapedText } = loadDashboardScript();

  it("shows each control or bidirectional formatting character escaped: a name written backwards reads as written", () => {
    expect(escapedText("\u202eknaB kylaH")).toBe("\\u202eknaB kylaH");
    expect(escapedText("Almaty \u2067Office\u2069\u0085\u001b[2J")).toBe("Almaty \\u2067Office\\u2069\\u0085\\u001b[2J");
    expect(escapedText("Халық Банк 8 727")).toBe("Халық Банк 8 727");
  });
});
