import { createHash } from "node:crypto";
import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { unstable_readConfig } from "wrangler";

// Keys the worker tests present: test/worker/support/auth.ts.
const sha256 = (value: string) => createHash("sha256").update(value).digest("hex");

// wrangler.toml's [alias] (what the bundle gives for a module), applied to the Worker tests too, so they
// run the modules the deployed bundle runs.
const wranglerAliases = Object.entries(unstable_readConfig({ config: path.join(import.meta.dirname, "wrangler.toml") }).alias ?? {}).map(([module, replacement]) => ({
  find: new RegExp(`^${module.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}$`),
  replacement: path.resolve(import.meta.dirname, String(replacement)),
}));

// Two projects: the Worker's behaviour runs inside workerd against miniflare's real bindings;
// the Node-side CLI (and fixture building with it) runs in Node.
export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest(async () => ({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                SBC_API_KEYS_SHA256: sha256("test-sbc-key"),
                ADMIN_TOKENS_SHA256: sha256("test-admin-token"),
                ADMIN_TOKENS: [
                  `vera:viewer:${sha256("test-viewer-token")}`,
                  `aigerim:analyst:${sha256("test-analyst-token")}`,
                  `daniyar:admin:${sha256("test-named-admin-token")}`,
                ].join(","),
                // camara.operator.example: the README's example roaming settings (test/worker/openapi/request-bodies.test.ts).
                CAMARA_ALLOWED_HOSTS: "camara.example,camara.operator.example",
                X5U_ALLOW_INSECURE_LOOPBACK: "true",
                // Production answers within 250 ms; on a busy 2-core CI machine a cold first fetch can take
                // longer, so tests not about the budget get room. The budget's own tests set a small one.
                VERDICT_BUDGET_MS: "10000",
                // Thousands of verdicts would each print their log line; the log's own tests turn it on.
                LOG_VERDICTS: "false",
                TEST_MIGRATIONS: await readD1Migrations(path.join(import.meta.dirname, "migrations")),
              },
              ratelimits: {
                // The tests fetch hundreds of certificates from one loopback repository: the deployment's 50 in
                // 10 s would refuse most. x5u-amplification.test.ts gives its apps the small one.
                X5U_FETCH_LIMITER: { namespace_id: "5001", simple: { limit: 1_000_000, period: 10 } },
                X5U_FETCH_LIMITER_OF_TWO: { namespace_id: "5002", simple: { limit: 2, period: 60 } },
              },
            },
          })),
        ],
        resolve: { alias: wranglerAliases },
        test: {
          name: "worker",
          include: ["test/worker/**/*.test.ts"],
          globalSetup: ["test/setup/global-setup.ts"],
          setupFiles: ["test/worker/support/apply-migrations.ts"],
        },
      },
      {
        test: { name: "node", include: ["test/node/**/*.test.ts"], environment: "node", testTimeout: 30_000 },
      },
    ],
  },
});
