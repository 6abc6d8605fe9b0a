import { createApp } from "./app";
import { refreshCrlsOnSchedule } from "./scheduled";

const app = createApp();

export default {
  fetch: app.fetch,
  scheduled: (_controller, env, context) => context.waitUntil(refreshCrlsOnSchedule(env)),
} satisfies ExportedHandler<Env>;

// Durable Object classes must be exported by the main module (wrangler.toml durable_objects.bindings).
export { ReplayGuard } from "./abuse/replay-guard";
export { VelocityCounter } from "./abuse/velocity-counter";
