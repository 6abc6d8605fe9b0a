import { describe, expect, it } from "vitest";
import { checkX5uUrl, specialPurposeAddress } from "../../../src/certificate/x5u-policy";
import { VerificationError } from "../../../src/verification/outcomes";

const production = { allowInsecureLoopback: false, allowedHosts: [] as string[] };

/** The VerificationError checkX5uUrl throws for `x5u`. */
function refusalOf(x5u: string, policy = production): VerificationError {
  try {
    checkX5uUrl(x5u, policy);
  } catch (error) {
    expect(error).toBeInstanceOf(VerificationError);
    return error as VerificationError;
  }
  throw new Error(`${x5u} was allowed`);
}

/** The refusal as "FAILURE: description". */
function refusal(x5u: string, policy = production): string {
  const error = refusalOf(x5u, policy);
  return `${error.failure}: ${error.message}`;
}

describe("x5u policy (ATIS-1000074 §5.3.1, AST-2022-002)", () => {
  it.each([
    "https://cr.example.net/sp.pem",
    "https://cr.example.net:8443/certs/sp.pem",
    "https://cr.example.net:443/sp.pem",
    "https://8.8.8.8/sp.pem",
  ])("allows %s", (x5u) => {
    expect(checkX5uUrl(x5u, production).href).toBe(new URL(x5u).href);
  });

  it.each([
    ["http://cr.example.net/sp.pem", /scheme 'http:'/],
    ["ftp://cr.example.net/sp.pem", /scheme 'ftp:'/],
    ["file:///etc/passwd", /scheme 'file:'/],
    ["data:text/plain,hello", /scheme 'data:'/],
    ["https://user:pw@cr.example.net/sp.pem", /userinfo/],
    ["https://user@cr.example.net/sp.pem", /userinfo/],
    ["https://cr.example.net:8080/sp.pem", /port 8080/],
    ["https://cr.example.net/sp.pem?x=1", /query/],
    ["https://cr.example.net/sp.pem?", /query/],
    ["https://cr.example.net/sp.pem#frag", /fragment/],
    ["https://cr.example.net/sp.pem;type=a", /path parameters/],
    ["https://127.0.0.1/sp.pem", /loopback/],
    ["https://0.0.0.0/sp.pem", /this-network/],
    ["https://10.1.2.3/sp.pem", /private/],
    ["https://172.16.0.1/sp.pem", /private/],
    ["https://172.31.255.255/sp.pem", /private/],
    ["https://192.168.1.1/sp.pem", /private/],
    ["https://169.254.169.254/latest/meta-data", /link-local/],
    ["https://100.64.0.1/sp.pem", /shared/],
    ["https://[::1]/sp.pem", /loopback/],
    ["https://[fc00::1]/sp.pem", /unique-local/],
    ["https://[fe80::1]/sp.pem", /link-local/],
    ["https://[::ffff:127.0.0.1]/sp.pem", /IPv4-mapped loopback/],
    ["https://[::ffff:10.0.0.1]/sp.pem", /IPv4-mapped private/],
    ["https://2130706433/sp.pem", /127\.0\.0\.1 is a loopback/],
    ["https://0177.0.0.1/sp.pem", /loopback/],
    ["https://0x7f.0.0.1/sp.pem", /loopback/],
    ["https://0x7f000001/sp.pem", /loopback/],
    ["https://localhost/sp.pem", /localhost/],
    ["https://a.localhost/sp.pem", /localhost/],
    ["https://localhost./sp.pem", /localhost/],
    ["https://a.localhost./sp.pem", /localhost/],
    ["https://127.0.0.1./sp.pem", /loopback/],
    ["https://localhost../sp.pem", /localhost/],
    ["https://[::ffff:0:7f00:1]/sp.pem", /IPv4-translated loopback/],
    ["https://[100::1]/sp.pem", /discard-only/],
  ])("refuses %s", (x5u, reason) => {
    expect(refusal(x5u)).toMatch(reason);
  });

  it("reports a URL that does not parse as bad info", () => {
    expect(refusal("not a url")).toMatch(/^INFO_INVALID/);
  });

  it("allows loopback http only behind the development setting", () => {
    expect(refusal("http://127.0.0.1:8788/sp.pem")).toMatch(/scheme/);
    const development = { allowInsecureLoopback: true, allowedHosts: [] as string[] };
    expect(checkX5uUrl("http://127.0.0.1:8788/sp.pem", development).port).toBe("8788");
    expect(checkX5uUrl("http://localhost:8788/sp.pem", development).hostname).toBe("localhost");
    expect(refusal("http://10.0.0.1:8788/sp.pem", development)).toMatch(/scheme/);
  });

  it("restricts repositories to an allow-list when one is configured", () => {
    const policy = { allowInsecureLoopback: false, allowedHosts: ["cr.example.net", ".sti-cr.example"] };
    expect(checkX5uUrl("https://cr.example.net/a.pem", policy)).toBeTruthy();
    expect(checkX5uUrl("https://x.sti-cr.example/a.pem", policy)).toBeTruthy();
    expect(refusal("https://evil.example/a.pem", policy)).toMatch(/allow-list/);
  });

  it("remembers an accepted URL per policy, never across policies", () => {
    const development = { allowInsecureLoopback: true, allowedHosts: [] as string[] };
    const x5u = "http://127.0.0.1:8788/remembered.pem";
    const first = checkX5uUrl(x5u, development);
    expect(checkX5uUrl(x5u, development)).toBe(first); // the same parsed URL, not a new one
    expect(refusal(x5u)).toMatch(/scheme/); // what one policy accepted, another still refuses
    const allowList = { allowInsecureLoopback: false, allowedHosts: ["cr.example.net"] };
    expect(checkX5uUrl("https://cr.example.net/a.pem", production)).toBeTruthy();
    expect(refusal("https://cr.example.net/b.pem?x", allowList)).toMatch(/query/);
  });

  it("classifies literal addresses", () => {
    expect(specialPurposeAddress("192.0.2.1")).toBe("documentation");
    expect(specialPurposeAddress("[2001:db8::1]")).toBe("documentation");
    expect(specialPurposeAddress("93.184.216.34")).toBeNull();
    expect(specialPurposeAddress("[2606:4700::1]")).toBeNull();
    expect(specialPurposeAddress("cr.example.net")).toBeNull();
  });
});

describe("x5u policy: the edges of each rule", () => {
  const at = (length: number) => `https://cr.example.net/${"a".repeat(length - "https://cr.example.net/".length - ".pem".length)}.pem`;

  it("allows an x5u of 2048 characters and refuses one of 2049, showing at most 512 of a refused URL", () => {
    expect(checkX5uUrl(at(2048), production).href).toBe(at(2048));
    const tooLong = refusalOf(at(2049));
    expect([tooLong.failure, tooLong.message, tooLong.evidence]).toEqual(["X5U_POLICY", "x5u is longer than 2048 characters", undefined]);
    expect(refusalOf(`${at(1000)}?x`).evidence).toEqual({ x5u: `${at(1000)}?x`.slice(0, 512) });
    expect(refusalOf(`not a url ${"x".repeat(600)}`).evidence).toEqual({ x5u: `not a url ${"x".repeat(600)}`.slice(0, 512) });
  });

  it("refuses a password without a user name", () => {
    expect(refusal("https://:pw@cr.example.net/sp.pem")).toMatch(/userinfo/);
  });

  it("remembers every URL it accepted, not only the last", () => {
    const policy = { allowInsecureLoopback: false, allowedHosts: [] as string[] };
    const first = checkX5uUrl("https://cr.example.net/a.pem", policy);
    checkX5uUrl("https://cr.example.net/b.pem", policy);
    expect(checkX5uUrl("https://cr.example.net/a.pem", policy)).toBe(first);
  });

  it("takes allow-list entries as written in a comma-separated setting: spaces around them ignored, case ignored", () => {
    expect(checkX5uUrl("https://cr.example.net/a.pem", { allowInsecureLoopback: false, allowedHosts: [" CR.example.net "] })).toBeTruthy();
  });

  it("lets the development setting through only plain http(s) to 127.0.0.1 or localhost", () => {
    const development = { allowInsecureLoopback: true, allowedHosts: [] as string[] };
    expect(checkX5uUrl("https://127.0.0.1:8788/sp.pem", development).port).toBe("8788");
    for (const [x5u, reason] of [
      ["ftp://127.0.0.1:8788/sp.pem", /scheme 'ftp:'/],
      ["http://u@127.0.0.1:8788/sp.pem", /scheme 'http:'/],
      ["http://:pw@127.0.0.1:8788/sp.pem", /scheme 'http:'/],
      ["http://127.0.0.1:8788/sp.pem?q", /scheme 'http:'/],
      ["http://127.0.0.1:8788/sp.pem#f", /scheme 'http:'/],
    ] as const) {
      expect(refusal(x5u, development), x5u).toMatch(reason);
    }
  });
});

describe("literal addresses, classified exactly", () => {
  it.each([
    ["10.0.0.256", null],
    ["1.2.3", null],
    ["1.2.3.4.5", null],
    ["a1.0.0.1", null],
    ["10a.0.0.1", null],
    ["8.8.8.8", null],
    ["[::]", "unspecified"],
    ["[::1]", "loopback"],
    ["[0:0::1]", "loopback"],
    ["[::2]", "IPv4-compatible this-network"],
    ["[0:1::1]", null],
    ["[0:0:1::1]", null],
    ["[0:0:0:1::1]", null],
    ["[::1:0:0:0:1]", null],
    ["[::1:0:0:1]", null],
    ["[::1:1]", "IPv4-compatible this-network"],
    ["[::1:0:1]", null],
    ["[::ffff:127.100.200.255]", "IPv4-mapped loopback"],
    ["[::ffff:8.8.8.8]", "IPv4-mapped IPv4"],
    ["[::ffff:808:808]", "IPv4-mapped IPv4"],
    ["[::808:808]", "IPv4-compatible IPv4"],
    ["[::127.0.0.1]", "IPv4-compatible loopback"],
    ["[::1:808:808]", null],
    ["[0:1::ffff:808:808]", null],
    ["[0:0:1::ffff:808:808]", null],
    ["[0:0:0:1::ffff:808:808]", null],
    ["[::1:ffff:808:808]", null],
    ["[::ffff:1.2.3.256]", "malformed IPv6"],
    ["[64:ff9b::808:808]", "NAT64"],
    ["[64:1::1]", null],
    ["[65:ff9b::1]", null],
    ["[100:1::1]", null],
    ["[100:0:1::1]", null],
    ["[100:0:0:1::1]", null],
    ["[fec0::1]", "site-local"],
    ["[ff02::1]", "multicast"],
    ["[2001:db8::1]", "documentation"],
    ["[3fff::1]", "documentation"],
    ["[3fff:fff::1]", "documentation"],
    ["[3fff:1000::1]", null],
    ["[5f00::1]", "segment routing (RFC 9602)"],
    ["[::ffff:0:808:808]", "IPv4-translated IPv4"],
    ["[::ffff:1:808:808]", null],
    ["[2000:db8::1]", null],
    ["[2001:db9::1]", null],
    ["[2002::1]", "6to4"],
    ["[2001::1]", "IETF protocol assignment"],
    ["[2001:1ff::1]", "IETF protocol assignment"],
    ["[2001:200::1]", null],
    ["[1:2:3:4:5:6:7:8]", null],
    ["[1:2:3:4::5:6:7]", null],
    ["[1:2:3:4:5:6:1.2.3.4]", null],
    ["[1::]", null],
    ["[1:2:3:4:5:6:7]", "malformed IPv6"],
    ["[1:2:3:4:5:6:7:8:9]", "malformed IPv6"],
    ["[1::2:3:4:5:6:7:8]", "malformed IPv6"],
    ["[1::2:3:4:5:6:7:8:9]", "malformed IPv6"],
  ])("%s: %s", (host, expected) => {
    expect(specialPurposeAddress(host)).toBe(expected);
  });
});
