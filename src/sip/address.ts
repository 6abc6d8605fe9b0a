import type { NameAddrHeader } from "sip.js/lib/grammar/name-addr-header.js";
import type { URI } from "sip.js/lib/grammar/uri.js";
import { matchSipRule } from "./grammar";

/**
 * The grammar's work grows with the value (~3 ms for 1 KiB of URI parameters, ~15 ms for 4 KiB, on
 * Node): a longer value is not parsed. Real request lines and address headers are a few hundred
 * characters.
 */
export const MAX_PARSED_LINE_CHARS = 1_024;

/** Where an address comes from, by the name an analyst reads in a check's detail. */
export type AddressSource = "From" | "To" | "P-Asserted-Identity" | "Request-URI";

/** What the verdict reads of an address: the URI's scheme and its user part, and the display name beside them. */
export interface SipAddress {
  scheme: "sip" | "sips" | "tel";
  /** A SIP URI's user part, or a tel URI's number, as the grammar decoded it; null when the URI has none. */
  user: string | null;
  /**
   * The display name (RFC 3261 §20.10): a quoted string's text with its quoted pairs undone, or the
   * tokens written before `<`, trimmed; absent when there is none, or when it holds only white space.
   * The callee may be shown it beside the number: the peer chose it.
   */
  name?: string;
  /**
   * The header's `party` parameter, lower case and unquoted, when it has one: a Remote-Party-ID names
   * the called party by it (draft-ietf-sip-privacy-04 §5). Only the grammar's reading of the header's
   * own parameters counts: the same text in the URI, the display name or another parameter's quoted
   * value is no such parameter.
   */
  party?: string;
}

/** Why an address could not be read. The peer wrote it: the checks judge it, the request stands. */
export type AddressProblem = "repeated" | "too-long" | "unparseable";

/** A header value (or Request-URI) as the peer sent it, and its address or why it has none. */
export type AddressReading = { raw: string; address: SipAddress } | { raw: string; problem: AddressProblem };

export function describeAddressProblem(source: AddressSource, problem: AddressProblem): string {
  switch (problem) {
    case "repeated":
      return `more than one ${source} header`;
    case "too-long":
      return `${source} longer than ${MAX_PARSED_LINE_CHARS} characters`;
    case "unparseable":
      return `${source} unparseable`;
  }
}

/**
 * sip.js's From and To rules read `(name-addr / addr-spec) *(";" param)` (RFC 3261 §20.20, §20.39).
 * That is also the shape of a P-Asserted-Identity value (RFC 3325 §9.1; sip.js's own Name_Addr_Header
 * rule refuses its addr-spec form) and of a Request-URI written alone, so those are read with To's.
 */
const RULE: Record<AddressSource, string> = { From: "From", To: "To", "P-Asserted-Identity": "To", "Request-URI": "To" };

/**
 * Reads an address header value (or a Request-URI): the common shapes below directly, anything else
 * through sip.js's grammar. A value longer than MAX_PARSED_LINE_CHARS is not read.
 */
export function readAddress(value: string, source: AddressSource): AddressReading {
  if (value.length > MAX_PARSED_LINE_CHARS) return { raw: value, problem: "too-long" };
  const common = readCommonAddress(value);
  return common === null ? readAddressByGrammar(value, source) : { raw: value, address: common };
}

/** A host name whose every label starts with a letter: no reading of it as an IPv4 address can compete. */
const LABEL = "[A-Za-z](?:[A-Za-z0-9-]*[A-Za-z0-9])?";
const HOST = `(?:${LABEL}\\.)*${LABEL}`;
const URI_PARAMETERS = "(?:;(?:user=(?:phone|ip)|transport=(?:udp|tcp|tls|sctp)|lr))*";
const BRACKETED = `(?:"(?<displayName>[A-Za-z0-9 .-]*)" ?)?<(?:(?<bracketedScheme>sips?):(?<bracketedUser>[A-Za-z0-9+.-]+)@${HOST}${URI_PARAMETERS}|tel:(?<bracketedTel>\\+?[0-9]+))>`;
const BARE_SIP = `(?<scheme>sips?):(?<user>[A-Za-z0-9+.-]+)@${HOST}`;
const BARE_TEL = `tel:(?<tel>\\+?[0-9]+)`;
/**
 * The shapes nearly every peer writes — `"Name" <sip:+77015000000@host;user=phone>;tag=x`, the same
 * without a display name or brackets, `<tel:+77015000000>` — spelt with the characters above only: a
 * display name of letters, digits, spaces, dots and hyphens; a user part of letters, digits, `+`, `.`
 * and `-` (nothing to decode); the URI parameters user, transport and lr with their registered values;
 * a tag, except after a tel URI without brackets (in a Request-URI that would be the tel URI's
 * parameter). Every value this matches, the grammar reads as the same address, whichever header it came
 * in (test/node/sip/address.test.ts compares the two on fuzzed values); every other value goes to the
 * grammar, which is ten times slower.
 */
const COMMON_ADDRESS = new RegExp(`^(?:(?:${BRACKETED}|${BARE_SIP})(?:;tag=[A-Za-z0-9.-]+)?|${BARE_TEL})$`);

/** The address of a value in one of the common shapes; null for any other value. */
export function readCommonAddress(value: string): SipAddress | null {
  const groups = COMMON_ADDRESS.exec(value)?.groups;
  if (groups === undefined) return null;
  const tel = groups.bracketedTel ?? groups.tel;
  const address: SipAddress = tel !== undefined ? { scheme: "tel", user: tel } : { scheme: (groups.bracketedScheme ?? groups.scheme) as "sip" | "sips", user: (groups.bracketedUser ?? groups.user)! };
  return withDisplayName(address, groups.displayName);
}

/** The address with its display name, when the name holds more than white space. */
function withDisplayName(address: SipAddress, displayName: string | undefined): SipAddress {
  const name = displayName?.trim();
  return name ? { ...address, name } : address;
}

/**
 * A display name as sip.js's grammar keeps it: a quoted string without its quotes but with its quoted
 * pairs (`\"`) as written (RFC 3261 §25.1), or the tokens as written.
 */
const displayNameOf = (header: NameAddrHeader): string | undefined => {
  const written = header.displayName;
  return typeof written === "string" ? written.replace(/\\([\x00-\x09\x0b\x0c\x0e-\x7f])/g, "$1") : undefined;
};

/**
 * Reads an address header value through sip.js's grammar. A quoted display name is the grammar's
 * to skip: a URI written inside one is text, never the address. Of a P-Asserted-Identity list, the
 * first identity is read (readAssertedIdentities reads them all).
 */
export const readAddressByGrammar = (value: string, source: AddressSource): AddressReading => readFirstByGrammar(value, source).reading;

/**
 * The first address of a value through the grammar, and for P-Asserted-Identity whatever of its list
 * follows the comma that ends it (RFC 3261 §7.3.1; RFC 3325 §9.1). The grammar stops at that comma
 * whatever a quoted display name or a bracketed URI before it holds, so the list is cut where it did.
 */
function readFirstByGrammar(value: string, source: AddressSource): { reading: AddressReading; rest: string | null } {
  const rule = RULE[source];
  let text = value;
  let match = matchSipRule(text, rule);
  const telAsSip = match.matched ? null : telUriAsSipUri(text, match.stoppedAt, source === "Request-URI");
  if (telAsSip !== null) {
    text = telAsSip;
    match = matchSipRule(text, rule);
  }
  if (!match.matched && source === "P-Asserted-Identity" && match.stoppedAt !== null && text[match.stoppedAt] === ",") {
    const comma = match.stoppedAt;
    match = matchSipRule(text.slice(0, comma), rule);
    // A tel URI rewritten as a SIP one lengthened the text before the comma only: what follows it is the value's own.
    const cut = comma - (text.length - value.length);
    if (match.matched) return { reading: { raw: value.slice(0, cut).trim(), address: namedAddressOf(match.data as NameAddrHeader, telAsSip !== null) }, rest: value.slice(cut + 1) };
  }
  if (!match.matched) return { reading: { raw: value, problem: "unparseable" }, rest: null };
  return { reading: { raw: value, address: namedAddressOf(match.data as NameAddrHeader, telAsSip !== null) }, rest: null };
}

/**
 * RFC 3325 §9.1 allows a P-Asserted-Identity one identity, or two: a SIP or SIPS URI and a tel URI.
 * One more is read, so that a list longer than the standard's is seen to be.
 */
export const MAX_ASSERTED_IDENTITIES = 2;

/**
 * Every identity a P-Asserted-Identity value lists, in order, each read as an address header value;
 * at most one more than MAX_ASSERTED_IDENTITIES. The callee's side may present any of them: a gateway
 * to the circuit-switched network can take the calling number from the tel URI, or from the second
 * identity, whichever the first is. A value too long to parse is one unreadable identity.
 */
export function readAssertedIdentities(value: string): AddressReading[] {
  if (value.length > MAX_PARSED_LINE_CHARS) return [{ raw: value, problem: "too-long" }];
  const identities: AddressReading[] = [];
  // An empty element after the last comma is no identity (RFC 3261 §7.3.1 has none); it is not read.
  for (let rest: string | null = value.trim(); rest !== null && rest !== "" && identities.length <= MAX_ASSERTED_IDENTITIES; ) {
    const common = readCommonAddress(rest);
    const next: { reading: AddressReading; rest: string | null } = common === null ? readFirstByGrammar(rest, "P-Asserted-Identity") : { reading: { raw: rest, address: common }, rest: null };
    identities.push(next.reading);
    rest = next.rest?.trim() ?? null;
  }
  return identities;
}

/**
 * The address of a URI the grammar built; `tel` when it is a tel URI written as a SIP one. sip.js's URI
 * keeps the whole userinfo in `user`, password included (RFC 3261 §19.1.1: `user [":" password]`): the
 * password is not part of the user, so `sip:+7727…:x@host` presents +7727…, as a core or an ISUP
 * interworking shows it. A `:` cannot be written in a user part unescaped, and one that was escaped
 * ends the number all the same: whatever follows is no digit of it.
 */
export function addressOf(uri: URI, tel = false): SipAddress {
  const user = uri.user ? uri.user.split(":")[0]! : "";
  return { scheme: tel ? "tel" : (uri.scheme as "sip" | "sips"), user: user || null };
}

/** The address of a header the grammar read, with its display name and its `party` parameter. */
function namedAddressOf(header: NameAddrHeader, tel: boolean): SipAddress {
  const address = withDisplayName(addressOf(header.uri, tel), displayNameOf(header));
  const party = header.getParam("party")?.replace(/^"(.*)"$/, "$1").toLowerCase();
  return party === undefined ? address : { ...address, party };
}

const TEL_HOST = "tel.invalid";
/** A tel URI's number runs to its first parameter (RFC 3966 §3), or to the end of the URI. */
const TEL_NUMBER_END = /[;,>\s]|$/g;

/**
 * sip.js's grammar knows only sip: and sips: URIs, but From, To, P-Asserted-Identity and the
 * Request-URI may hold a tel URI (RFC 3261 §19.1.1, RFC 3325 §9.1, RFC 3966). Where the grammar
 * stopped at a `tel:` (after a display name and `<`, or at the start of an addr-spec), the tel URI is
 * rewritten as RFC 3261 §19.1.6 maps one into a SIP URI: its number and parameters as the user part
 * (`tel:4940545;phone-context=+7701` → `sip:4940545;phone-context=+7701@…`, a telephone-subscriber
 * as in a `user=phone` SIP URI, so a local number keeps the context it is local to), on a host that
 * cannot exist (RFC 6761 `.invalid`). A tel URI's parameters are those up to its closing `>`; after a
 * tel URI without angle brackets they are the header's (RFC 3261 §20.10), except in a Request-URI
 * (`bareUri`), which is a URI and nothing else: all its parameters are the tel URI's, so
 * `tel:4940545;phone-context=+7701` keeps its context. The grammar then reads the whole value again,
 * so the display name, brackets and parameters are still its to judge. Null when the grammar did not
 * stop at a tel URI.
 */
function telUriAsSipUri(text: string, stoppedAt: number | null, bareUri: boolean): string | null {
  const addrSpecStart = text.length - text.trimStart().length;
  const at = [stoppedAt, addrSpecStart].find((offset) => offset !== null && text.slice(offset, offset + 4).toLowerCase() === "tel:");
  if (at === undefined || at === null) return null;
  TEL_NUMBER_END.lastIndex = at + 4;
  const numberEnd = TEL_NUMBER_END.exec(text)!.index;
  if (numberEnd === at + 4) return null;
  const closing = text[at - 1] === "<" ? text.indexOf(">", numberEnd) : bareUri ? text.length : -1;
  const end = closing === -1 ? numberEnd : closing;
  return `${text.slice(0, at)}sip:${text.slice(at + 4, end)}@${TEL_HOST}${text.slice(end)}`;
}
