import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { freePort, waitForHealth, wranglerEnv } from "./support";

/**
 * `npm run test:e2e`: the dashboard in headless Chromium (Debian's `chromium` package) against
 * `wrangler dev`, as an analyst uses it: log in ("Log out" shown only then), see the verdicts chart
 * with data, preview a rule in monitor mode against the recent verdicts, add it, see it listed with its
 * mode and its hits, log out. Leaves a screenshot in test-artifacts/. Skips,
 * exiting 0, when Chromium is not installed.
 */
const CHROMIUM = "/usr/bin/chromium";
const ADMIN_TOKEN = "e2e-admin-token";
const SBC_KEY = "e2e-sbc-key";
const ARTIFACTS = path.resolve("test-artifacts");
const STEP_TIMEOUT_MS = 30_000;

if (!existsSync(CHROMIUM)) {
  console.log(`SKIPPED: ${CHROMIUM} not found. Install it with \`apt-get install -y chromium\` to run the dashboard browser test.`);
  process.exit(0);
}

const sha256Hex = (text: string) => createHash("sha256").update(text).digest("hex");

const ABROAD = { trunk: "intl-1", carrier: "TransitCo", international: true };
const DOMESTIC = { trunk: "kt-1", carrier: "Kazakhtelecom", international: false };

/**
 * A few verdicts for the chart and the rule preview: two spoofed domestic CLIs from abroad (blocked),
 * one with a bank's name, and a domestic call with its office's name (allowed), all three under
 * +7727250123.
 */
const SEEDED_CALLS = [
  { from: '"Halyk Bank" <sip:+77272501234@gw.example>', ingress: ABROAD },
  { from: "+77272501235", ingress: ABROAD },
  { from: '"Almaty Office" <sip:+77272501236@kt.example>', ingress: DOMESTIC },
];

async function postVerdicts(baseUrl: string, calls: { from: string; ingress: object }[]): Promise<void> {
  for (const call of calls) {
    const response = await fetch(`${baseUrl}/v1/verdict`, {
      method: "POST",
      headers: { Authorization: `Bearer ${SBC_KEY}`, "Content-Type": "application/json" },
      body: JSON.stringify({ ...call, to: "+77012345678" }),
    });
    if (!response.ok) throw new Error(`verdict answered ${response.status}: ${await response.text()}`);
  }
}

/** Polls `read` every 200 ms until it answers true; fails, naming `what`, after STEP_TIMEOUT_MS. */
async function eventually(what: string, read: () => Promise<boolean>): Promise<void> {
  for (const started = Date.now(); Date.now() - started < STEP_TIMEOUT_MS; await new Promise((resolve) => setTimeout(resolve, 200))) if (await read()) return;
  throw new Error(`timed out waiting for ${what}`);
}

/** Recent verdicts are written after the responses (write-behind): the preview counts them once they are in. */
async function recentVerdictsKept(baseUrl: string): Promise<number> {
  const response = await fetch(`${baseUrl}/v1/admin/verdicts?limit=1000`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
  return ((await response.json()) as { verdicts: unknown[] }).verdicts.length;
}

/** Fails unless each selector's element is shown (true) or not (false). */
async function expectVisible(page: Page, expected: Record<string, boolean>): Promise<void> {
  for (const [selector, visible] of Object.entries(expected)) {
    if ((await page.isVisible(selector)) !== visible) throw new Error(`${selector} is ${visible ? "hidden" : "shown"}; expected it ${visible ? "shown" : "hidden"}`);
  }
}

async function exerciseDashboard(browser: BrowserContext, baseUrl: string): Promise<void> {
  const page = await browser.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  const pageErrors: string[] = [];
  page.on("pageerror", (error) => pageErrors.push(error.message));
  page.on("console", (message) => message.type() === "error" && pageErrors.push(message.text()));

  await page.goto(`${baseUrl}/dashboard`);
  // Logged out: the login form, and neither the navigation nor "Log out".
  await expectVisible(page, { "#login-form": true, "#nav": false, "#logout": false });
  // Not behind Cloudflare Access, the page's probe for an Access sign-in (GET /v1/stats without a
  // token, src/dashboard/assets/dashboard.js) is answered 401, which Chromium logs: that one is expected.
  const isProbe401 = (error: string) => error.includes("status of 401");
  for (let waited = 0; waited < 5_000 && !pageErrors.some(isProbe401); waited += 100) await page.waitForTimeout(100);
  const probe = pageErrors.findIndex(isProbe401);
  if (probe >= 0) pageErrors.splice(probe, 1);
  await page.fill("#token", ADMIN_TOKEN);
  await page.click('#login-form button[type="submit"]');
  await page.waitForSelector("#logout", { state: "visible" });
  await expectVisible(page, { "#login-form": false, "#nav": true });

  // The chart: uPlot draws on a canvas, and its legend shows each action's series.
  await page.waitForSelector("#verdicts-chart canvas");
  // A string, run in the page: the Node typecheck has the Workers' globals (tsconfig.node.json), not the DOM's.
  await page.waitForFunction(`/^[1-9]\\d* verdicts$/.test(document.querySelector("#overview-total")?.textContent ?? "")`);
  const legend = await page.textContent("#verdicts-chart .u-legend");
  for (const series of ["blocked", "allowed", "would have blocked"]) if (!legend?.includes(series)) throw new Error(`chart legend lacks '${series}': ${legend}`);
  await page.waitForSelector("#top-blocked li >> text=+77272501234");
  await page.screenshot({ path: path.join(ARTIFACTS, "dashboard-overview.png"), fullPage: true });

  // A rule in monitor mode, previewed before it is saved: it matches the three seeded calls, one of them allowed.
  await eventually("the seeded verdicts among the recent verdicts", async () => (await recentVerdictsKept(baseUrl)) === SEEDED_CALLS.length);
  await page.click('nav a[href="#rules"]');
  await page.fill('#rule-form input[name="cli"]', "+7727250123");
  await page.selectOption('#rule-form select[name="match"]', "prefix");
  await page.selectOption('#rule-form select[name="mode"]', "monitor");
  await page.fill('#rule-form input[name="reason"]', "bank impersonation, e2e report");
  await page.click("#rule-preview-button");
  await page.waitForSelector("#rule-preview", { state: "visible" });
  const preview = { window: await page.textContent("#preview-window"), matched: await page.textContent("#preview-matched"), allowed: await page.textContent("#preview-allowed"), sample: await page.locator("#preview-sample tbody tr").count() };
  if (JSON.stringify(preview) !== JSON.stringify({ window: "3", matched: "3", allowed: "1", sample: 3 })) throw new Error(`the preview shows ${JSON.stringify(preview)}; expected 3 verdicts, 3 matched, 1 otherwise allowed, 3 listed`);
  await page.screenshot({ path: path.join(ARTIFACTS, "dashboard-rule-preview.png"), fullPage: true });
  await page.click('#rule-form button[type="submit"]');
  const row = page.locator("#rules-table tbody tr", { hasText: "cli starts +7727250123" });
  await row.waitFor();
  if ((await row.locator("td.mode").textContent()) !== "monitor") throw new Error(`the new rule's mode shows ${await row.locator("td.mode").textContent()}`);
  // A call it matches once saved is one monitored hit in the last 24 hours (statistics are written after the response too).
  await postVerdicts(baseUrl, [{ from: "+77272501237", ingress: DOMESTIC }]);
  await eventually("the rule's monitored hit", async () => {
    await page.dispatchEvent("#rule-search", "input");
    await page.waitForTimeout(300);
    return (await row.locator("td.hits.day").textContent()) === "0 / 1";
  });
  await page.screenshot({ path: path.join(ARTIFACTS, "dashboard-rules.png"), fullPage: true });

  // The recent verdicts show the name each call presented, struck through where the callee was not shown it.
  await page.click('nav a[href="#verdicts"]');
  await page.click('#verdict-filter button[type="submit"]');
  const names = page.locator("#verdicts-table td.caller-name");
  await names.first().waitFor();
  const shown = await names.evaluateAll((cells) => cells.map((cell) => `${cell.textContent} ${cell.classList.contains("removed") ? "removed" : "shown"}`).sort());
  if (JSON.stringify(shown) !== JSON.stringify(["Almaty Office shown", "Halyk Bank removed"])) throw new Error(`the recent verdicts show the names ${JSON.stringify(shown)}`);
  await page.screenshot({ path: path.join(ARTIFACTS, "dashboard-verdicts.png"), fullPage: true });

  await page.click("#logout");
  await page.waitForSelector("#login-form", { state: "visible" });
  await expectVisible(page, { "#nav": false, "#logout": false, "#rules": false });

  if (pageErrors.length > 0) throw new Error(`the page reported errors:\n${pageErrors.join("\n")}`);
}

async function main(): Promise<number> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const state = mkdtempSync(path.join(tmpdir(), "shaken-edge-e2e-"));
  const profile = mkdtempSync(path.join(tmpdir(), "shaken-edge-chromium-"));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;

  // As `npm run dev` does (scripts/dev.ts), but on a free port with state in a fresh directory.
  const migrations = spawnSync("npx", ["wrangler", "d1", "migrations", "apply", "DB", "--local", "--persist-to", state], { stdio: "inherit", env: wranglerEnv });
  if (migrations.status !== 0) return 1;
  const worker = spawn(
    "npx",
    [
      "wrangler", "dev", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", state, "--show-interactive-dev-session=false",
      "--var", `SBC_API_KEYS_SHA256:${sha256Hex(SBC_KEY)}`,
      "--var", `ADMIN_TOKENS_SHA256:${sha256Hex(ADMIN_TOKEN)}`,
    ],
    { stdio: ["ignore", "inherit", "inherit"], env: wranglerEnv, detached: true },
  );
  let browser: BrowserContext | undefined;
  try {
    await waitForHealth(baseUrl, worker, "wrangler dev");
    await postVerdicts(baseUrl, SEEDED_CALLS);
    // A fresh profile directory (Chromium's --user-data-dir, which Playwright takes as the first argument).
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 1000 },
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    await exerciseDashboard(browser, baseUrl);
    console.log(`PASSED: dashboard logged in, charted the verdicts, previewed a rule in monitor mode (3 matched, 1 otherwise allowed), listed it with its hit, showed the recent verdicts' display names (one struck through). Screenshots: ${ARTIFACTS}/dashboard-overview.png, dashboard-rule-preview.png, dashboard-rules.png, dashboard-verdicts.png`);
    return 0;
  } catch (error) {
    console.error(`FAILED: ${error instanceof Error ? error.stack : String(error)}`);
    return 1;
  } finally {
    await browser?.close();
    // wrangler dev runs workerd as a child: stop the whole process group it leads.
    if (worker.pid !== undefined && worker.exitCode === null) process.kill(-worker.pid, "SIGTERM");
    rmSync(profile, { recursive: true, force: true });
    rmSync(state, { recursive: true, force: true });
  }
}

process.exit(await main());
