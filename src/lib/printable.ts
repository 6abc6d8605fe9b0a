/**
 * C0 and C1 control characters, DEL, the Unicode line and paragraph separators, and the bidirectional
 * formatting characters: on a terminal they move the cursor, erase what was printed or start a line; in
 * a log or a SIP header copied from a reason, CR and LF forge a line or a header field of their own; and
 * the bidi overrides make text read in another order than it is stored.
 */
const CONTROL_CHARACTER_CLASS = "[\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069]";
const CONTROL_CHARACTERS = new RegExp(CONTROL_CHARACTER_CLASS, "gu");
const ANY_CONTROL_CHARACTER = new RegExp(CONTROL_CHARACTER_CLASS, "u");

/**
 * Text that someone else wrote (a calling peer's PASSporT, the subject of a certificate a repository
 * served), with each control character shown as its `\u` escape (JSON's spelling), so that nothing in it
 * can rewrite or add to what it is printed, logged or quoted in.
 */
export const printable = (text: string): string => text.replace(CONTROL_CHARACTERS, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`);

/** Whether the text holds a character printable() would escape: shown as written, it would not read as it is stored. */
export const hasControlCharacters = (text: string): boolean => ANY_CONTROL_CHARACTER.test(text);
