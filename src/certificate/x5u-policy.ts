import { LRUCache } from "lru-cache";
import { VerificationError } from "../verification/outcomes";

/**
 * Which certificate URLs the verifier will fetch. The x5u is written by whoever built the
 * PASSporT, so this is an SSRF boundary: ATIS-1000074 v003 §5.3.1, and Asterisk's AST-2022-002.
 */
export interface X5uPolicy {
  /** Development only: also allow http(s)://127.0.0.1:PORT and http(s)://localhost:PORT. */
  allowInsecureLoopback: boolean;
  /** When non-empty, only these hosts (and their subdomains, written ".example.net") may be fetched. */
  allowedHosts: string[];
}

const ALLOWED_PORTS = new Set(["", "443", "8443"]);

const refuse = (description: string, url?: string) =>
  new VerificationError("X5U_POLICY", description, url === undefined ? undefined : { x5u: url.slice(0, 512) });

/**
 * URLs this policy accepted, by their text: a warm call names an x5u seen before, and parsing it again
 * would build a URL object per call (a runtime object the isolate frees only in a major GC). Bounded
 * like the certificate cache; refusals are not remembered, so hostile strings cannot fill it.
 */
const accepted = new WeakMap<X5uPolicy, LRUCache<string, URL>>();
const ACCEPTED_MAX = 2_000;

/** Returns the URL to fetch, or throws X5U_POLICY naming the rule the URL breaks. */
export function checkX5uUrl(x5u: string, policy: X5uPolicy): URL {
  let known = accepted.get(policy);
  const remembered = known?.get(x5u);
  if (remembered) return remembered;
  const url = checkUnseenX5uUrl(x5u, policy);
  if (!known) accepted.set(policy, (known = new LRUCache<string, URL>({ max: ACCEPTED_MAX })));
  known.set(x5u, url);
  return url;
}

function checkUnseenX5uUrl(x5u: string, policy: X5uPolicy): URL {
  if (x5u.length > 2048) throw refuse("x5u is longer than 2048 characters");
  let url: URL;
  try {
    url = new URL(x5u);
  } catch {
    throw new VerificationError("INFO_INVALID", "info/x5u is not an absolute URI", { x5u: x5u.slice(0, 512) });
  }
  if (policy.allowInsecureLoopback && isLoopbackDevelopmentUrl(url)) return url;
  if (url.protocol !== "https:") throw refuse(`x5u scheme '${url.protocol}' is not allowed; only https`, x5u);
  if (url.username !== "" || url.password !== "") throw refuse("x5u must not carry userinfo", x5u);
  if (!ALLOWED_PORTS.has(url.port)) throw refuse(`x5u port ${url.port} is not allowed; only 443 and 8443`, x5u);
  // The WHATWG parser drops an empty "?" or "#"; look at the text too.
  if (url.search !== "" || x5u.includes("?")) throw refuse("x5u must not have a query", x5u);
  if (url.hash !== "" || x5u.includes("#")) throw refuse("x5u must not have a fragment", x5u);
  if (url.pathname.includes(";")) throw refuse("x5u must not have path parameters", x5u);
  const host = hostOf(url);
  const notPublic = nonPublicHost(url);
  if (notPublic) throw refuse(`x5u host ${notPublic}`, x5u);
  if (policy.allowedHosts.length > 0 && !policy.allowedHosts.some((allowed) => hostMatches(host, allowed))) {
    throw refuse(`x5u host ${host} is not on the repository allow-list`, x5u);
  }
  return url;
}

/**
 * The URL's host as judged: the URL parser has already turned decimal, octal and hex IPv4 spellings
 * into dotted quads, and a fully qualified name's trailing dots ("localhost.", "localhost..") name the
 * same host to a resolver that ignores empty labels.
 */
const hostOf = (url: URL): string => url.hostname.replace(/\.+$/, "");

/** Why a URL's host cannot be a public server — a special-purpose address, or this machine — or null. */
export function nonPublicHost(url: URL): string | null {
  const host = hostOf(url);
  const special = specialPurposeAddress(host);
  if (special) return `${host} is a ${special} address`;
  if (host === "localhost" || host.endsWith(".localhost")) return `${host} is localhost`;
  return null;
}

function isLoopbackDevelopmentUrl(url: URL): boolean {
  return (
    (url.protocol === "http:" || url.protocol === "https:") &&
    (url.hostname === "127.0.0.1" || url.hostname === "localhost") &&
    url.username === "" &&
    url.password === "" &&
    url.search === "" &&
    url.hash === ""
  );
}

/** `allowed` is a host name, or `.example.net` for every host under it. */
export function hostMatches(host: string, allowed: string): boolean {
  const pattern = allowed.trim().toLowerCase();
  return pattern.startsWith(".") ? host.endsWith(pattern) : host === pattern;
}

/** IPv4 special-purpose blocks (RFC 6890 and successors) that are never a certificate repository. */
const IPV4_SPECIAL: [number, number, string][] = [
  [0x00000000, 8, "this-network"],
  [0x0a000000, 8, "private (RFC 1918)"],
  [0x64400000, 10, "shared (RFC 6598)"],
  [0x7f000000, 8, "loopback"],
  [0xa9fe0000, 16, "link-local"],
  [0xac100000, 12, "private (RFC 1918)"],
  [0xc0000000, 24, "IETF protocol assignment"],
  [0xc0000200, 24, "documentation"],
  [0xc0586300, 24, "6to4 relay"],
  [0xc0a80000, 16, "private (RFC 1918)"],
  [0xc6120000, 15, "benchmarking"],
  [0xc6336400, 24, "documentation"],
  [0xcb007100, 24, "documentation"],
  [0xe0000000, 4, "multicast"],
  [0xf0000000, 4, "reserved"],
];

function ipv4ToInt(host: string): number | null {
  const parts = host.split(".");
  if (parts.length !== 4 || parts.some((part) => !/^\d{1,3}$/.test(part) || Number(part) > 255)) return null;
  return parts.reduce((acc, part) => acc * 256 + Number(part), 0);
}

function ipv4Special(value: number): string | null {
  for (const [base, bits, name] of IPV4_SPECIAL) {
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    if (((value & mask) >>> 0) === base) return name;
  }
  return null;
}

/** Expands an IPv6 literal (as the URL parser prints it, bracketed and compressed) to 8 groups. */
function ipv6Groups(literal: string): number[] | null {
  let text = literal.slice(1, -1).toLowerCase();
  const embedded = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (embedded) {
    const v4 = ipv4ToInt(embedded[1]!);
    if (v4 === null) return null;
    text = text.slice(0, -embedded[1]!.length) + `${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head, tail] = text.split("::") as [string, string | undefined];
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = tail === undefined || tail === "" ? [] : tail.split(":");
  const missing = 8 - headGroups.length - tailGroups.length;
  // "::" stands for one group of zeros or more (RFC 4291 §2.2).
  if (tail === undefined ? missing !== 0 : missing < 1) return null;
  return [...headGroups, ...Array<string>(tail === undefined ? 0 : missing).fill("0"), ...tailGroups].map((group) => parseInt(group, 16));
}

function ipv6Special(groups: number[]): string | null {
  const [g0, g1, g2, g3, g4, g5, g6, g7] = groups as [number, number, number, number, number, number, number, number];
  if (groups.every((group) => group === 0)) return "unspecified";
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0 && g6 === 0 && g7 === 1) return "loopback";
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0 && (g5 === 0xffff || g5 === 0)) {
    const embedded = ipv4Special(((g6 << 16) | g7) >>> 0);
    return `IPv4-${g5 === 0xffff ? "mapped" : "compatible"} ${embedded ?? "IPv4"}`;
  }
  // ::ffff:0:0:0/96, IPv4-translated (RFC 2765 §2.1, SIIT): an IPv4 address reached through a translator.
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0xffff && g5 === 0) return `IPv4-translated ${ipv4Special(((g6 << 16) | g7) >>> 0) ?? "IPv4"}`;
  if (g0 === 0x64 && g1 === 0xff9b) return "NAT64";
  if (g0 === 0x100 && g1 === 0 && g2 === 0 && g3 === 0) return "discard-only (RFC 6666)";
  if ((g0 & 0xfe00) === 0xfc00) return "unique-local";
  if ((g0 & 0xffc0) === 0xfe80) return "link-local";
  if ((g0 & 0xffc0) === 0xfec0) return "site-local";
  if ((g0 & 0xff00) === 0xff00) return "multicast";
  if (g0 === 0x2001 && g1 === 0x0db8) return "documentation";
  if (g0 === 0x3fff && g1 < 0x1000) return "documentation"; // 3fff::/20, RFC 9637
  if (g0 === 0x5f00) return "segment routing (RFC 9602)";
  if (g0 === 0x2002) return "6to4";
  if (g0 === 0x2001 && g1 < 0x0200) return "IETF protocol assignment";
  return null;
}

/** The special-purpose block a literal address falls in, or null (also null for host names). */
export function specialPurposeAddress(host: string): string | null {
  if (host.startsWith("[")) {
    const groups = ipv6Groups(host);
    return groups === null ? "malformed IPv6" : ipv6Special(groups);
  }
  const v4 = ipv4ToInt(host);
  return v4 === null ? null : ipv4Special(v4);
}
