import { createApp } from "./app";

export default createApp();

// Durable Object classes must be exported by the main module (wrangler.toml durable_objects.bindings).
export { ReplayGuard } from "./abuse/replay-guard";
export { VelocityCounter } from "./abuse/velocity-counter";
