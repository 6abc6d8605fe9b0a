/**
 * What the bundle gives for `zod/v4/core` (wrangler.toml `[alias]`): zod's JSON Schema converter,
 * the one thing hono-openapi's converter (`@standard-community/standard-json`) takes from that module.
 * It imports the module dynamically, so the bundler would otherwise keep every export of it, zod's 62
 * error-message locales beyond English (400 KB of the bundle) among them. The function is the same one:
 * zod's classic API and its core both export `toJSONSchema` from `json-schema-processors.js`.
 */
export { toJSONSchema } from "zod";
