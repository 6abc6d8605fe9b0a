import { beforeEach, describe, expect, it } from "vitest";
import { shortened } from "../../../src/lib/strict-json";
import { createDevelopmentCa } from "../../../src/pki";
import { appAt, atisRequest, CALLEE, CALLER, craftIdentity, IAT, installTrust, issueTestLeaf, postAtis, postVerdict, register, serveChain, uniquePath, verdictRequest } from "../support/stir";

beforeEach(() => installTrust());

/**
 * What a PASSporT's header or an Identity header's parameters say is quoted in the reason a failure
 * gives (the ATIS `reasondesc`, the verdict's checks, the dashboard's recent verdicts), but only so much
 * of it: an Identity header may hold 4 KiB, and quoted whole in each of eight headers a peer's text made
 * a verdict 17 times its usual size. The claims were already quoted in at most 32 or 40 characters.
 */
const LONG = "x".repeat(2_000);
const MAX_REASON = 200;

const CLAIMS = { attest: "A", dest: { tn: [CALLEE] }, iat: IAT, orig: { tn: CALLER }, origid: "123e4567-e89b-12d3-a456-426655440000" };

/** Why the Identity header failed, as the verdict (and ATIS-1000082's reasondesc for a call of one header) gives it. */
async function reasonOf(identity: string): Promise<string> {
  const response = await postVerdict(appAt(), verdictRequest([identity]));
  expect(response.status).toBe(200);
  const { verdict } = (await response.json()) as { verdict: { identities: { reasondesc: string }[] } };
  return verdict.identities[0]!.reasondesc;
}

describe("a failure quotes at most a short part of what the peer wrote", () => {
  it.each([
    ["the PASSporT's ppt", (x5u: string) => ({ header: { alg: "ES256", ppt: LONG, typ: "passport", x5u }, params: `;info=<${x5u}>;ppt=shaken` }), /^PASSporT type 'x{64}…' is not supported/],
    ["the PASSporT's typ", (x5u: string) => ({ header: { alg: "ES256", ppt: "shaken", typ: LONG, x5u } }), /^PASSporT typ is "x{63}…; expected "passport"$/],
    ["the PASSporT's alg", (x5u: string) => ({ header: { alg: [LONG], ppt: "shaken", typ: "passport", x5u } }), /^PASSporT alg is \["x{62}…; only ES256 is accepted$/],
    ["the Identity header's alg parameter", (x5u: string) => ({ params: `;info=<${x5u}>;alg=${LONG};ppt=shaken` }), /^Identity alg parameter is 'x{64}…'; only ES256 is accepted$/],
    ["the Identity header's ppt parameter", (x5u: string) => ({ params: `;info=<${x5u}>;ppt=${LONG}` }), /^Identity ppt parameter 'x{64}…' differs from the PASSporT's ppt 'shaken'$/],
    ["a member name the claims give twice", () => ({ claims: `{"${LONG.slice(1_000)}":1,"${LONG.slice(1_000)}":2,${JSON.stringify(CLAIMS).slice(1)}` }), /^PASSporT claims is not valid JSON: duplicate member name 'x{64}…'$/],
  ])("%s", async (_what, options, reason) => {
    const x5u = await serveChain();
    const identity = await craftIdentity({ x5u, ...options(x5u) });
    expect(identity.length).toBeLessThanOrEqual(4096);
    const reasondesc = await reasonOf(identity);
    expect(reasondesc.length).toBeLessThanOrEqual(MAX_REASON);
    expect(reasondesc).toMatch(reason);
  });

  it("a PEM block the x5u repository labelled with its own text", async () => {
    const label = "X".repeat(15_000);
    const x5u = await register({ path: uniquePath("labelled"), body: `-----BEGIN ${label}-----\nAAAA\n-----END ${label}-----\n` });
    const reasondesc = await reasonOf(await craftIdentity({ x5u }));
    expect(reasondesc.length).toBeLessThanOrEqual(MAX_REASON);
    expect(reasondesc).toMatch(/^repository body contains a 'X{64}…' PEM block; only CERTIFICATE is accepted$/);
  });

  it("a long x5u, equal to info: passport.header's evidence names it in at most 512 characters", async () => {
    const x5u = `${await serveChain()}?${"a".repeat(1_500)}`;
    const identity = await craftIdentity({ x5u });
    const response = await postVerdict(appAt(), verdictRequest([identity]));
    const { verdict } = (await response.json()) as { verdict: { checks: { id: string; result: string; evidence?: { x5u: string } }[] } };
    const check = verdict.checks.find(({ id }) => id === "passport.header")!;
    expect(check.result).toBe("pass");
    expect(check.evidence!.x5u).toBe(x5u.slice(0, 512));
  });

  it("an x5u that differs from info: the evidence names each in at most 512 characters", async () => {
    const x5u = await serveChain();
    const long = `${x5u}?${"a".repeat(1_500)}`;
    const identity = await craftIdentity({ x5u, header: { alg: "ES256", ppt: "shaken", typ: "passport", x5u: long }, params: `;info=<${x5u}${"b".repeat(1_000)}>;ppt=shaken` });
    const response = await postVerdict(appAt(), verdictRequest([identity]));
    const { verdict } = (await response.json()) as { verdict: { checks: { id: string; evidence?: { x5u: string; info: string } }[] } };
    const check = verdict.checks.find(({ id }) => id === "passport.x5u")!;
    expect(check.evidence!.x5u.length).toBeLessThanOrEqual(512);
    expect(check.evidence!.info.length).toBeLessThanOrEqual(512);
  });
});

/**
 * An SBC copies the reasondesc into a SIP Reason header's text or a log line: a CR LF the peer wrote
 * there would start a header field or a log line of the peer's own, an ANSI escape would recolour a
 * terminal, and a bidi override reorder what an analyst reads. Quoted, the peer's text shows each such
 * character as its \u escape; the verdict's SIP headers carry no peer text at all.
 */
const HOSTILE = "evil\r\nX-Injected: 1\u001b[31m\u202Egnp.exe\u2066";
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;
const ESCAPED = "evil\\u000d\\u000aX-Injected: 1\\u001b[31m\\u202egnp.exe\\u2066";

interface Answers {
  verdict: { stir: { reasondesc: string | null }; identities: { reasondesc: string | null }[]; checks: { detail?: string }[]; headers: { name: string; value: string }[]; monitored?: { reason: string }[] };
  atis: { reasondesc?: string };
}

/** The call through /v1/verdict and ATIS POST /stir/v1/verification, each with the Identity header `identity()` gives. */
async function answersFor(identity: () => Promise<string>): Promise<Answers> {
  const native = await postVerdict(appAt(), verdictRequest([await identity()]));
  const atis = await postAtis(appAt(), atisRequest(await identity()));
  expect([native.status, atis.status]).toEqual([200, 200]);
  return { verdict: ((await native.json()) as { verdict: Answers["verdict"] }).verdict, atis: ((await atis.json()) as { verificationResponse: Answers["atis"] }).verificationResponse };
}

/** Every text of the answers that a reason or a SIP header carries. */
const reasonTexts = ({ verdict, atis }: Answers): string[] => [
  verdict.stir.reasondesc ?? "",
  ...verdict.identities.map(({ reasondesc }) => reasondesc ?? ""),
  ...verdict.checks.map(({ detail }) => detail ?? ""),
  ...verdict.headers.map(({ name, value }) => `${name}: ${value}`),
  ...(verdict.monitored ?? []).map(({ reason }) => reason),
  atis.reasondesc ?? "",
];

describe("a failure quotes the peer's text with its control and bidi characters escaped", () => {
  it.each([
    ["the PASSporT's ppt", (x5u: string) => ({ header: { alg: "ES256", ppt: HOSTILE, typ: "passport", x5u }, params: `;info=<${x5u}>;ppt=shaken` }), `PASSporT type '${ESCAPED}' is not supported`],
    ["the Identity header's alg parameter", (x5u: string) => ({ params: `;info=<${x5u}>;alg=${HOSTILE};ppt=shaken` }), null],
    ["the Identity header's ppt parameter", (x5u: string) => ({ params: `;info=<${x5u}>;ppt=${HOSTILE}` }), null],
  ])("%s", async (_what, options, quoted) => {
    const x5u = await serveChain();
    const answers = await answersFor(() => craftIdentity({ x5u, ...options(x5u) }));
    expect(answers.atis.reasondesc).toEqual(expect.any(String));
    for (const text of reasonTexts(answers)) expect(text).not.toMatch(UNPRINTABLE);
    // ATIS answers for the call: a PASSporT of a type not supported is named there by no reason of its own.
    if (quoted) expect(answers.verdict.identities[0]!.reasondesc).toContain(quoted);
  });

  it("the subject of a certificate the x5u repository served", async () => {
    const validity = { notBefore: new Date("2025-01-01T00:00:00Z"), notAfter: new Date("2027-01-01T00:00:00Z") };
    const ca = await createDevelopmentCa({ organization: HOSTILE, country: "KZ", ...validity });
    const leaf = await issueTestLeaf({ issuer: ca.intermediate });
    const x5u = await register({ path: uniquePath("hostile-subject"), body: `${leaf.pem}${ca.intermediate.certificate.toString("pem")}` });
    const answers = await answersFor(() => craftIdentity({ x5u, key: leaf.keyPkcs8 }));
    // The certificate's subject as @peculiar/x509 renders it (RFC 4514 escapes CR as \0D), then printable.
    expect(answers.atis.reasondesc).toContain("\\u000aX-Injected: 1\\u001b[31m\\u202egnp.exe\\u2066");
    expect(answers.verdict.stir.reasondesc).toBe(answers.atis.reasondesc);
    for (const text of reasonTexts(answers)) expect(text).not.toMatch(UNPRINTABLE);
  });

  it("an escape is not cut in two where a quote is shortened", () => {
    expect(shortened(`${"x".repeat(60)}\r\n`)).toBe(`${"x".repeat(60)}…`);
    expect(shortened(`${"x".repeat(58)}\r\n`)).toBe(`${"x".repeat(58)}\\u000d…`);
    expect(shortened("\u202e".repeat(10))).toBe("\\u202e".repeat(10));
    expect(shortened("\u202e".repeat(11))).toBe(`${"\\u202e".repeat(10)}…`);
  });
});

describe("a div PASSporT that does not chain quotes its numbers printable and short", () => {
  it("a diverting URI of the peer's text", async () => {
    const x5u = await serveChain();
    const FORWARDED_TO = "77019998877";
    const identities = async () => [
      await craftIdentity({ x5u, claims: { ...CLAIMS, dest: { tn: [CALLEE, FORWARDED_TO], uri: [`sip:${HOSTILE}${LONG}@example.com`] } } }),
      await craftIdentity({ x5u, header: { alg: "ES256", ppt: "div", typ: "passport", x5u }, claims: { dest: { tn: [FORWARDED_TO] }, iat: IAT, orig: { tn: CALLER }, div: { uri: `sip:${HOSTILE}${LONG}@example.com` } } }),
    ];
    const response = await postVerdict(appAt(), verdictRequest(await identities(), { to: `<sip:+${CALLEE}@operator.example>`, ruri: `sip:+${FORWARDED_TO}@operator.example` }));
    const { verdict } = (await response.json()) as { verdict: Answers["verdict"] };
    expect(verdict.identities[1]!.reasondesc).toMatch(/^div PASSporT \(orig 77272501234, div sip:evil\\u000d\\u000aX-Injected: 1\\u001b\[31m\\u202egnp\.exe\\u2066x+…\) does not chain to the shaken PASSporT \(orig 77272501234, dest 77012345678,77019998877,sip:evil\\u000d/);
    for (const text of reasonTexts({ verdict, atis: {} })) {
      expect(text).not.toMatch(UNPRINTABLE);
      // Two quotes of the peer's text, where the others have one.
      expect(text.length).toBeLessThanOrEqual(MAX_REASON + 64);
    }
  });
});
