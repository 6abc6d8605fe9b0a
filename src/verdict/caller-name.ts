import { findPhoneNumbersInText, type CountryCode } from "libphonenumber-js/max";
import type { NormalizedCall } from "../call/call";
import type { OtherPresentedCaller } from "../call/normalize";
import { hasControlCharacters } from "../lib/printable";
import type { NameVoucher } from "../origin/assess";
import type { Action } from "./verdict";

/**
 * CALLER_NAMES: `vouched` shows the callee a display name only when something answers for the caller
 * ID beside it (src/origin/assess.ts nameVoucherOf); `peer` keeps every allowed call's name as the peer
 * wrote it (the behaviour before the setting, for a deployment whose SBC is not ready yet).
 */
export const CALLER_NAME_MODES = ["vouched", "peer"] as const;
export type CallerNameMode = (typeof CALLER_NAME_MODES)[number];

/**
 * From's display name, and whether the SBC lets the callee see it. A string the SBC compares, never a
 * boolean: a verdict that says nothing of it (an older verifier, a reply that is no verdict) must leave
 * the name removed, and an SBC reads an absent string as "not `shown`".
 */
export interface CallerName {
  /** The name as the peer wrote it (src/sip/address.ts SipAddress.name), at most NAME_CHARS characters of it. */
  presented: string;
  presentation: "shown" | "removed";
  /** For the verdict's JSON readers only: never sent in SIP. */
  reason: string;
  /** What answered for it, when it is shown by CALLER_NAMES=vouched. */
  vouchedBy?: NameVoucher["by"];
}

/** As much of a display name as the verdict repeats: the whole From is at most 1 KiB. */
const NAME_CHARS = 128;
/**
 * The longest name shown: more than a phone's screen holds (a US CNAM is 15), and what bounds the
 * number search below (libphonenumber's finder costs ~20 ms on 1 000 hostile characters, well under a
 * millisecond on this many).
 */
export const MAX_SHOWN_NAME_CHARS = 48;

export interface CallerNameInput {
  call: Pick<NormalizedCall, "from" | "cli">;
  action: Action;
  voucher: NameVoucher | null;
  /** The numbers the call presents besides its caller ID (src/call/normalize.ts otherPresentedCallers). */
  others: readonly Pick<OtherPresentedCaller, "presentedIn">[];
  mode: CallerNameMode;
  /** The home country, whose national format a number in the name may be written in. */
  country: string;
}

/**
 * A telephone number the name spells other than the caller ID (`"+7 727 250 12 34"`, `"Halyk Bank 8 727
 * 250 12 34"`): a phone shows the name in place of the number, so the callee reads the bank's number
 * beside a caller ID nothing ties to it. libphonenumber finds it, in any of the digit sets a phone
 * shows and the home country's national format. Only a name with a decimal digit is searched.
 */
function otherNumberIn(name: string, callerTn: string | null, country: string): string | null {
  if (!/\p{Nd}/u.test(name)) return null;
  const found = findPhoneNumbersInText(name, country as CountryCode).find(({ number }) => number.number.slice(1) !== callerTn);
  return found ? found.number.number : null;
}

/**
 * The name the callee is shown beside the caller ID is From's (the SBC replaces P-Asserted-Identity with
 * the verdict's, which has none). A fraudster abroad presents "Halyk Bank" beside a foreign number the
 * checks rightly allow: the callee would see the bank's name. So an allowed call keeps it only when
 * something answers for the caller ID, and only when From presents that caller ID (a From of another
 * number is the peer's alone); a tagged call shows the verdict's label instead, a withheld one an
 * anonymous From. A name spelling another number than the caller ID, or holding characters that make a
 * phone show it otherwise than it is written, is removed whatever answers for the caller ID. Null when
 * From has no display name.
 */
export function callerNameOf({ call, action, voucher, others, mode, country }: CallerNameInput): CallerName | null {
  const name = call.from?.name;
  if (name === undefined) return null;
  const presented = name.slice(0, NAME_CHARS);
  const removed = (reason: string): CallerName => ({ presented, presentation: "removed", reason });
  switch (action) {
    case "block":
      return removed("the call is rejected");
    case "withhold":
      return removed("the caller ID is withheld: From is anonymous");
    case "tag":
      return removed("the verdict's label is shown in its place");
  }
  if (mode === "peer") return { presented, presentation: "shown", reason: "CALLER_NAMES=peer: an allowed call keeps the peer's name" };
  if (name.length > MAX_SHOWN_NAME_CHARS) return removed(`longer than the ${MAX_SHOWN_NAME_CHARS} characters a name is shown with`);
  // `"\u202Eknab kylaH"` is shown as "Halyk bank", and a reversed number as the number: neither the
  // number search below nor an operator rule's phrase (src/rules/name-phrase.ts) reads what the phone shows.
  if (hasControlCharacters(name)) {
    return removed("the name holds control or bidirectional formatting characters (U+202E and the like): a phone would show it otherwise than it is written");
  }
  const spelled = otherNumberIn(name, call.cli?.tn ?? null, country);
  if (spelled !== null) return removed(`the name spells another number (${spelled}) than the caller ID: a phone would show it in place of the number`);
  if (others.some(({ presentedIn }) => presentedIn === "From")) return removed("From presents another number than the caller ID: nothing answers for a name beside it");
  if (voucher === null) {
    return removed("nothing answers for it: the caller ID is neither attested A by a provider the operator lists, nor on the authorised-use list, nor a national number on a domestic interconnect");
  }
  return { presented, presentation: "shown", reason: voucher.detail, vouchedBy: voucher.by };
}
