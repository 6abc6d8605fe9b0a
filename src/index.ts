import { createApp } from "./app";
import { RETENTION_CRON, runScheduledRetention } from "./stats/retention";
import { CRL_REFRESH_CRON, refreshCrlsOnSchedule } from "./scheduled";

const app = createApp();

export default {
  fetch: app.fetch,
  /** Cron Triggers (wrangler.toml `[triggers]`): each schedule runs its own job. */
  async scheduled(controller, env) {
    if (controller.cron === RETENTION_CRON) await runScheduledRetention(env, controller.scheduledTime);
    else if (controller.cron === CRL_REFRESH_CRON) await refreshCrlsOnSchedule(env);
  },
} satisfies ExportedHandler<Env>;

// Durable Object classes must be exported by the main module (wrangler.toml durable_objects.bindings).
export { ReplayGuard } from "./abuse/replay-guard";
export { VelocityCounter } from "./abuse/velocity-counter";
