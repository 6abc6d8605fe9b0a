/**
 * What the bundle gives for `zod/v4/core` (wrangler.toml `[alias]`): zod's JSON Schema converter,
 * the one thing hono-openapi's converter (`@standard-community/standard-json`) takes from that module.
 * It imports the module dynamically, so the bundler would otherwise keep every export of it, zod
 * 63 error-message locales (400 KB of the bundle) among them.
 */
export { toJSONSchema } from "zod";
