import "reflect-metadata";
import { AsnConvert } from "@peculiar/asn1-schema";
import * as asn1X509 from "@peculiar/asn1-x509";
import { Extension, X509Crl } from "@peculiar/x509";
import { beforeAll, describe, expect, it } from "vitest";
import { refreshCrls, type CrlRefreshOptions } from "../../../src/certificate/crl-refresh";
import { CRLS_KEY, crlEntry, TRUST_ANCHORS_KEY } from "../../../src/certificate/trust-format";
import { createCrl, createCrlSigner, encodeCrlPem, generateKeyPair, issueCaCertificate, type CrlOptions, type SigningAuthority } from "../../../src/pki";

/**
 * src/certificate/crl-refresh.ts on its own, with a fake KV, fetcher and clock: one result per URL in
 * order, each failure kind with its exact detail, DER and PEM bodies, unusable and unverifiable CRLs,
 * the change each verified CRL makes, and when (and what) the CRL set is written back. The Cron
 * Trigger around it, its log lines and metrics are in crl-refresh.test.ts.
 */
const NOW = Date.parse("2026-12-01T00:00:00Z");
const UPDATED = "2026-12-01T00:00:00.000Z";
const VALIDITY = { notBefore: new Date("2025-01-01T00:00:00Z"), notAfter: new Date("2035-01-01T00:00:00Z") };
const STI_PA = "C=KZ, O=STI-PA, CN=STI-PA CRL";
const ROOT = "C=KZ, O=CRL Refresh, CN=Root";
const url = (name: string) => `https://crl.example/${name}.crl`;

let stiPa: SigningAuthority;
let root: SigningAuthority;
let impostor: SigningAuthority;
let stranger: SigningAuthority;

const crlOf = (issuer: SigningAuthority, crlNumber: number, options: Partial<CrlOptions> = {}) =>
  createCrl({ issuer, revoked: [], thisUpdate: new Date(NOW - 86_400_000), nextUpdate: new Date(NOW + 86_400_000), crlNumber, ...options });
const der = (crl: X509Crl) => new Uint8Array(crl.rawData);
const anchorsDocument = (...authorities: SigningAuthority[]) =>
  JSON.stringify({ version: 1, updated: "2026-11-01T00:00:00.000Z", anchors: authorities.map((authority) => ({ pem: authority.certificate.toString("pem"), sha256: "00", subject: authority.certificate.subject, source: "dev" })) });
const crlsDocument = (...crls: X509Crl[]) => JSON.stringify({ version: 1, updated: "2026-11-01T00:00:00.000Z", crls: crls.map((crl) => crlEntry(crl, "push")) });

/** A KV holding `values`; `getError` / `putError` make its reads / writes fail; `puts` records each write. */
function fakeKv(values: Record<string, string>) {
  const kv = {
    puts: [] as { key: string; value: string }[],
    getError: undefined as unknown,
    putError: undefined as unknown,
    get: (key: string) => (kv.getError === undefined ? Promise.resolve(values[key] ?? null) : Promise.reject(kv.getError)),
    put: (key: string, value: string) => {
      kv.puts.push({ key, value });
      return kv.putError === undefined ? Promise.resolve() : Promise.reject(kv.putError);
    },
  };
  return kv;
}

/** Refreshes `urls` against `kv`, serving each URL's body from `bodies` (a missing URL answers 404); `requests` records what was fetched. */
async function refresh(urls: string[], kv: ReturnType<typeof fakeKv>, bodies: Record<string, BodyInit | (() => Promise<Response>)> = {}) {
  const requests: Request[] = [];
  const options: CrlRefreshOptions = {
    urls,
    policy: { allowInsecureLoopback: false, allowedHosts: ["crl.example"] },
    limits: { timeoutMs: 2000, maxBytes: 65536 },
    fetcher: async (request) => {
      requests.push(request);
      const body = bodies[request.url];
      if (typeof body === "function") return body();
      return body === undefined ? new Response("missing", { status: 404 }) : new Response(body, { headers: { "Content-Type": "application/pkix-crl" } });
    },
    kv,
    clock: { now: () => NOW },
  };
  return { results: await refreshCrls(options), requests };
}

const stored = (kv: ReturnType<typeof fakeKv>) => JSON.parse(kv.puts[0]!.value) as { version: number; updated: string; crls: { pem: string; source?: string }[] };

beforeAll(async () => {
  stiPa = await createCrlSigner({ subject: STI_PA, ...VALIDITY });
  root = await issueCaCertificate({ subject: [{ C: ["KZ"] }, { O: ["CRL Refresh"] }, { CN: ["Root"] }], keys: await generateKeyPair(), ...VALIDITY });
  impostor = { certificate: stiPa.certificate, privateKey: (await generateKeyPair()).privateKey };
  stranger = await createCrlSigner({ subject: "C=KZ, O=Elsewhere, CN=Unknown CRL", ...VALIDITY });
});

describe("the trust set is read first: a store that cannot be read fails every URL with 'store'", () => {
  it("a failed KV read fails each URL with its message, and nothing is fetched or written", async () => {
    const kv = fakeKv({});
    kv.getError = new Error("KV GET failed: 503");
    const { results, requests } = await refresh([url("a"), url("b")], kv);
    expect(results).toEqual([
      { url: url("a"), failure: "store", detail: "KV GET failed: 503" },
      { url: url("b"), failure: "store", detail: "KV GET failed: 503" },
    ]);
    expect(requests).toHaveLength(0);
    expect(kv.puts).toHaveLength(0);
  });

  it("cuts a detail to 300 characters, and gives a rejection that is no Error as text", async () => {
    const kv = fakeKv({});
    kv.getError = new Error("y".repeat(400));
    expect((await refresh([url("a")], kv)).results).toEqual([{ url: url("a"), failure: "store", detail: "y".repeat(300) }]);
    kv.getError = "plain refusal";
    expect((await refresh([url("a")], kv)).results).toEqual([{ url: url("a"), failure: "store", detail: "plain refusal" }]);
  });

  it("an unparseable anchor or CRL document is a 'store' failure like an outage", async () => {
    const goodCrl = der(await crlOf(stiPa, 7));
    const badAnchors = fakeKv({ [TRUST_ANCHORS_KEY]: JSON.stringify({ version: 2 }) });
    expect((await refresh([url("a")], badAnchors, { [url("a")]: goodCrl })).results).toEqual([{ url: url("a"), failure: "store", detail: "trust-anchor document must be {version: 1, anchors: [...]}" }]);
    const badCrls = fakeKv({ [TRUST_ANCHORS_KEY]: anchorsDocument(stiPa), [CRLS_KEY]: JSON.stringify({ version: 1, crls: [{}] }) });
    expect((await refresh([url("a")], badCrls, { [url("a")]: goodCrl })).results).toEqual([{ url: url("a"), failure: "store", detail: "every CRL entry needs a pem" }]);
    expect(badCrls.puts).toHaveLength(0);
  });

  it("no anchor document means no signer: a CRL then fails its signature", async () => {
    const { results } = await refresh([url("a")], fakeKv({}), { [url("a")]: der(await crlOf(stiPa, 7)) });
    expect(results).toEqual([{ url: url("a"), failure: "signature", detail: `the CRL of '${STI_PA}' does not verify with a certificate of the trust set named so (trust add --crl-signer)` }]);
  });
});

describe("each URL: policy, fetch, body, usability, signature; one result per URL, in order", () => {
  it("reports each URL's fate in the order given, the successes among them matched to their own URL", async () => {
    const kv = fakeKv({ [TRUST_ANCHORS_KEY]: anchorsDocument(stiPa, root) });
    const urls = [url("stipa"), "https://elsewhere.example/x.crl", "not a url", url("missing"), url("down"), url("text"), url("impostor"), url("stranger"), url("root")];
    const { results, requests } = await refresh(urls, kv, {
      [url("stipa")]: der(await crlOf(stiPa, 7)),
      [url("down")]: () => Promise.reject(new Error("connection reset")),
      [url("text")]: "hello, not a CRL",
      [url("impostor")]: der(await crlOf(impostor, 9)),
      [url("stranger")]: der(await crlOf(stranger, 1)),
      [url("root")]: encodeCrlPem(await crlOf(root, 3)),
    });
    const unverified = (issuer: string) => `the CRL of '${issuer}' does not verify with a certificate of the trust set named so (trust add --crl-signer)`;
    expect(results).toEqual([
      { url: url("stipa"), issuer: STI_PA, change: "added", crlNumber: "7" },
      { url: urls[1], failure: "url", detail: "x5u host elsewhere.example is not on the repository allow-list" },
      { url: "not a url", failure: "url", detail: "info/x5u is not an absolute URI" },
      { url: url("missing"), failure: "fetch", detail: "repository answered HTTP 404" },
      { url: url("down"), failure: "fetch", detail: "repository unreachable: connection reset" },
      { url: url("text"), failure: "crl", detail: "the body is not a CRL (DER or PEM)" },
      { url: url("impostor"), failure: "signature", detail: unverified(STI_PA) },
      { url: url("stranger"), failure: "signature", detail: unverified("C=KZ, O=Elsewhere, CN=Unknown CRL") },
      { url: url("root"), issuer: ROOT, change: "added", crlNumber: "3" },
    ]);
    expect(requests.map((request) => [request.method, request.url, request.headers.get("Accept")])).toEqual(
      [url("stipa"), url("missing"), url("down"), url("text"), url("impostor"), url("stranger"), url("root")].map((fetched) => ["GET", fetched, "application/pkix-crl"]),
    );
  });

  it("reads a body that starts with 0x30 as DER and any other as strict UTF-8 PEM text, refusing what is neither", async () => {
    const kv = fakeKv({ [TRUST_ANCHORS_KEY]: anchorsDocument(stiPa, root) });
    const pem = encodeCrlPem(await crlOf(root, 3));
    const { results } = await refresh([url("der"), url("pem"), url("zero"), url("binary"), url("malformed")], kv, {
      [url("der")]: der(await crlOf(stiPa, 7)),
      [url("pem")]: pem,
      [url("zero")]: `0${pem}`,
      [url("binary")]: new Uint8Array([0xff, 0xfe, 0x00, 0x30]),
      [url("malformed")]: new Uint8Array([0xff, ...new TextEncoder().encode(pem)]), // a PEM behind a byte no UTF-8 holds
    });
    expect(results).toEqual([
      { url: url("der"), issuer: STI_PA, change: "added", crlNumber: "7" },
      { url: url("pem"), issuer: ROOT, change: "added", crlNumber: "3" },
      { url: url("zero"), failure: "crl", detail: "the body is not a CRL (DER or PEM)" },
      { url: url("binary"), failure: "crl", detail: "the body is not a CRL (DER or PEM)" },
      { url: url("malformed"), failure: "crl", detail: "the body is not a CRL (DER or PEM)" },
    ]);
  });

  it("an unusable CRL is a 'crl' failure saying why: a delta CRL, or an IDP naming its point relative to the issuer", async () => {
    const kv = fakeKv({ [TRUST_ANCHORS_KEY]: anchorsDocument(stiPa, root) });
    const delta = new Extension(asn1X509.id_ce_deltaCRLIndicator, true, AsnConvert.serialize(new asn1X509.BaseCRLNumber(6)));
    const relative = new asn1X509.DistributionPointName({ nameRelativeToCRLIssuer: new asn1X509.RelativeDistinguishedName([new asn1X509.AttributeTypeAndValue({ type: "2.5.4.3", value: new asn1X509.AttributeValue({ utf8String: "part 1" }) })]) });
    const { results } = await refresh([url("delta"), url("relative")], kv, {
      [url("delta")]: der(await crlOf(stiPa, 7, { extensions: [delta] })),
      [url("relative")]: der(await crlOf(root, 3, { issuingDistributionPoint: { distributionPoint: relative } })),
    });
    expect(results).toEqual([
      { url: url("delta"), failure: "crl", detail: `the CRL of '${STI_PA}' cannot be used: it is a delta CRL, which lists changes only` },
      { url: url("relative"), failure: "crl", detail: `the CRL of '${ROOT}' cannot be used: its Issuing Distribution Point names a distribution point relative to the issuer, which this verifier does not match` },
    ]);
    expect(kv.puts).toHaveLength(0);
  });
});

describe("storing by issuer: KV is written only when a CRL was added or replaced", () => {
  it("writes the set once, dated by the clock: the new CRL in its issuer's place, other issuers' entries as they were", async () => {
    const [held, newer, rootCrl] = [await crlOf(stiPa, 7), await crlOf(stiPa, 8), await crlOf(root, 3)];
    const kv = fakeKv({ [TRUST_ANCHORS_KEY]: anchorsDocument(stiPa, root), [CRLS_KEY]: crlsDocument(held, rootCrl) });
    const { results } = await refresh([url("stipa"), url("root")], kv, { [url("stipa")]: der(newer), [url("root")]: der(rootCrl) });
    expect(results).toEqual([
      { url: url("stipa"), issuer: STI_PA, change: "replaced", crlNumber: "8" },
      { url: url("root"), issuer: ROOT, change: "unchanged", crlNumber: "3" },
    ]);
    expect(kv.puts.map((put) => put.key)).toEqual([CRLS_KEY]);
    expect(stored(kv)).toEqual({ version: 1, updated: UPDATED, crls: [crlEntry(newer, url("stipa")), crlEntry(rootCrl, "push")] });
  });

  it("an added CRL with no CRL set yet is written as the whole set", async () => {
    const crl = await crlOf(stiPa, 7);
    const kv = fakeKv({ [TRUST_ANCHORS_KEY]: anchorsDocument(stiPa) });
    await refresh([url("stipa")], kv, { [url("stipa")]: encodeCrlPem(crl) });
    expect(kv.puts).toHaveLength(1);
    expect(stored(kv)).toEqual({ version: 1, updated: UPDATED, crls: [crlEntry(crl, url("stipa"))] });
  });

  it("an unchanged or older CRL writes nothing", async () => {
    const [held, older, rootCrl] = [await crlOf(stiPa, 7), await crlOf(stiPa, 6), await crlOf(root, 3)];
    const kv = fakeKv({ [TRUST_ANCHORS_KEY]: anchorsDocument(stiPa, root), [CRLS_KEY]: crlsDocument(held, rootCrl) });
    const { results } = await refresh([url("stipa"), url("root")], kv, { [url("stipa")]: der(older), [url("root")]: der(rootCrl) });
    expect(results).toEqual([
      { url: url("stipa"), issuer: STI_PA, change: "older", crlNumber: "6" },
      { url: url("root"), issuer: ROOT, change: "unchanged", crlNumber: "3" },
    ]);
    expect(kv.puts).toHaveLength(0);
  });

  it("a failed write turns every success into a 'store' failure, and leaves the other failures as they were", async () => {
    const rootCrl = await crlOf(root, 3);
    const kv = fakeKv({ [TRUST_ANCHORS_KEY]: anchorsDocument(stiPa, root), [CRLS_KEY]: crlsDocument(rootCrl) });
    kv.putError = new Error("KV PUT failed: 429");
    const { results } = await refresh([url("stipa"), url("text"), url("root")], kv, {
      [url("stipa")]: der(await crlOf(stiPa, 7)),
      [url("text")]: "hello, not a CRL",
      [url("root")]: der(rootCrl),
    });
    expect(results).toEqual([
      { url: url("stipa"), failure: "store", detail: "KV PUT failed: 429" },
      { url: url("text"), failure: "crl", detail: "the body is not a CRL (DER or PEM)" },
      { url: url("root"), failure: "store", detail: "KV PUT failed: 429" },
    ]);
    expect(kv.puts).toHaveLength(1);
  });
});
