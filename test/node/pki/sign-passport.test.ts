import { compactVerify, decodeProtectedHeader, exportPKCS8, generateKeyPair } from "jose";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { canonicalJson, PassportSigningError, type SignPassportOptions, signPassport } from "../../../src/passport/sign";

/**
 * The signer behind `passport sign` and the development signing endpoint, judged on the bytes it
 * produces: RFC 8225 §9's canonical claims, the header RFC 8588 names, and the refusals that keep it
 * from signing what its own verifier would refuse.
 */
const X5U = "https://cr.example.net/sp.pem";
let keys: CryptoKeyPair;
beforeAll(async () => {
  keys = await generateKeyPair("ES256", { extractable: true });
});
afterEach(() => vi.useRealTimers());

const base = (): SignPassportOptions => ({ key: keys.privateKey, x5u: X5U, orig: "+7 727 250-1234", dest: ["77012345678"], attest: "A", origid: "origin-1", iat: 1_764_288_000 });

async function payloadOf(jws: string): Promise<string> {
  const { payload } = await compactVerify(jws, keys.publicKey);
  return new TextDecoder().decode(payload);
}

describe("canonical JSON (RFC 8225 §9): members in lexicographic order, recursively, no whitespace", () => {
  it("orders members by code unit, at every depth, and keeps array order", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: "x" }, B: null })).toBe('{"B":null,"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}');
  });

  it("leaves out members whose value is undefined", () => {
    expect(canonicalJson({ a: undefined, b: 2 })).toBe('{"b":2}');
  });

  it("signs the claims in that form, so the signed bytes are the canonical ones", async () => {
    const { jws } = await signPassport(base());
    expect(await payloadOf(jws)).toBe('{"attest":"A","dest":{"tn":["77012345678"]},"iat":1764288000,"orig":{"tn":"77272501234"},"origid":"origin-1"}');
  });
});

describe("the header and the Identity header value (RFC 8225 §4, RFC 8224 §4, RFC 8588 §3)", () => {
  it("names alg ES256, ppt shaken, typ passport and the x5u, and repeats them in the Identity parameters", async () => {
    const { jws, identity } = await signPassport(base());
    expect(decodeProtectedHeader(jws)).toEqual({ alg: "ES256", ppt: "shaken", typ: "passport", x5u: X5U });
    expect(identity).toBe(`${jws};info=<${X5U}>;alg=ES256;ppt=shaken`);
  });

  it("takes the key as PKCS#8 PEM as well as a CryptoKey", async () => {
    const { jws } = await signPassport({ ...base(), key: await exportPKCS8(keys.privateKey) });
    expect(JSON.parse(await payloadOf(jws))).toMatchObject({ attest: "A" });
  });

  it("signs a div PASSporT with ppt=div, the diverting number and no attest or origid (RFC 8946 §3)", async () => {
    const { jws, identity } = await signPassport({ ...base(), ppt: "div", div: "+7 701 000 0001" });
    expect(decodeProtectedHeader(jws).ppt).toBe("div");
    expect(identity.endsWith(";ppt=div")).toBe(true);
    expect(JSON.parse(await payloadOf(jws))).toEqual({ dest: { tn: ["77012345678"] }, div: { tn: "77010000001" }, iat: 1_764_288_000, orig: { tn: "77272501234" } });
  });
});

describe("what the signer fills in", () => {
  it("takes iat from the clock, in whole seconds, when none is given", async () => {
    vi.useFakeTimers({ now: 1_800_000_000_999, toFake: ["Date"] });
    const { jws } = await signPassport({ ...base(), iat: undefined });
    expect(JSON.parse(await payloadOf(jws)).iat).toBe(1_800_000_000);
  });

  it("gives each PASSporT a fresh random UUID as origid when none is given", async () => {
    const first = JSON.parse(await payloadOf((await signPassport({ ...base(), origid: undefined })).jws)).origid;
    const second = JSON.parse(await payloadOf((await signPassport({ ...base(), origid: undefined })).jws)).origid;
    expect(first).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(second).not.toBe(first);
  });
});

describe("what it refuses to sign, naming the claim", () => {
  it.each([
    ["orig", { orig: "abc" }, /^orig "abc" is not a telephone number: 1 to 15 digits/],
    ["dest", { dest: ["77012345678", "+7 701 234-56-78x"] }, /^dest "\+7 701 234-56-78x" is not a telephone number/],
    ["dest", { dest: [] }, /^dest needs at least one telephone number/],
    ["attest", { attest: undefined }, /^attest is required/],
    ["div", { ppt: "div" as const }, /^div is required/],
    ["div", { ppt: "div" as const, div: "0" + "1".repeat(16) }, /^div "0{1}1{16}" is not a telephone number/],
  ])("%s: %o", async (claim, change, message) => {
    const refusal = await signPassport({ ...base(), ...change }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(PassportSigningError);
    expect(refusal).toMatchObject({ claim, code: "ERR_PASSPORT_SIGNING_INPUT", message: expect.stringMatching(message) });
  });

  it("shows at most 40 characters of a refused number", async () => {
    const refusal = (await signPassport({ ...base(), orig: "x".repeat(100) }).catch((error: unknown) => error)) as Error;
    expect(refusal.message).toContain(JSON.stringify("x".repeat(40)));
    expect(refusal.message).not.toContain("x".repeat(41));
  });
});
