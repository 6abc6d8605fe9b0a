import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../../src/app";
import { sha256Hex } from "../../../src/lib/sha256";
import { adminAuth, NAMED, sbcAuth, TEST_ADMIN_TOKEN } from "../support/auth";

/**
 * How a bearer credential is read and matched against the configured digests (src/api/auth.ts), and
 * which prefix of the path decides what a route needs (src/api/authenticate.ts). Each case is one an
 * attacker who reaches the API, or an operator's slip in a secret, would meet.
 */
const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });
const get = (path: string, headers: Record<string, string>, bindings: object = env, app = createApp()) => app.request(path, { headers }, bindings);
const messageOf = async (response: Response) => ((await response.json()) as { error: { message: string } }).error.message;
/** A verdict request the route reads, so that a 200 says the key opened it. */
const verdictWith = (headers: Record<string, string>, bindings: object = env, app = createApp()) =>
  app.request("/v1/verdict", { method: "POST", headers: { ...headers, "Content-Type": "application/json" }, body: JSON.stringify({ from: "+77272501234", ingress: { trunk: "domestic-1" } }) }, bindings);

describe("an Authorization header", () => {
  it("holding a key of 512 characters is read as a key (not accepted here), one of 513 as malformed", async () => {
    expect(await messageOf(await verdictWith(bearer("k".repeat(512))))).toMatch(/^the bearer key is not accepted here/);
    expect(await messageOf(await verdictWith(bearer("k".repeat(513))))).toMatch(/^the Authorization header must be 'Bearer <key>'/);
  });

  it("holding token68 with its padding is read as a key", async () => {
    expect(await messageOf(await verdictWith(bearer("a2V5==")))).toMatch(/^the bearer key is not accepted here/);
  });

  it("of another scheme whose value ends like a bearer credential is malformed", async () => {
    expect(await messageOf(await verdictWith({ Authorization: `Basic ${sbcAuth.Authorization}` }))).toMatch(/^the Authorization header must be 'Bearer <key>'/);
  });

  it("names its scheme in any case (RFC 9110 §11.1), and the key stays case-sensitive", async () => {
    const key = sbcAuth.Authorization.slice("Bearer ".length);
    for (const scheme of ["bearer", "BEARER", "BeArEr"]) expect((await verdictWith({ Authorization: `${scheme} ${key}` })).status, scheme).toBe(200);
    expect(await messageOf(await verdictWith(bearer(key.toUpperCase())))).toMatch(/^the bearer key is not accepted here/);
  });

  it("that is empty is a missing credential", async () => {
    expect(await messageOf(await verdictWith({ Authorization: "" }))).toMatch(/^this route needs an SBC key: send Authorization: Bearer <key>/);
  });
});

describe("the configured digests", () => {
  it("are read in upper case and with white space around them, and an entry that is no digest is skipped", async () => {
    const digest = await sha256Hex("spelt-key");
    const bindings = { ...env, SBC_API_KEYS_SHA256: `not-a-digest, ${digest.toUpperCase()} ` };
    expect((await verdictWith(bearer("spelt-key"), bindings)).status).toBe(200);
  });

  it.each([
    ["empty", ""],
    ["unset", undefined],
  ])("open nothing when they are %s", async (_what, configured) => {
    expect((await verdictWith(sbcAuth, { ...env, SBC_API_KEYS_SHA256: configured })).status).toBe(401);
  });

  it("accepted once are remembered for that configuration only: a key removed from it is refused at once, in the same isolate", async () => {
    const app = createApp();
    const digest = await sha256Hex("rotated-key");
    const before = { ...env, SBC_API_KEYS_SHA256: `${digest},${await sha256Hex("other-key")}` };
    const after = { ...env, SBC_API_KEYS_SHA256: await sha256Hex("other-key") };
    expect((await verdictWith(bearer("rotated-key"), before, app)).status).toBe(200);
    expect((await verdictWith(bearer("rotated-key"), before, app)).status).toBe(200);
    expect((await verdictWith(bearer("rotated-key"), after, app)).status).toBe(401);
  });

  it("an SBC key is no scrape token, and a scrape token no SBC key", async () => {
    const bindings = { ...env, METRICS_TOKENS_SHA256: await sha256Hex("scrape-only") };
    expect((await verdictWith(bearer("scrape-only"), bindings)).status).toBe(401);
    expect((await get("/metrics", sbcAuth, bindings)).status).toBe(401);
    expect((await get("/metrics", bearer("scrape-only"), bindings)).status).toBe(200);
  });
});

describe("named operator tokens (ADMIN_TOKENS)", () => {
  it("a digest named twice is the first entry's operator", async () => {
    const digest = await sha256Hex("shared-token");
    const bindings = { ...env, ADMIN_TOKENS: `vera2:viewer:${digest},dana:admin:${digest}` };
    const response = await get("/v1/admin/config", bearer("shared-token"), bindings);
    expect(response.status).toBe(403);
    expect(await messageOf(response)).toBe("vera2 holds the viewer role; this route needs the admin role");
  });

  it("an entry with a digest in upper case and white space around it is read", async () => {
    const bindings = { ...env, ADMIN_TOKENS: ` dana:admin:${(await sha256Hex("upper-token")).toUpperCase()} ` };
    expect((await get("/v1/admin/config", bearer("upper-token"), bindings)).status).toBe(200);
  });

  it.each([
    ["a fourth field", (digest: string) => `dana:admin:${digest}:extra`],
    ["a name that is no name", (digest: string) => `dana smith:admin:${digest}`],
    ["a digest that is no digest", (digest: string) => `dana:admin:${digest.slice(1)}`],
  ])("an entry with %s opens nothing", async (_what, entry) => {
    const bindings = { ...env, ADMIN_TOKENS: entry(await sha256Hex("entry-token")) };
    expect((await get("/v1/stats", bearer("entry-token"), bindings)).status).toBe(401);
  });

  it("read for one configuration open nothing under another, in the same isolate", async () => {
    const app = createApp();
    const before = { ...env, ADMIN_TOKENS: `dana:admin:${await sha256Hex("revoked-token")}`, ADMIN_TOKENS_SHA256: "" };
    const after = { ...env, ADMIN_TOKENS: "", ADMIN_TOKENS_SHA256: "" };
    expect((await get("/v1/stats", bearer("revoked-token"), before, app)).status).toBe(200);
    expect((await get("/v1/stats", bearer("revoked-token"), after, app)).status).toBe(401);
    const unnamedBefore = { ...env, ADMIN_TOKENS: "", ADMIN_TOKENS_SHA256: await sha256Hex("revoked-token") };
    expect((await get("/v1/stats", bearer("revoked-token"), unnamedBefore, app)).status).toBe(200);
    expect((await get("/v1/stats", bearer("revoked-token"), after, app)).status).toBe(401);
  });

  it("a digest-only token (ADMIN_TOKENS_SHA256) writes as admin-token: and its digest's first 12 hex digits", async () => {
    const rule = { criteria: { cli: { exact: "77272509996" } }, action: "block", reason: "unnamed author" };
    const created = await createApp().request("/v1/admin/rules", { method: "POST", headers: { ...adminAuth, "Content-Type": "application/json" }, body: JSON.stringify(rule) }, env);
    expect(created.status).toBe(201);
    expect(((await created.json()) as { rule: { author: string } }).rule.author).toBe(`admin-token:${(await sha256Hex(TEST_ADMIN_TOKEN)).slice(0, 12)}`);
  });

  it("an analyst's role covers the analyst routes", async () => {
    expect((await get("/v1/admin/rules", NAMED.analyst.headers)).status).toBe(200);
  });
});

describe("what a path needs is decided by whole path segments", () => {
  it.each(["/v1/verdictx", "/v1/verdicts/all", "/stirx/v1/verification", "/healthzx", "/dashboardx", "/docsx"])(
    "%s is no prefix's route: it needs an admin, and an SBC key is refused before the router says it does not exist",
    async (path) => {
      const response = await get(path, sbcAuth);
      expect(response.status).toBe(401);
      expect(await messageOf(response)).toMatch(/needs an operator token/);
    },
  );

  it("a viewer is refused below /v1/statsx, which is no statistics route", async () => {
    expect((await get("/v1/statsx", NAMED.viewer.headers)).status).toBe(403);
  });
});
