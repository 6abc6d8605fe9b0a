import { env } from "cloudflare:workers";
import { createApp } from "../../../src/app";
import type { Clock } from "../../../src/lib/clock";
import { adminAuth } from "../support/auth";

/** A clock the test moves by hand. */
export function manualClock(startMs: number): Clock & { advance(ms: number): void } {
  let now = startMs;
  return { now: () => now, advance: (ms) => void (now += ms) };
}

/** The application on an injected clock. */
export function operatorApp(clock: Clock) {
  const app = createApp({ clock });
  const send = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    app.request(path, { method, headers: { ...adminAuth, ...(body !== undefined ? { "Content-Type": "application/json" } : {}), ...headers }, body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body) }, env);
  return { app, send };
}
