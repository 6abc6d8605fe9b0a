import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { X509Crl } from "@peculiar/x509";
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import worker from "../../../src/index";
import { CRL_REFRESH_CRON } from "../../../src/scheduled";
import { CRLS_KEY, parseCrlDocument } from "../../../src/certificate/trust-format";
import { generateKeyPair } from "../../../src/pki";
import { crlPem, crlSigner, fixtureIntermediate, intermediateSubject, revoke, STIPA_CRL_SIGNER } from "../support/crl";
import { scrape } from "../metrics/support";
import { appAt, installTrust, issueTestLeaf, pki, postVerdict, register, serveChain, signedIdentity, uniquePath, verdictRequest } from "../support/stir";

let logs: MockInstance<typeof console.log>;
beforeEach(() => {
  logs = vi.spyOn(console, "log").mockImplementation(() => {});
});
afterEach(() => vi.restoreAllMocks());
const logged = () => logs.mock.calls.map(([line]) => String(line)).join("\n");

/** Runs the Worker's CRL-refresh Cron Trigger with these bindings, to its end. */
async function runCron(bindings: Partial<Env> & Record<string, unknown>): Promise<void> {
  await worker.scheduled(createScheduledController({ cron: CRL_REFRESH_CRON }), { ...env, ...bindings });
}

const derBase64 = (pem: string) => btoa(String.fromCharCode(...new Uint8Array(new X509Crl(pem).rawData)));
/** Serves a CRL the way a distribution point does: DER, application/pkix-crl. */
const serveCrl = (pem: string) => register({ path: uniquePath("crl"), bodyBase64: derBase64(pem), headers: { "Content-Type": "application/pkix-crl" } });

const heldCrls = async () => parseCrlDocument((await env.TRUST.get(CRLS_KEY))!).crls;
const failures = async (reason: string) => (await scrape(appAt())).get(`shaken_crl_refresh_failures_total{reason="${reason}"}`) ?? 0;

describe("the scheduled CRL refresh (Cron Trigger): fetch, verify, store by issuer", () => {
  it("stores the STI-PA's CRL beside the CRLs of other issuers, and the verifier then uses it", async () => {
    const stipa = await crlSigner();
    const leaf = await issueTestLeaf({ crlIssuer: STIPA_CRL_SIGNER });
    await installTrust({ crlSigners: [stipa.certificate.toString("pem")], crls: [pki.crl] });
    const url = await serveCrl(await crlPem(stipa, [revoke(leaf.certificate.serialNumber, intermediateSubject)], { indirect: true, crlNumber: 12 }));

    await runCron({ CRL_URLS: url });

    expect((await heldCrls()).map((entry) => [entry.issuer, entry.crlNumber ?? null, entry.source ?? null])).toEqual([
      ["test", null, null], // installTrust's entry for the fixture intermediate's CRL, kept as it was
      [STIPA_CRL_SIGNER, "12", url],
    ]);
    const { verdict } = (await (await postVerdict(appAt(), verdictRequest([(await signedIdentity({ x5u: await serveChain(leaf.pem), key: leaf.keyPkcs8 })).identity]))).json()) as { verdict: { stir: unknown } };
    expect(verdict.stir).toMatchObject({ reasoncode: 437, failedCheck: "certificate.revocation", reasondesc: expect.stringMatching(/revoked by the CRL of 'C=KZ, O=STI-PA, CN=STI-PA CRL'/) });
    expect(logged()).toContain(`{"level":"info","event":"crl-refresh","results":[{"url":"${url}","issuer":"${STIPA_CRL_SIGNER}","change":"added","crlNumber":"12"}]}`);
  });

  it("never replaces a newer CRL of an issuer with an older one", async () => {
    const stipa = await crlSigner();
    const newer = await crlPem(stipa, [], { indirect: true, crlNumber: 9 });
    await installTrust({ crlSigners: [stipa.certificate.toString("pem")], crls: [newer] });
    await runCron({ CRL_URLS: await serveCrl(await crlPem(stipa, [], { indirect: true, crlNumber: 8 })) });
    expect((await heldCrls()).map((entry) => entry.pem)).toEqual([newer]);
    expect(logged()).toMatch(/"change":"older","crlNumber":"8"/);
  });

  it("publishes each held CRL's age as a gauge, by issuer", async () => {
    await installTrust({ crls: [await crlPem(await fixtureIntermediate(), [], { thisUpdate: new Date("2025-11-27T00:00:00Z") })] });
    expect((await scrape(appAt())).get(`shaken_crl_age_seconds{issuer="${intermediateSubject}"}`)).toBe(86_400);
  });
});

describe("what the refresh refuses is counted, logged and never stored", () => {
  it("a bad signature, an oversize body, a URL the SSRF policy refuses, a body that is no CRL; the good URL beside them is stored", async () => {
    const stipa = await crlSigner();
    await installTrust({ crlSigners: [stipa.certificate.toString("pem")] });
    const impostor = { certificate: stipa.certificate, privateKey: (await generateKeyPair()).privateKey };
    const urls = {
      signature: await serveCrl(await crlPem(impostor, [], { indirect: true })),
      fetch: await register({ path: uniquePath("endless"), endless: true }),
      url: "https://169.254.169.254/latest/crl.der",
      crl: await register({ path: uniquePath("text"), body: "hello, not a CRL" }),
    };
    const good = await serveCrl(await crlPem(stipa, [], { indirect: true }));
    const before = Object.fromEntries(await Promise.all(Object.keys(urls).map(async (reason) => [reason, await failures(reason)])));
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const fetches = vi.spyOn(globalThis, "fetch");

    await runCron({ CRL_URLS: [...Object.values(urls), good].join(", "), CRL_MAX_BYTES: "4096" });

    expect((await heldCrls()).map((entry) => entry.source)).toEqual([good]);
    for (const reason of Object.keys(urls)) expect(await failures(reason)).toBe(before[reason] + 1);
    const line = JSON.parse(String(errors.mock.calls[0]![0])) as { level: string; results: { url: string; failure?: string; detail?: string }[] };
    expect(line.level).toBe("error");
    expect(line.results).toEqual([
      { url: urls.signature, failure: "signature", detail: `the CRL of '${STIPA_CRL_SIGNER}' does not verify with a certificate of the trust set named so (trust add --crl-signer)` },
      { url: urls.fetch, failure: "fetch", detail: "repository body exceeds 4096 bytes" },
      { url: urls.url, failure: "url", detail: "x5u host 169.254.169.254 is a link-local address" },
      { url: urls.crl, failure: "crl", detail: "the body is not a CRL (DER or PEM)" },
      { url: good, issuer: STIPA_CRL_SIGNER, change: "added", crlNumber: "7" },
    ]);
    expect(fetches.mock.calls.map(([request]) => new Request(request as RequestInfo).url)).not.toContain(urls.url);
  });

  it("a store that cannot be read is counted for every URL, and nothing is fetched", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const url = await serveCrl(pki.crl);
    const before = await failures("store");
    const fetches = vi.spyOn(globalThis, "fetch");
    await runCron({ CRL_URLS: url, TRUST: { get: () => Promise.reject(new Error("KV GET failed: 503")) } as unknown as KVNamespace });
    expect(await failures("store")).toBe(before + 1);
    expect(fetches).not.toHaveBeenCalled();
  });
});
