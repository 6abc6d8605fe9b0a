import type { Context, MiddlewareHandler } from "hono";
import type { Fetcher } from "../certificate/fetch-chain";
import type { Clock } from "../lib/clock";
import type { AppEnv } from "./app-env";
import { atisError } from "./atis-errors";
import { isAcceptedKey, operatorForToken, readBearer, roleCovers, type AuthFailure, type Operator, type OperatorTokenEnv, type Role } from "./auth";
import { ACCESS_ASSERTION_HEADER, AccessVerifier, accessSettingsFrom, type AccessEnv, type AccessSettings } from "./cloudflare-access";
import { nativeError } from "./native-errors";

/**
 * Who may call what, decided before anything else reads the request or the configuration: an
 * unauthenticated caller learns nothing about the deployment (issue 22 item 13), whatever its query
 * or the state of the settings. The first matching prefix wins; a path no entry names needs an admin,
 * so a route added later is closed until it is listed.
 */
export type RouteAccess =
  | { credential: "none" }
  | { credential: "sbc-key" }
  /** `/metrics`: a Prometheus scrape token, or any operator. */
  | { credential: "scrape-token" }
  | { credential: "operator"; role: Role };

const PUBLIC: RouteAccess = { credential: "none" };
const operatorWith = (role: Role): RouteAccess => ({ credential: "operator", role });

const ROUTE_ACCESS: [prefix: string, access: RouteAccess][] = [
  ["/healthz", PUBLIC],
  // Documents without operator data: the dashboard's page and files fetch every figure from the API.
  ["/dashboard", PUBLIC],
  ["/openapi.json", PUBLIC],
  ["/docs", PUBLIC],
  ["/stir", { credential: "sbc-key" }],
  ["/v1/verdict", { credential: "sbc-key" }],
  ["/metrics", { credential: "scrape-token" }],
  // viewer: the dashboard's figures; analyst: rules, reports and who changed them; admin: the rest.
  ["/v1/stats", operatorWith("viewer")],
  ["/v1/admin/verdicts", operatorWith("viewer")],
  // Moving the origin version on purpose, for every rule an unfinished import left: an admin's call.
  ["/v1/admin/rules/publish", operatorWith("admin")],
  ["/v1/admin/rules", operatorWith("analyst")],
  ["/v1/admin/audit", operatorWith("analyst")],
  ["/v1/reports", operatorWith("analyst")],
];
const UNLISTED: RouteAccess = operatorWith("admin");

export function routeAccessFor(path: string): RouteAccess {
  for (const [prefix, access] of ROUTE_ACCESS) if (path === prefix || path.startsWith(`${prefix}/`)) return access;
  return UNLISTED;
}

type AuthEnv = OperatorTokenEnv & AccessEnv & { SBC_API_KEYS_SHA256?: string; METRICS_TOKENS_SHA256?: string };

/** What a refusal says the route needs (issue 23 item 9: not just "not accepted"). */
function credentialNeeded(access: Exclude<RouteAccess, { credential: "none" }>, env: AuthEnv): string {
  const operator = `an operator token (ADMIN_TOKENS)${env.ACCESS_TEAM_DOMAIN ? " or a Cloudflare Access sign-in" : ""}`;
  switch (access.credential) {
    case "sbc-key":
      return "an SBC key";
    case "scrape-token":
      return `a metrics scrape token or ${operator}`;
    case "operator":
      return operator;
  }
}

const FAILURE_MESSAGES: Record<AuthFailure, (needed: string) => string> = {
  missing: (needed) => `this route needs ${needed}: send Authorization: Bearer <key>`,
  malformed: (needed) => `the Authorization header must be 'Bearer <key>' with ${needed}`,
  rejected: (needed) => `the bearer key is not accepted here: this route needs ${needed}`,
};

export interface AuthenticationDeps {
  clock: Clock;
  /** Fetches the Access team's signing keys. */
  fetcher: Fetcher;
}

/** Authenticates (and, for the operator API, authorizes) every request before any other middleware. */
export function authenticate(deps: AuthenticationDeps): MiddlewareHandler<AppEnv> {
  const access = new AccessVerifier(deps.clock, deps.fetcher);
  return async (c, next) => {
    const required = routeAccessFor(c.req.path);
    if (required.credential === "none") return next();
    const env = c.env as unknown as AuthEnv;
    const unauthenticated = (failure: AuthFailure) => {
      const message = FAILURE_MESSAGES[failure](credentialNeeded(required, env));
      return c.req.path.startsWith("/stir/") ? atisError("POL4001", [message]) : nativeError(401, "ERR_UNAUTHENTICATED", message);
    };

    const bearer = readBearer(c.req.header("Authorization"));
    if (required.credential === "sbc-key") {
      if ("failure" in bearer) return unauthenticated(bearer.failure);
      return (await isAcceptedKey(bearer.key, env.SBC_API_KEYS_SHA256)) ? next() : unauthenticated("rejected");
    }
    if (required.credential === "scrape-token" && "key" in bearer && (await isAcceptedKey(bearer.key, env.METRICS_TOKENS_SHA256))) return next();

    const identified = await identifyOperator(c, bearer, env, access);
    if ("failure" in identified) return unauthenticated(identified.failure);
    if ("refused" in identified) return identified.refused;
    const { operator } = identified;
    if (required.credential === "operator" && !roleCovers(operator.role, required.role)) {
      return nativeError(403, "ERR_FORBIDDEN", `${operator.name} holds the ${operator.role} role; this route needs the ${required.role} role`);
    }
    c.set("operator", operator);
    return next();
  };
}

/**
 * A bearer token when one is sent (automation, the CLI, the dashboard's login); otherwise the Access
 * assertion, when Access is configured and forwarded one.
 */
async function identifyOperator(
  c: Context<AppEnv>,
  bearer: ReturnType<typeof readBearer>,
  env: AuthEnv,
  access: AccessVerifier,
): Promise<{ operator: Operator } | { failure: AuthFailure } | { refused: Response }> {
  if ("key" in bearer) {
    const operator = await operatorForToken(bearer.key, env);
    return operator ? { operator } : { failure: "rejected" };
  }
  const assertion = c.req.header(ACCESS_ASSERTION_HEADER);
  if (bearer.failure === "malformed" || assertion === undefined) return bearer;
  const settings = accessSettingsOr(c, env);
  if (settings === null) return bearer;
  if ("response" in settings) return { refused: settings.response };
  const result = await access.verify(assertion, settings);
  if ("operator" in result) {
    const crossSite = crossSiteWrite(c);
    return crossSite === null ? result : { refused: nativeError(403, "ERR_CROSS_SITE", crossSite) };
  }
  if ("roleless" in result) return { refused: nativeError(403, "ERR_FORBIDDEN", result.roleless) };
  if ("unavailable" in result) return { refused: nativeError(503, "ERR_AUTH_UNAVAILABLE", `cannot verify the Cloudflare Access assertion now: ${result.unavailable}; retry later`) };
  return { refused: nativeError(401, "ERR_UNAUTHENTICATED", `the Cloudflare Access assertion is not accepted: ${result.refused}`) };
}

/** Methods that change nothing (RFC 9110 §9.2.1): a page elsewhere may make the browser send them, and learns nothing it can read. */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Why a write carrying the Access sign-in must be refused as another site's doing (cross-site request
 * forgery), or null. Access signs in a browser with a cookie, and its edge adds the assertion to every
 * request that cookie goes with: a page on another site could have an analyst's browser POST an
 * allowing rule, or expire the rules that block a fraud wave, had the cookie gone with it (an Access
 * application whose cookie is SameSite=None, or an older browser). A browser says where a request
 * comes from (Sec-Fetch-Site; Origin on every POST, PUT and DELETE): only the deployment's own pages,
 * and requests the person made themselves, may write. Clients that are not browsers (the CLI with an
 * Access service token, automation) send neither header. Bearer tokens are not ambient: a page
 * elsewhere cannot send one.
 */
function crossSiteWrite(c: Context<AppEnv>): string | null {
  if (SAFE_METHODS.has(c.req.method)) return null;
  const site = c.req.header("Sec-Fetch-Site");
  if (site !== undefined && site !== "same-origin" && site !== "none") {
    return `a ${c.req.method} signed in through Cloudflare Access must come from this deployment's own pages; the browser says it is ${JSON.stringify(site.slice(0, 32))} (Sec-Fetch-Site)`;
  }
  const origin = c.req.header("Origin");
  if (origin !== undefined && origin !== new URL(c.req.url).origin) {
    return `a ${c.req.method} signed in through Cloudflare Access must come from this deployment's own pages, not from ${JSON.stringify(origin.slice(0, 128))} (Origin)`;
  }
  return null;
}

/**
 * The Access settings; a deployment mistake in them is logged with the variable's name, and the caller,
 * not yet authenticated, gets a 500 that names nothing.
 */
function accessSettingsOr(c: Context<AppEnv>, env: AuthEnv): AccessSettings | null | { response: Response } {
  try {
    return accessSettingsFrom(env);
  } catch (error) {
    console.error(JSON.stringify({ level: "error", requestId: c.get("requestId"), path: c.req.path, error: String(error) }));
    return { response: nativeError(500, "ERR_INTERNAL", "internal error; the request id identifies it in the logs") };
  }
}
