import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { checkOf, verdictVia } from "../abuse/support";
import { appAt, craftIdentity, installTrust, pki, verdictRequest } from "../support/stir";

/**
 * The x5u is written by whoever built the PASSporT: an SSRF boundary (ATIS-1000074 §5.3.1,
 * Asterisk AST-2022-002). Every test runs the production policy (no loopback development setting)
 * and watches the outbound fetch: a refused URL must never be requested.
 */
const production = { ...env, X5U_ALLOW_INSECURE_LOOPBACK: "false" };

function watchedNetwork(answer: (request: Request) => Response = () => new Response(`${pki.leaf}${pki.intermediate}`, { headers: { "Content-Type": "application/pem-certificate-chain" } })) {
  const requested: Request[] = [];
  const fetcher = async (request: Request) => {
    requested.push(request);
    return answer(request);
  };
  return { requested, fetcher };
}

let globalFetch: ReturnType<typeof vi.spyOn>;
beforeEach(async () => {
  await installTrust();
  globalFetch = vi.spyOn(globalThis, "fetch");
});
afterEach(() => vi.restoreAllMocks());

async function verdictForX5u(x5u: string, network = watchedNetwork(), bindings: object = production) {
  const identity = await craftIdentity({ x5u });
  globalFetch.mockClear(); // building the fixture registered nothing; from here on, nothing may leave
  const verdict = await verdictVia(appAt(0, { fetcher: network.fetcher }), verdictRequest([identity]), bindings);
  return { verdict, requested: network.requested };
}

describe("x5u pointing where a certificate repository cannot be", () => {
  it.each([
    ["loopback", "https://127.0.0.1/sp.pem"],
    ["this network", "https://0.0.0.0/sp.pem"],
    ["10/8", "https://10.1.2.3/sp.pem"],
    ["172.16/12", "https://172.16.0.1/sp.pem"],
    ["172.16/12 (upper end)", "https://172.31.255.254/sp.pem"],
    ["192.168/16", "https://192.168.1.1/sp.pem"],
    ["cloud metadata", "https://169.254.169.254/latest/meta-data/iam"],
    ["100.64/10 (CGNAT)", "https://100.64.0.1/sp.pem"],
    ["IPv6 loopback", "https://[::1]/sp.pem"],
    ["IPv6 unique-local", "https://[fc00::1]/sp.pem"],
    ["IPv6 link-local", "https://[fe80::1]/sp.pem"],
    ["IPv4-mapped loopback", "https://[::ffff:127.0.0.1]/sp.pem"],
    ["decimal IPv4", "https://2130706433/sp.pem"],
    ["decimal IPv4 over http", "http://2130706433/sp.pem"],
    ["octal IPv4", "https://0177.0.0.1/sp.pem"],
    ["hex IPv4", "https://0x7f.0.0.1/sp.pem"],
    ["hex IPv4 as one number", "https://0x7f000001/sp.pem"],
    ["file:", "file:///etc/passwd"],
    ["data:", "data:application/pem-certificate-chain,-----BEGIN"],
    ["ftp:", "ftp://cr.example.net/sp.pem"],
    ["plain http", "http://cr.example.net/sp.pem"],
    ["userinfo", "https://user:secret@cr.example.net/sp.pem"],
    ["user only", "https://admin@cr.example.net/sp.pem"],
    ["port 80", "https://cr.example.net:80/sp.pem"],
    ["port 8080", "https://cr.example.net:8080/sp.pem"],
    ["port 22", "https://cr.example.net:22/sp.pem"],
    ["localhost", "https://localhost/sp.pem"],
  ])("%s (%s) is refused and never requested", async (_name, x5u) => {
    const { verdict, requested } = await verdictForX5u(x5u);
    expect(verdict.stir).toMatchObject({ reasoncode: 436, failedCheck: "x5u.policy" });
    expect(requested).toEqual([]);
    expect(globalFetch).not.toHaveBeenCalled();
  });

  it("control: an allowed repository is requested through the same watched fetch", async () => {
    const { verdict, requested } = await verdictForX5u("https://cr.example.net:8443/sp.pem");
    expect(verdict.stir.reasoncode).toBeNull();
    expect(requested.map((request) => request.url)).toEqual(["https://cr.example.net:8443/sp.pem"]);
  });
});

describe("redirects", () => {
  it("a 302 from an allowed host to a private address is not followed", async () => {
    const network = watchedNetwork((request) =>
      request.url.startsWith("https://cr.example.net/") ? new Response(null, { status: 302, headers: { Location: "https://169.254.169.254/latest/meta-data" } }) : new Response("should never be asked"),
    );
    const { verdict, requested } = await verdictForX5u("https://cr.example.net/redirecting.pem", network);
    expect(verdict.stir).toMatchObject({ reasoncode: 436, failedCheck: "x5u.fetch", reasondesc: expect.stringMatching(/302 \(redirect\)/) });
    expect(requested.map((request) => request.url)).toEqual(["https://cr.example.net/redirecting.pem"]);
    // The fetch is made with redirect: "manual", so the platform does not follow it either.
    expect(requested[0]!.redirect).toBe("manual");
    expect(globalFetch).not.toHaveBeenCalled();
  });
});

describe("repository allow-list (X5U_ALLOWED_HOSTS)", () => {
  const restricted = { ...production, X5U_ALLOWED_HOSTS: "cr.example.net, .sti-cr.example" };

  it("refuses a public host that is not listed, without requesting it", async () => {
    const { verdict, requested } = await verdictForX5u("https://cr.attacker.example/sp.pem", watchedNetwork(), restricted);
    expect(verdict.stir).toMatchObject({ reasoncode: 436, reasondesc: expect.stringMatching(/not on the repository allow-list/) });
    expect(requested).toEqual([]);
  });

  it("fetches from a listed host and from subdomains of a listed domain", async () => {
    for (const x5u of ["https://cr.example.net/a.pem", "https://repo.sti-cr.example/b.pem"]) {
      const { verdict, requested } = await verdictForX5u(x5u, watchedNetwork(), restricted);
      expect(verdict.stir.reasoncode).toBeNull();
      expect(requested).toHaveLength(1);
    }
  });

  it("a listed domain does not admit look-alikes", async () => {
    const { requested, verdict } = await verdictForX5u("https://evilsti-cr.example/a.pem", watchedNetwork(), restricted);
    expect(checkOf(verdict, "x5u.policy")?.result).toBe("fail");
    expect(requested).toEqual([]);
  });
});
