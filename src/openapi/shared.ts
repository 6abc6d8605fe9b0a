import { resolver, validator } from "hono-openapi";
import type { OpenAPIV3_1 } from "openapi-types";
import * as z from "zod";
import { validationError } from "../admin/http";

/**
 * What the route descriptions share: the security schemes (by name, declared once in the document),
 * the native error body, and query validation that documents itself.
 */
export const SBC_SECURITY: OpenAPIV3_1.SecurityRequirementObject[] = [{ sbcKey: [] }];
export const ADMIN_SECURITY: OpenAPIV3_1.SecurityRequirementObject[] = [{ adminToken: [] }, { cloudflareAccess: [] }];
export const METRICS_SECURITY: OpenAPIV3_1.SecurityRequirementObject[] = [{ metricsToken: [] }, ...ADMIN_SECURITY];

export const SECURITY_SCHEMES: Record<string, OpenAPIV3_1.SecuritySchemeObject> = {
  sbcKey: { type: "http", scheme: "bearer", description: "An SBC API key; its SHA-256 digest is listed in SBC_API_KEYS_SHA256." },
  adminToken: {
    type: "http",
    scheme: "bearer",
    description: "An operator token naming a person and a role (viewer, analyst, admin): ADMIN_TOKENS entries name:role:sha256hex; the digest-only ADMIN_TOKENS_SHA256 entries are role admin.",
  },
  cloudflareAccess: { type: "apiKey", in: "header", name: "Cf-Access-Jwt-Assertion", description: "The Cloudflare Access assertion (with ACCESS_TEAM_DOMAIN and ACCESS_AUD set); ACCESS_ROLES gives each person a role." },
  metricsToken: { type: "http", scheme: "bearer", description: "A Prometheus scrape token; its SHA-256 digest is listed in METRICS_TOKENS_SHA256." },
};

/** `{"error":{"code","message","fields"?}}` (src/api/native-errors.ts). */
const nativeErrorSchema = z.object({
  error: z.object({
    code: z.string().describe("Stable error code, e.g. ERR_VALIDATION"),
    message: z.string().describe("What was wrong and what would be right"),
    fields: z.record(z.string(), z.string()).optional().describe("Each invalid field, with what was expected"),
  }),
});

export const errorResponse = (description: string) => ({ description, content: { "application/json": { schema: resolver(nativeErrorSchema) } } });

export const jsonBody = (schema: z.ZodType, description?: string) => ({ required: true, description, content: { "application/json": { schema: resolver(schema) } } });

export const jsonResponse = (description: string, schema?: z.ZodType) => ({ description, content: { "application/json": schema ? { schema: resolver(schema) } : {} } });

/**
 * Validates the query string against `schema` and documents it as the route's parameters; a
 * failure answers 400 ERR_VALIDATION naming each bad parameter, like every other validation.
 */
export const validQuery = <S extends z.ZodObject>(schema: S) =>
  validator("query", schema, (result) => {
    if (!result.success) return validationError(new z.ZodError(result.error.map((issue) => ({ code: "custom", input: undefined, message: issue.message, path: (issue.path ?? []).map((segment) => (typeof segment === "object" ? segment.key : segment)) }))));
  });

