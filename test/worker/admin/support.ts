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

/**
 * Counts `count` blocked CLIs `<prefix>0000000`… into `hour`, CLI i counted i + 1 times, in pages of
 * 250 CLIs as isolates' flushes write them (page ids `<pageIds>0`, `<pageIds>1`, …), and the hour's
 * other dimensions to match in one more page (`<pageIds>calls`).
 */
export async function seedBlockedHour(hour: string, prefix: string, count: number, pageIds = `seed-${prefix}:`): Promise<void> {
  const calls = (count * (count + 1)) / 2;
  await env.DB.batch([
    env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?3 - 1)
       INSERT INTO stats_pages (hour, page, counts) SELECT ?1, ?4 || (i / 250), json_object('blocked-cli', json_group_object(?2 || printf('%07d', i), i + 1)) FROM n GROUP BY i / 250`,
    ).bind(hour, prefix, count, pageIds),
    env.DB.prepare("INSERT INTO stats_pages (hour, page, counts) VALUES (?, ?, ?)").bind(
      hour,
      `${pageIds}calls`,
      JSON.stringify({ total: { all: calls }, action: { block: calls }, carrier: { TransitCo: calls }, "carrier-spoofed": { TransitCo: calls }, check: { "origin.national-on-international": calls } }),
    ),
  ]);
}

export interface StatsBody {
  from: string;
  to: string;
  total: number;
  byAction: Record<string, number>;
  byHour: { hour: string; hours: number; calls: number; byAction: Record<string, number> }[];
  topBlockedClis: { cli: string; count: number }[];
}

/** `GET /v1/stats?<query>` at `nowMs`, on `db`. */
export async function statsAt(nowMs: number, query: string, db: D1Database = env.DB): Promise<StatsBody> {
  const response = await createApp({ clock: manualClock(nowMs) }).request(`/v1/stats?${query}`, { headers: adminAuth }, { ...env, DB: db });
  if (response.status !== 200) throw new Error(`/v1/stats answered ${response.status}`);
  return (await response.json()) as StatsBody;
}

/** Empties the statistics, audit and report tables: the tests of one file share its database. */
export async function emptyRetainedTables(): Promise<void> {
  await env.DB.batch(["stats_pages", "stats_daily", "audit_log", "fraud_reports"].map((table) => env.DB.prepare(`DELETE FROM ${table}`)));
}

export const rowsIn = async (table: string): Promise<number> => (await env.DB.prepare(`SELECT COUNT(*) AS rows FROM ${table}`).first<number>("rows"))!;

/** The ids of the statistics pages of `hour`. */
export const pagesOf = async (hour: string) =>
  (await env.DB.prepare("SELECT page FROM stats_pages WHERE hour = ? ORDER BY page").bind(hour).all<{ page: string }>()).results.map(({ page }) => page);

/** The counters of `dimension` in the pages of `hour`: how many entries, how many distinct keys, their sum. */
export const entriesOf = (hour: string, dimension = "blocked-cli") =>
  env.DB.prepare(
    `SELECT COUNT(*) AS keys, COUNT(DISTINCT entry.key) AS distinctKeys, SUM(entry.value) AS count
     FROM stats_pages, json_each(stats_pages.counts) AS dimension, json_each(dimension.value) AS entry WHERE hour = ? AND dimension.key = ?`,
  )
    .bind(hour, dimension)
    .first();
