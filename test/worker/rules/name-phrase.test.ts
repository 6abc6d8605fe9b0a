import { describe, expect, it } from "vitest";
import { NAME_CHARS_MATCHED, nameContainsPhrase, namePhraseKey, presentedNameKey } from "../../../src/rules/name-phrase";

/** A display name read as a rule reads it (src/rules/name-phrase.ts): what a phone shows alike reads alike. */
describe("a display-name phrase", () => {
  it.each([
    ["Halyk Bank", "halykbank"],
    ["HALYK  bank", "halykbank"],
    ["H.a.l.y.k-B_a_n_k", "halykbank"],
    ["H\u0430lyk B\u0430nk", "halykbank"], // Cyrillic а
    ["Ha1yk Bank", "halykbank"], // a digit one for l
    ["\uff28\uff41\uff4c\uff59\uff4b", "halyk"], // full-width
    ["\ud835\udc07\ud835\udc1a\ud835\udc25\ud835\udc32\ud835\udc24", "halyk"], // mathematical bold
    ["Halyk\u200b\u2060Bank", "halykbank"], // zero-width space and word joiner
  ])("reads %j as %j", (name, key) => expect(namePhraseKey(name)).toBe(key));

  it("reads a Cyrillic capital and small look-alike of a Latin letter alike, in phrase and name", () => {
    // К and к (Cyrillic) both read as K: the confusables map the small one to ĸ, which no Latin k is.
    expect(namePhraseKey("\u041aaspi")).toBe(namePhraseKey("Kaspi"));
    expect(namePhraseKey("\u043aaspi")).toBe(namePhraseKey("Kaspi"));
    expect(nameContainsPhrase(presentedNameKey("\u043a\u0430\u0455\u0440\u0456 gold"), "KASPI GOLD")).toBe(true);
  });

  it("keeps Cyrillic and Latin spellings of a name apart: Халық is no Halyk", () => {
    expect(nameContainsPhrase(presentedNameKey("\u0425\u0430\u043b\u044b\u049b \u0411\u0430\u043d\u043a"), "Halyk")).toBe(false);
    expect(nameContainsPhrase(presentedNameKey("\u0425\u0410\u041b\u042b\u049a"), "\u0425\u0430\u043b\u044b\u049b")).toBe(true);
  });

  it("is found anywhere in the name, and only whole: no name contains nothing", () => {
    expect(nameContainsPhrase(presentedNameKey("Call back: Halyk Bank security"), "halyk bank")).toBe(true);
    expect(nameContainsPhrase(presentedNameKey("Halyk"), "Halyk Bank")).toBe(false);
    expect(nameContainsPhrase(presentedNameKey(null), "Halyk")).toBe(false);
    expect(nameContainsPhrase(presentedNameKey(""), "Halyk")).toBe(false);
  });

  it(`reads the first ${NAME_CHARS_MATCHED} characters of a name: a phrase past them is not looked for`, () => {
    const padding = "x".repeat(NAME_CHARS_MATCHED - "Halyk".length);
    expect(nameContainsPhrase(presentedNameKey(`${padding}Halyk`), "Halyk")).toBe(true);
    expect(nameContainsPhrase(presentedNameKey(`${padding}.Halyk`), "Halyk")).toBe(false);
  });

  it("judges each name on its own, one after another", () => {
    const names = ["Halyk Bank", "Almaty Office", "Halyk Bank", "Almaty Office"];
    expect(names.map((name) => nameContainsPhrase(presentedNameKey(name), "Halyk"))).toEqual([true, false, true, false]);
  });
});
