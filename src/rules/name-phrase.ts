import unhomoglyph from "unhomoglyph";

/**
 * How an operator rule's `name` phrase meets the display name a call presents (From's, which the
 * callee's phone shows). A fraudster writing a bank's name varies everything a phone shows the same
 * way, so both sides are read as one form before the phrase is looked for in the name:
 * - Unicode compatibility forms folded (NFKC: full-width `Ｈａｌｙｋ`, mathematical bold `𝐇𝐚𝐥𝐲𝐤`);
 * - case ignored (each side read in capitals);
 * - look-alike characters read as the character they imitate (Unicode's confusables, UTS #39, through
 *   `unhomoglyph`): a Cyrillic `а` in `Hаlyk`, a digit one in `Ha1yk`;
 * - every character that is no letter or digit dropped: spaces, dots, hyphens, zero-width characters,
 *   so `H.a.l.y.k`, `Halyk-Bank` and `HalykBank` all contain `halyk` and `halyk bank`.
 * The phrase is found anywhere in the name. Cyrillic and Latin spellings of a name (`Халық`, `Halyk`)
 * are different words, not look-alikes: an analyst adds a rule for each.
 */
export function namePhraseKey(text: string): string {
  // Upper case first: the confusables map capitals to capitals (a Cyrillic `К` to `K`), but some small
  // letters to letters that are no Latin ones (a Cyrillic `к` to `ĸ`), which `k` would then never meet.
  return unhomoglyph(text.normalize("NFKC").toUpperCase())
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]/gu, "");
}

/** How much of a presented name is read: a phone shows far less, and the read costs in proportion. */
export const NAME_CHARS_MATCHED = 256;

/** A rule's phrase must keep this many letters or digits once read: a shorter one would match most names. */
export const MIN_PHRASE_KEY_CHARS = 3;

/** The most characters a rule's phrase may have, as written. */
export const MAX_PHRASE_CHARS = 64;

/** The last name read: a call's name is judged against each of its candidate rules, for each number it presents. */
let lastName: { name: string; key: string } | null = null;

/** A presented display name as the rules read it (its first NAME_CHARS_MATCHED characters); null when the call presents none. */
export function presentedNameKey(name: string | null): string | null {
  if (!name) return null;
  if (lastName?.name !== name) lastName = { name, key: namePhraseKey(name.slice(0, NAME_CHARS_MATCHED)) };
  return lastName.key;
}

/** The phrases' keys, memoised: a rule's phrase is read once, not on every call it is judged against. */
const phraseKeys = new Map<string, string>();
const PHRASE_KEYS_KEPT = 10_000;

/** Whether the presented name (its presentedNameKey) contains the rule's phrase. */
export function nameContainsPhrase(nameKey: string | null, phrase: string): boolean {
  if (nameKey === null) return false;
  let key = phraseKeys.get(phrase);
  if (key === undefined) {
    if (phraseKeys.size >= PHRASE_KEYS_KEPT) phraseKeys.clear();
    phraseKeys.set(phrase, (key = namePhraseKey(phrase)));
  }
  return nameKey.includes(key);
}
