import { describe, expect, it } from "vitest";
import { hidesCallerId, readPrivacy } from "../../../src/sip/privacy";

/** The privacy a caller asks for (src/sip/privacy.ts): RFC 3323 §4.2's priv-values and RFC 3325 §9.3's `id`. */
describe("Privacy header values", () => {
  it("reads every header's priv-values, without case or white space, each once, in the order first written", () => {
    expect(readPrivacy([" ID ; User", "critical;id", "header"])).toEqual(["id", "user", "critical", "header"]);
  });

  it("leaves out extension values and empty ones: nothing the peer wrote is repeated back", () => {
    expect(readPrivacy(["x-secret;;none", "", "Id x"])).toEqual(["none"]);
    expect(readPrivacy([])).toEqual([]);
  });

  it.each([
    [["id"], true],
    [["user"], true],
    [["header"], true],
    [["none", "critical", "session"], false],
    [["none", "id"], true],
    [[], false],
  ] as const)("%j hides the caller ID: %s", (values, hides) => {
    expect(hidesCallerId(values)).toBe(hides);
  });
});
