import { beforeEach, describe, expect, it } from "vitest";
import { appAt, CALLEE, CALLER, craftIdentity, IAT, installTrust, postVerdict, register, serveChain, uniquePath, verdictRequest } from "../support/stir";

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
