import { createRemoteJWKSet, customFetch, errors, jwtVerify, type JWTPayload } from "jose";
import { ConfigError } from "../config";
import type { Fetcher } from "../certificate/fetch-chain";
import type { Clock } from "../lib/clock";
import { ROLES, type Operator, type Role } from "./auth";

/**
 * Cloudflare Access in front of the operator API and the dashboard: Access signs in the person and
 * forwards each request with `Cf-Access-Jwt-Assertion`, a JWT signed with the team's keys. It is
 * verified here with jose against the team's JWKS (cached), with the audience and issuer checked, the
 * clock skew bounded, and only RS256 and ES256 accepted (never `none`: RFC 8725 §3.1, §3.2).
 */
export const ACCESS_ASSERTION_HEADER = "Cf-Access-Jwt-Assertion";

const ALGORITHMS = ["RS256", "ES256"];
/** Clocks of the Access edge and this isolate may disagree this much on exp, nbf and iat. */
const CLOCK_SKEW_SECONDS = 60;
const JWKS_TIMEOUT_MS = 3_000;

export interface AccessSettings {
  /** `https://<team>.cloudflareaccess.com`: the issuer, and where the signing keys are. */
  issuer: string;
  /** The Access application's AUD tag. */
  audience: string;
  /** Who gets which role: by email (or a service token's client id); `*` for everyone else Access lets in. */
  roles: ReadonlyMap<string, Role>;
}

export interface AccessEnv {
  ACCESS_TEAM_DOMAIN?: string;
  ACCESS_AUD?: string;
  ACCESS_ROLES?: string;
}

const TEAM_DOMAIN = /^(?:https:\/\/)?([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)\.cloudflareaccess\.com\/?$/i;

/** Null when Access is not configured (both variables unset); a ConfigError when it is configured wrong. */
export function accessSettingsFrom(env: AccessEnv): AccessSettings | null {
  const teamDomain = env.ACCESS_TEAM_DOMAIN?.trim() ?? "";
  const audience = env.ACCESS_AUD?.trim() ?? "";
  if (teamDomain === "" && audience === "") return null;
  const team = TEAM_DOMAIN.exec(teamDomain)?.[1];
  if (!team) throw new ConfigError(`ACCESS_TEAM_DOMAIN must be <team>.cloudflareaccess.com, got '${teamDomain}'`);
  if (audience === "") throw new ConfigError("ACCESS_AUD must be set with ACCESS_TEAM_DOMAIN: the Access application's AUD tag");
  return { issuer: `https://${team.toLowerCase()}.cloudflareaccess.com`, audience, roles: accessRoles(env.ACCESS_ROLES) };
}

/** `ACCESS_ROLES="aigerim@op.example:analyst,daniyar@op.example:admin,*:viewer"`. */
function accessRoles(configured: string | undefined): Map<string, Role> {
  const roles = new Map<string, Role>();
  for (const entry of (configured ?? "").split(",").map((item) => item.trim()).filter(Boolean)) {
    const separator = entry.lastIndexOf(":");
    const who = entry.slice(0, separator).trim().toLowerCase();
    const role = entry.slice(separator + 1).trim();
    if (separator <= 0 || !(ROLES as readonly string[]).includes(role)) throw new ConfigError(`ACCESS_ROLES entries must be <email or *>:<${ROLES.join("|")}>, got '${entry}'`);
    roles.set(who, role as Role);
  }
  return roles;
}

/** `roleless`: Access signed the person in, but ACCESS_ROLES gives them no role here. */
export type AccessResult = { operator: Operator } | { refused: string } | { roleless: string } | { unavailable: string };

/** jose's codes for "the team's keys could not be had", as opposed to "this assertion is bad". */
const KEYS_UNAVAILABLE = new Set([errors.JWKSTimeout.code, errors.JWKSInvalid.code, errors.JOSEError.code]);

/**
 * Verifies assertions for one application. The key set is fetched on first use and cached by jose
 * (10 minutes; a `kid` it does not know triggers at most one refetch per 30 s), per isolate.
 */
export class AccessVerifier {
  private readonly keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

  constructor(
    private readonly clock: Clock,
    private readonly fetcher: Fetcher,
  ) {}

  async verify(assertion: string, settings: AccessSettings): Promise<AccessResult> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(assertion, this.keySetFor(settings.issuer), {
        issuer: settings.issuer,
        audience: settings.audience,
        algorithms: ALGORITHMS,
        requiredClaims: ["exp", "iat"],
        clockTolerance: CLOCK_SKEW_SECONDS,
        currentDate: new Date(this.clock.now()),
      }));
    } catch (error) {
      if (!(error instanceof errors.JOSEError)) return { unavailable: "the Access signing keys could not be fetched" };
      if (KEYS_UNAVAILABLE.has(error.code)) return { unavailable: `the Access signing keys could not be fetched (${error.code})` };
      return { refused: `${error.code}: ${error.message}` };
    }
    // A person signs in with an email; a service token (automation) is known by its client id.
    const identity = typeof payload.email === "string" ? payload.email : typeof payload.common_name === "string" ? payload.common_name : null;
    if (identity === null || identity === "") return { refused: "the assertion names no email or service token" };
    const role = settings.roles.get(identity.toLowerCase()) ?? settings.roles.get("*");
    if (!role) return { roleless: `${identity} has no role here (ACCESS_ROLES)` };
    return { operator: { name: identity, role, via: "access" } };
  }

  private keySetFor(issuer: string) {
    let keySet = this.keySets.get(issuer);
    if (!keySet) {
      keySet = createRemoteJWKSet(new URL(`${issuer}/cdn-cgi/access/certs`), {
        timeoutDuration: JWKS_TIMEOUT_MS,
        [customFetch]: (url, options) => this.fetcher(new Request(url, options)),
      });
      this.keySets.set(issuer, keySet);
    }
    return keySet;
  }
}
