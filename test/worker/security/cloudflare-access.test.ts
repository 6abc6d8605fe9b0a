import { env } from "cloudflare:workers";
import { exportJWK, generateKeyPair, SignJWT, base64url, type JWTPayload } from "jose";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { createApp } from "../../../src/app";
import { fixedClock } from "../../../src/lib/clock";
import { adminAuth } from "../support/auth";
import { IAT } from "../support/stir";

/**
 * Issue 20: behind Cloudflare Access, the operator API and the dashboard take `Cf-Access-Jwt-Assertion`,
 * verified against the team's key set (served here by the outbound fetcher, as Access serves
 * https://<team>.cloudflareaccess.com/cdn-cgi/access/certs).
 */
const TEAM = "https://shaken-test.cloudflareaccess.com";
const AUDIENCE = "3f2a9c0d1e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f";
const accessEnv = {
  ...env,
  ACCESS_TEAM_DOMAIN: "shaken-test.cloudflareaccess.com",
  ACCESS_AUD: AUDIENCE,
  ACCESS_ROLES: "aigerim@operator.example:analyst,daniyar@operator.example:admin,*:viewer",
};

type Key = Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];
const keys: Record<"es256" | "rs256" | "stranger", { kid: string; alg: string; privateKey: Key; jwk: object }> = {} as never;

beforeAll(async () => {
  for (const [name, alg, kid] of [
    ["es256", "ES256", "team-es256"],
    ["rs256", "RS256", "team-rs256"],
    ["stranger", "ES256", "not-in-the-set"],
  ] as const) {
    const pair = await generateKeyPair(alg, { extractable: true });
    keys[name] = { kid, alg, privateKey: pair.privateKey, jwk: { ...(await exportJWK(pair.publicKey)), kid, alg, use: "sig" } };
  }
});

/** The team's key set holds the ES256 and RS256 keys; every fetch is counted. */
function accessApp() {
  const fetched: string[] = [];
  const fetcher = async (request: Request) => {
    fetched.push(request.url);
    if (request.url !== `${TEAM}/cdn-cgi/access/certs`) return new Response("not found", { status: 404 });
    return Response.json({ keys: [keys.es256.jwk, keys.rs256.jwk] });
  };
  return { app: createApp({ clock: fixedClock(IAT), fetcher }), fetched };
}

async function assertion(claims: JWTPayload = {}, key: keyof typeof keys = "es256"): Promise<string> {
  const { kid, alg, privateKey } = keys[key];
  return new SignJWT({ email: "aigerim@operator.example", type: "app", iss: TEAM, aud: AUDIENCE, iat: IAT - 60, exp: IAT + 3600, ...claims }).setProtectedHeader({ alg, kid }).sign(privateKey);
}

const asAccess = (app: ReturnType<typeof accessApp>["app"], jwt: string, path = "/v1/admin/rules", init: RequestInit = {}) =>
  app.request(path, { ...init, headers: { "Cf-Access-Jwt-Assertion": jwt, ...(init.headers as Record<string, string>) } }, accessEnv);

describe("a Cloudflare Access assertion", () => {
  it.each(["es256", "rs256"] as const)("signed by the team's %s key is accepted, and the key set is fetched once", async (key) => {
    const { app, fetched } = accessApp();
    expect((await asAccess(app, await assertion({}, key))).status).toBe(200);
    expect((await asAccess(app, await assertion({}, key))).status).toBe(200);
    expect(fetched).toEqual([`${TEAM}/cdn-cgi/access/certs`]);
  });

  it("makes the person the author of what they change", async () => {
    const { app } = accessApp();
    const rule = { criteria: { cli: { exact: "77272509999" } }, action: "block", reason: "access author" };
    const created = await asAccess(app, await assertion(), "/v1/admin/rules", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(rule) });
    expect(created.status).toBe(201);
    const { rule: stored } = (await created.json()) as { rule: { id: string; author: string } };
    expect(stored.author).toBe("aigerim@operator.example");
    const { entries } = (await (await asAccess(app, await assertion(), `/v1/admin/audit?entity=rule&id=${stored.id}`)).json()) as { entries: { actor: string }[] };
    expect(entries).toEqual([expect.objectContaining({ actor: "aigerim@operator.example", operation: "create" })]);
  });

  it.each([
    ["a wrong audience", { aud: "another-application" }, "es256", /ERR_JWT_CLAIM_VALIDATION_FAILED.*aud/],
    ["a wrong issuer", { iss: "https://another-team.cloudflareaccess.com" }, "es256", /ERR_JWT_CLAIM_VALIDATION_FAILED.*iss/],
    ["an expired token", { exp: IAT - 61 }, "es256", /ERR_JWT_EXPIRED/],
    ["a token not yet valid", { nbf: IAT + 61 }, "es256", /ERR_JWT_CLAIM_VALIDATION_FAILED.*nbf/],
    ["an unknown kid", {}, "stranger", /ERR_JWKS_NO_MATCHING_KEY/],
  ] as const)("with %s is refused", async (_, claims, key, reason) => {
    const { app } = accessApp();
    const response = await asAccess(app, await assertion(claims, key));
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(reason);
  });

  it("within the bounded clock skew is accepted", async () => {
    const { app } = accessApp();
    expect((await asAccess(app, await assertion({ exp: IAT - 59 }))).status).toBe(200);
  });

  it("with alg none is refused", async () => {
    const { app } = accessApp();
    const unsigned = [{ alg: "none", typ: "JWT" }, { email: "daniyar@operator.example", iss: TEAM, aud: AUDIENCE, iat: IAT, exp: IAT + 3600 }]
      .map((part) => base64url.encode(JSON.stringify(part)))
      .join(".");
    const response = await asAccess(app, `${unsigned}.`, "/v1/admin/config");
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/ERR_JOSE_ALG_NOT_ALLOWED|ERR_JWS_INVALID/);
  });

  it("with a signature by another key under the team's kid is refused", async () => {
    const { app } = accessApp();
    const forged = await new SignJWT({ email: "daniyar@operator.example" }).setProtectedHeader({ alg: "ES256", kid: "team-es256" }).setIssuer(TEAM).setAudience(AUDIENCE).setIssuedAt(IAT).setExpirationTime(IAT + 60).sign(keys.stranger.privateKey);
    expect((await asAccess(app, forged, "/v1/admin/config")).status).toBe(401);
  });

  it("is ignored where Access is not configured", async () => {
    const { app } = accessApp();
    expect((await app.request("/v1/admin/rules", { headers: { "Cf-Access-Jwt-Assertion": await assertion() } }, env)).status).toBe(401);
  });
});

describe("roles for people Access signs in (ACCESS_ROLES)", () => {
  it.each([
    ["aigerim@operator.example", "/v1/admin/rules", 200],
    ["aigerim@operator.example", "/v1/admin/config", 403],
    ["Daniyar@Operator.example", "/v1/admin/config", 200],
    ["someone@operator.example", "/v1/stats", 200],
    ["someone@operator.example", "/v1/reports", 403],
  ] as const)("%s on %s → %i", async (email, path, status) => {
    const { app } = accessApp();
    expect((await asAccess(app, await assertion({ email }), path)).status).toBe(status);
  });

  it("a person without a role is refused with 403", async () => {
    const { app } = accessApp();
    const strict = { ...accessEnv, ACCESS_ROLES: "daniyar@operator.example:admin" };
    const response = await app.request("/v1/stats", { headers: { "Cf-Access-Jwt-Assertion": await assertion() } }, strict);
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: { code: "ERR_FORBIDDEN", message: expect.stringContaining("aigerim@operator.example has no role") } });
  });

  it("a key set that cannot be fetched is a 503 to retry, not a refusal", async () => {
    const app = createApp({ clock: fixedClock(IAT), fetcher: async () => new Response("upstream down", { status: 502 }) });
    const response = await app.request("/v1/stats", { headers: { "Cf-Access-Jwt-Assertion": await assertion() } }, accessEnv);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ error: { code: "ERR_AUTH_UNAVAILABLE" } });
  });
});

/**
 * Access signs a browser in with a cookie, and its edge adds the assertion to whatever that cookie goes
 * with: a write another site's page makes the analyst's browser send is refused (cross-site request forgery).
 */
describe("a write signed in through Cloudflare Access, sent from another site", () => {
  const rule = { criteria: { cli: { exact: "77272509998" } }, action: "allow", reason: "forged" };
  const post = async (headers: Record<string, string>) => {
    const { app } = accessApp();
    return asAccess(app, await assertion(), "/v1/admin/rules", { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify(rule) });
  };

  it.each([
    ["Sec-Fetch-Site: cross-site", { "Sec-Fetch-Site": "cross-site", Origin: "https://attacker.example" }],
    ["Sec-Fetch-Site: same-site (a sibling subdomain)", { "Sec-Fetch-Site": "same-site" }],
    ["an Origin of another site, without Sec-Fetch-Site", { Origin: "https://attacker.example" }],
  ])("is refused with 403 ERR_CROSS_SITE when the browser says %s, and writes nothing", async (_what, headers) => {
    const response = await post(headers);
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: { code: "ERR_CROSS_SITE" } });
    const { app } = accessApp();
    const listed = (await (await asAccess(app, await assertion(), "/v1/admin/rules?cli=77272509998")).json()) as { rules: unknown[] };
    expect(listed.rules).toEqual([]);
  });

  it.each([
    ["from the deployment's own page", { "Sec-Fetch-Site": "same-origin", Origin: "http://localhost" }],
    ["typed by the person (Sec-Fetch-Site: none)", { "Sec-Fetch-Site": "none" }],
    ["from a client that is no browser (neither header)", {}],
  ])("is accepted %s", async (_what, headers) => {
    expect((await post(headers)).status).toBe(201);
  });

  it("a read from another site is not refused: it changes nothing, and the browser keeps the answer from that site", async () => {
    const { app } = accessApp();
    expect((await asAccess(app, await assertion(), "/v1/admin/rules", { headers: { "Sec-Fetch-Site": "cross-site" } })).status).toBe(200);
  });

  it("a bearer token's write is not judged by where it comes from: no other site can send the token", async () => {
    const { app } = accessApp();
    const response = await app.request("/v1/admin/rules", { method: "POST", headers: { ...adminAuth, "Content-Type": "application/json", "Sec-Fetch-Site": "cross-site" }, body: JSON.stringify({ ...rule, criteria: { cli: { exact: "77272509997" } } }) }, accessEnv);
    expect(response.status).toBe(201);
  });
});


describe("what an Access assertion must hold", () => {
  it.each([
    ["no exp", { exp: undefined }],
    ["no iat", { iat: undefined }],
  ])("one with %s is refused: it would never expire, or says nothing of when it was issued", async (_what, claims) => {
    const { app } = accessApp();
    const response = await asAccess(app, await assertion(claims));
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/ERR_JWT_CLAIM_VALIDATION_FAILED/);
  });

  it("one naming an empty email is refused, whatever role `*` gives", async () => {
    const { app } = accessApp();
    const response = await asAccess(app, await assertion({ email: "" }), "/v1/stats");
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/names no email or service token/);
  });

  it("a service token (no email) is known by its client id, common_name", async () => {
    const { app } = accessApp();
    const bindings = { ...accessEnv, ACCESS_ROLES: "automation.access:admin" };
    const response = await app.request("/v1/admin/config", { headers: { "Cf-Access-Jwt-Assertion": await assertion({ email: undefined, common_name: "automation.access" }) } }, bindings);
    expect(response.status).toBe(200);
  });

  it("a malformed Authorization header beside a valid assertion is refused as malformed: one credential is judged, not the easier one", async () => {
    const { app } = accessApp();
    const response = await asAccess(app, await assertion(), "/v1/stats", { headers: { Authorization: "Bearer two words" } });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/^the Authorization header must be 'Bearer <key>'/);
  });

  it("a key set whose fetch throws is a 503 to retry", async () => {
    const app = createApp({
      clock: fixedClock(IAT),
      fetcher: async () => {
        throw new TypeError("network connection lost");
      },
    });
    const response = await app.request("/v1/stats", { headers: { "Cf-Access-Jwt-Assertion": await assertion() } }, accessEnv);
    expect(response.status).toBe(503);
  });
});

describe("the Access settings, continued", () => {
  it("without ACCESS_ROLES give nobody a role", async () => {
    const { app } = accessApp();
    const response = await app.request("/v1/stats", { headers: { "Cf-Access-Jwt-Assertion": await assertion() } }, { ...accessEnv, ACCESS_ROLES: undefined });
    expect(response.status).toBe(403);
  });

  it("an assertion naming neither an email nor a service token is refused", async () => {
    const { app } = accessApp();
    const response = await asAccess(app, await assertion({ email: undefined }), "/v1/stats");
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/names no email or service token/);
  });

  it("a cross-site write's refusal quotes at most 32 characters of Sec-Fetch-Site and 128 of Origin", async () => {
    const { app } = accessApp();
    const write = async (headers: Record<string, string>) =>
      ((await (await asAccess(app, await assertion(), "/v1/admin/rules", { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: "{}" })).json()) as { error: { message: string } }).error.message;
    expect(await write({ "Sec-Fetch-Site": "s".repeat(100) })).toContain(`"${"s".repeat(32)}"`);
    expect(await write({ Origin: `https://${"o".repeat(200)}.example` })).toContain(`"https://${"o".repeat(120)}"`);
  });
});

describe("the Access settings", () => {
  it("read the team domain as a URL, in any case, with a trailing slash, and the settings with white space around them", async () => {
    const { app } = accessApp();
    const bindings = { ...accessEnv, ACCESS_TEAM_DOMAIN: " https://Shaken-Test.cloudflareaccess.com/ ", ACCESS_AUD: ` ${AUDIENCE} `, ACCESS_ROLES: " aigerim@operator.example : analyst , , " };
    expect((await app.request("/v1/admin/rules", { headers: { "Cf-Access-Jwt-Assertion": await assertion() } }, bindings)).status).toBe(200);
    expect((await app.request("/v1/stats", { headers: { "Cf-Access-Jwt-Assertion": await assertion() } }, bindings)).status).toBe(200);
  });

  it.each([
    ["an ACCESS_ROLES entry without a who", { ACCESS_ROLES: ":admin" }],
    ["an ACCESS_ROLES entry with an unknown role", { ACCESS_ROLES: "aigerim@operator.example:owner" }],
    ["ACCESS_AUD without ACCESS_TEAM_DOMAIN", { ACCESS_TEAM_DOMAIN: " " }],
    ["ACCESS_TEAM_DOMAIN without ACCESS_AUD", { ACCESS_AUD: "" }],
    ["a team domain elsewhere", { ACCESS_TEAM_DOMAIN: "shaken-test.cloudflareaccess.com.evil.example" }],
  ])("with %s are a deployment mistake: 500 naming nothing to the caller", async (_what, overrides) => {
    const { app } = accessApp();
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const response = await app.request("/v1/stats", { headers: { "Cf-Access-Jwt-Assertion": await assertion() } }, { ...accessEnv, ...overrides });
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ error: { code: "ERR_INTERNAL", message: expect.not.stringMatching(/ACCESS_/) } });
    expect(logged).toHaveBeenCalledWith(expect.stringMatching(/ACCESS_(ROLES|AUD|TEAM_DOMAIN)/));
    logged.mockRestore();
  });
});
