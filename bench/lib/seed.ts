import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Miniflare } from "miniflare";
import { unstable_splitSqlQuery } from "wrangler";
import { adminHeaders, type BenchPki, TRUST_KEYS } from "./fixtures";
import { operatorConfig, operatorRules, S4_CALLERS } from "./origin-fixtures";

const MIGRATIONS_DIR = join(import.meta.dirname, "..", "..", "migrations");

/** Applies migrations/*.sql (of this tree, or of `dir`) in order to the worker's local D1, as `wrangler d1 migrations apply` would. */
export async function applyMigrations(miniflare: Miniflare, dir = MIGRATIONS_DIR): Promise<void> {
  const db = await miniflare.getD1Database("DB");
  for (const file of readdirSync(dir).filter((name) => name.endsWith(".sql")).sort()) {
    const statements = unstable_splitSqlQuery(readFileSync(join(dir, file), "utf8"));
    await db.batch(statements.map((statement) => db.prepare(statement)));
  }
}

/** Puts the bench PKI's trust anchors and CRL into the TRUST KV namespace (what `shaken-edge trust push` does). */
export async function installTrust(miniflare: Miniflare, pki: BenchPki): Promise<void> {
  const kv = await miniflare.getKVNamespace("TRUST");
  await kv.put(TRUST_KEYS.anchors, pki.trustAnchors);
  await kv.put(TRUST_KEYS.crls, pki.crls);
}

async function admin(url: string, method: "PUT" | "POST", path: string, body: unknown): Promise<void> {
  const response = await fetch(`${url}${path}`, { method, headers: { ...adminHeaders, "Content-Type": "application/json" }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
  await response.arrayBuffer();
}

async function inParallel<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

/**
 * Loads S4's world through the admin API, as an operator would: the configuration sections, a
 * roaming-table row for every S4 caller, and 10 000 operator rules (each one validated, audited
 * and versioned by the product's own write path).
 */
export async function seedOrigin(url: string, ruleCount: number): Promise<{ rules: number; seconds: number }> {
  const started = performance.now();
  for (const [section, document] of Object.entries(operatorConfig())) {
    await admin(url, "PUT", `/v1/admin/config/${section}`, { document, version: 0 });
  }
  await inParallel(S4_CALLERS, 8, (tn) => admin(url, "PUT", `/v1/admin/roaming/${tn}`, { status: "roaming", visitedCountry: "TR" }));
  const rules = operatorRules(ruleCount);
  await inParallel(rules, 8, (rule) => admin(url, "POST", "/v1/admin/rules", rule));
  return { rules: rules.length, seconds: (performance.now() - started) / 1000 };
}
