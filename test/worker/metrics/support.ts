import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createApp } from "../../../src/app";
import { adminAuth, sbcAuth } from "../support/auth";

/** An unsigned call from `cli`, arriving on `ingress`. */
export const unsignedCall = (cli: string, ingress: { trunk: string; carrier: string; international: boolean }) => ({ from: cli, to: "+77012345678", ingress });
export const INTERNATIONAL = { trunk: "intl-1", carrier: "TransitCo", international: true };
export const DOMESTIC = { trunk: "kt-1", carrier: "Kazakhtelecom", international: false };

type App = ReturnType<typeof createApp>;

export async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return [...digest].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Posts a verdict and waits for everything it handed to waitUntil (log line, metrics and recent-verdict writes). */
export async function postVerdictAndSettle(app: App, body: unknown, bindings: object = env) {
  const context = createExecutionContext();
  const response = await app.request("/v1/verdict", { method: "POST", headers: { ...sbcAuth, "Content-Type": "application/json" }, body: JSON.stringify(body) }, bindings, context);
  await waitOnExecutionContext(context);
  return response;
}

export const adminGet = (app: App, path: string, bindings: object = env) => app.request(path, { headers: adminAuth }, bindings);

/** Series value by `name{labels}` from an exposition. */
export function parseExposition(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    values.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return values;
}

export async function scrape(app: App, bindings: object = env): Promise<Map<string, number>> {
  const response = await adminGet(app, "/metrics", bindings);
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  return parseExposition(await response.text());
}

/** Runs `act`, then says how much a series grew meanwhile, as a scrape reports it. */
export async function growthDuring(act: (app: App) => unknown): Promise<(series: string) => number> {
  const app = createApp();
  const before = await scrape(app);
  await act(app);
  const after = await scrape(app);
  return (series) => (after.get(series) ?? 0) - (before.get(series) ?? 0);
}
