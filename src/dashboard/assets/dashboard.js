// The shaken-edge dashboard: plain browser JavaScript over the admin API, no build step.
// Every value from the API is written with textContent (never innerHTML), so a hostile CLI or
// report note cannot inject markup.
"use strict";

const TOKEN_KEY = "shaken-edge.admin-token";
const ACTION_COLOURS = { block: "#c53030", withhold: "#b7791f", tag: "#6b46c1", allow: "#2f855a" };
const ACTION_LABELS = { block: "blocked", withhold: "withheld", tag: "tagged", allow: "allowed" };

const $ = (selector) => document.querySelector(selector);

/** Builds an element: el("td", {className: "x"}, "text", child, …). */
function el(tag, properties = {}, ...children) {
  const element = Object.assign(document.createElement(tag), properties);
  for (const child of children) if (child !== null && child !== undefined) element.append(child);
  return element;
}

class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
  }
}

// Behind Cloudflare Access no token is typed in: Access adds its signed assertion to every request.
async function api(path, options = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const response = await fetch(path, {
    ...options,
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(options.body ? { "Content-Type": "application/json" } : {}), ...options.headers },
  });
  const body = await response.json().catch(() => null);
  if (response.status === 401) {
    logOut("Your token was not accepted.");
    throw new ApiError(401, body);
  }
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

// --- Login -------------------------------------------------------------------------------------

let signedIn = false;

function showApp(loggedIn) {
  signedIn = loggedIn;
  $("#login").hidden = loggedIn;
  $("#nav").hidden = !loggedIn;
  if (loggedIn) route();
  else for (const view of document.querySelectorAll(".view")) view.hidden = true;
}

function logOut(message = "") {
  sessionStorage.removeItem(TOKEN_KEY);
  $("#login-error").textContent = message;
  showApp(false);
}

$("#login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $("#token").value.trim());
  $("#token").value = "";
  try {
    await api("/v1/stats?top=1");
    $("#login-error").textContent = "";
    showApp(true);
  } catch (error) {
    if (error.status !== 401) logOut(error.message);
  }
});
$("#logout").addEventListener("click", () => logOut());

// --- Views ----------------------------------------------------------------------------------------

const VIEWS = { overview: loadOverview, rules: loadRules, reports: loadReports, verdicts: loadVerdicts };

function route() {
  const name = location.hash.slice(1) in VIEWS ? location.hash.slice(1) : "overview";
  for (const view of document.querySelectorAll(".view")) view.hidden = view.id !== name;
  for (const link of document.querySelectorAll("#nav a")) link.classList.toggle("current", link.getAttribute("href") === `#${name}`);
  VIEWS[name]().catch(showError);
}
window.addEventListener("hashchange", () => signedIn && route());

function showError(error) {
  if (error.status === 401) return;
  const banner = el("p", { className: "error banner", role: "alert", textContent: error.message });
  document.querySelector("main").prepend(banner);
  setTimeout(() => banner.remove(), 8000);
}

/** A list of labelled bars, longest first. */
function renderBars(list, entries, { colour = "#2b6cb0", format = String } = {}) {
  list.replaceChildren();
  const max = Math.max(1, ...entries.map(([, value]) => value));
  if (entries.length === 0) list.append(el("li", { className: "empty", textContent: "nothing in this period" }));
  for (const [label, value, detail] of entries) {
    const bar = el("span", { className: "bar" });
    bar.style.width = `${(100 * value) / max}%`;
    bar.style.background = colour;
    list.append(el("li", {}, el("span", { className: "label", textContent: label }), el("span", { className: "track" }, bar), el("span", { className: "value", textContent: format(value) + (detail ? ` ${detail}` : "") })));
  }
}

// --- Overview -----------------------------------------------------------------------------------

let verdictsChart = null;

/**
 * The checks the "Certificate repository failures" panel counts: what the repository served (x5u.*)
 * and the credential in it (certificate.*), but not revocation, which is the CRLs' answer, not the
 * repository's (a skipped or failed revocation check says nothing about the repository).
 */
const isRepositoryFailure = (check) => (check.startsWith("x5u.") || check.startsWith("certificate.")) && check !== "certificate.revocation";

async function loadOverview() {
  const hours = Number($("#range").value);
  const to = new Date();
  const from = new Date(to.getTime() - hours * 3_600_000);
  const [stats, signed, repository] = await Promise.all([
    api(`/v1/stats?from=${from.toISOString()}&to=${to.toISOString()}&top=10`),
    api("/v1/admin/verdicts?signed=true&limit=1000&fields=summary"),
    api("/v1/admin/verdicts?check=x5u.fetch&limit=5"),
  ]);
  $("#overview-total").textContent = `${stats.total} verdicts`;
  drawVerdictsChart(stats.byHour, from, to);
  renderBars($("#top-blocked"), stats.topBlockedClis.map(({ cli, count }) => [`+${cli}`, count]), { colour: ACTION_COLOURS.block });
  renderBars(
    $("#top-carriers"),
    stats.byCarrier.filter(({ spoofed }) => spoofed > 0).slice(0, 10).map(({ carrier, spoofed, spoofedShare }) => [carrier, spoofed, `(${Math.round(spoofedShare * 100)}% of its calls)`]),
    { colour: ACTION_COLOURS.withhold },
  );
  const attestation = new Map();
  for (const verdict of signed.verdicts) {
    const key = verdict.verstat === "TN-Validation-Passed" ? `${verdict.attest} (verified)` : "failed verification";
    attestation.set(key, (attestation.get(key) ?? 0) + 1);
  }
  renderBars($("#attestation"), [...attestation].sort(([a], [b]) => a.localeCompare(b)), { colour: "#2b6cb0" });
  $("#attestation-note").textContent = `Of the last ${signed.verdicts.length} signed calls.`;
  renderBars($("#repository-failures"), Object.entries(stats.byCheck).filter(([check]) => isRepositoryFailure(check)).sort(([, a], [, b]) => b - a), { colour: ACTION_COLOURS.block });
  $("#repository-recent").replaceChildren(
    ...repository.verdicts.map((verdict) => {
      const failure = verdict.checks.find((check) => check.id === "x5u.fetch" && check.result === "fail");
      return el("li", { textContent: `${verdict.at.slice(0, 19).replace("T", " ")} ${failure?.detail ?? ""}` });
    }),
  );
}
$("#range").addEventListener("change", () => loadOverview().catch(showError));

/** What monitored rules and policy entries would have done, drawn beside what was done. */
const WOULD_HAVE = ["block", "withhold", "tag"];

/**
 * Verdicts per hour by action, one series per action, hours without verdicts drawn as zero; and, dashed,
 * one "would have" series per action that monitored rules and policy entries would have taken (issue 20).
 * A day past the hourly retention comes as one entry (`hours: 24`) and is drawn as its mean per hour.
 */
function drawVerdictsChart(byHour, from, to) {
  const hourKey = (t) => new Date(t).toISOString().slice(0, 13);
  const counts = new Map();
  for (const { hour, hours = 1, byAction = {}, byMonitoredAction = {} } of byHour) {
    const perHour = (byKey) => Object.fromEntries(Object.entries(byKey).map(([action, count]) => [action, count / hours]));
    const period = { done: perHour(byAction), wouldHave: perHour(byMonitoredAction) };
    for (let offset = 0; offset < hours; offset++) counts.set(hourKey(Date.parse(`${hour}:00:00Z`) + offset * 3_600_000), period);
  }
  const hours = [];
  for (let t = Math.floor(from.getTime() / 3_600_000) * 3_600_000; t <= to.getTime(); t += 3_600_000) hours.push(t);
  const actions = ["block", "withhold", "tag", "allow"];
  const data = [
    hours.map((t) => t / 1000),
    ...actions.map((action) => hours.map((t) => counts.get(hourKey(t))?.done[action] ?? 0)),
    ...WOULD_HAVE.map((action) => hours.map((t) => counts.get(hourKey(t))?.wouldHave[action] ?? 0)),
  ];
  const container = $("#verdicts-chart");
  const options = {
    width: Math.max(320, container.clientWidth || 900),
    height: 260,
    series: [
      {},
      ...actions.map((action) => ({ label: ACTION_LABELS[action], stroke: ACTION_COLOURS[action], fill: `${ACTION_COLOURS[action]}22`, width: 2, points: { show: false } })),
      ...WOULD_HAVE.map((action) => ({ label: `would have ${ACTION_LABELS[action]}`, stroke: ACTION_COLOURS[action], dash: [6, 4], width: 2, points: { show: false } })),
    ],
    axes: [{}, { label: "verdicts / hour", size: 60 }],
    scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
  };
  verdictsChart?.destroy();
  verdictsChart = new uPlot(options, data, container);
}

// --- Rules ----------------------------------------------------------------------------------------

function describeCriteria(criteria) {
  const parts = [];
  for (const [field, range] of Object.entries(criteria)) {
    if (field === "cli" || field === "destination") {
      // The API shows numbers in international form, with their '+'.
      if (range.exact) parts.push(`${field} = ${range.exact}`);
      if (range.prefix) parts.push(`${field} starts ${range.prefix}`);
      if (range.from) parts.push(`${field} ${range.from}…${range.to}`);
    } else if (field === "timeWindow") parts.push(`${range.start}–${range.end}`);
    else parts.push(`${field} = ${range}`);
  }
  return parts.join(", ");
}

/** A rule's hits over a period, enforced / monitored. */
const hitsText = (hits, period) => (hits ? `${hits.enforced[period]} / ${hits.monitored[period]}` : "—");

/**
 * What the rule search box asks the API for: the digits, behind the + when one was typed. Digits alone
 * are read in the home plan, so +81 3 1234 5678 (Tokyo) would be searched as the national 8 131 234 5678.
 */
const ruleSearchOf = (typed) => (typed.trim().startsWith("+") ? "+" : "") + typed.replace(/[^0-9]/g, "");

/** A rule's mode, and that it is not published (an import's rows before its publishing batch): then no isolate enforces it. */
const ruleModeText = (rule) => (rule.published === false ? `${rule.mode}, not published` : rule.mode);

async function loadRules() {
  const search = ruleSearchOf($("#rule-search").value);
  const query = new URLSearchParams({ limit: "200" });
  if (search) query.set("cli", search);
  if ($("#rule-active").checked) query.set("active", "true");
  const { rules } = await api(`/v1/admin/rules?${query}`);
  const hits = new Map();
  if (rules.length > 0) for (const counts of (await api(`/v1/stats/rules?ids=${rules.map((rule) => rule.id).join(",")}`)).rules) hits.set(counts.id, counts);
  const now = Date.now();
  $("#rules-table tbody").replaceChildren(
    ...rules.map((rule) => {
      const expired = rule.expiresAt !== null && Date.parse(rule.expiresAt) <= now;
      const expire = expired ? el("span", { className: "muted", textContent: "expired" }) : el("button", { type: "button", textContent: "Expire" });
      if (!expired) expire.addEventListener("click", () => expireRule(rule).catch(showError));
      return el(
        "tr",
        { className: expired || rule.published === false ? "muted" : "" },
        el("td", { textContent: describeCriteria(rule.criteria) }),
        el("td", {}, el("span", { className: `action ${rule.action}`, textContent: rule.action })),
        el("td", { className: `mode ${rule.mode}`, textContent: ruleModeText(rule) }),
        el("td", { className: "hits day", textContent: hitsText(hits.get(rule.id), "day") }),
        el("td", { className: "hits week", textContent: hitsText(hits.get(rule.id), "week") }),
        el("td", { textContent: rule.reason }),
        el("td", { textContent: rule.author }),
        el("td", { textContent: rule.expiresAt ? rule.expiresAt.slice(0, 16).replace("T", " ") : "never" }),
        el("td", {}, expire),
      );
    }),
  );
  if (rules.length === 0) $("#rules-table tbody").append(el("tr", {}, el("td", { colSpan: 9, className: "empty", textContent: "no rules" })));
}

async function expireRule(rule) {
  await api(`/v1/admin/rules/${rule.id}/expire`, { method: "POST", body: JSON.stringify({ version: rule.version }) });
  await loadRules();
}

/** The rule the "Add a rule" form describes, as POST /v1/admin/rules and its preview take it. */
function ruleFromForm(form) {
  const fields = new FormData(form);
  // As typed: the API reads a number with + as international, one without in the home plan.
  // Stripping the + made +81312345678 (Tokyo) the national 8 131 234 5678 (+7 131 234 5678).
  const cli = String(fields.get("cli") ?? "").trim();
  // A phrase of the caller's display name, alone or beside the number; the API says when neither is given.
  const name = String(fields.get("name") ?? "").trim();
  const criteria = {};
  if (cli) criteria.cli = { [fields.get("match")]: cli };
  if (name) criteria.name = name;
  const rule = { criteria, action: fields.get("action"), mode: fields.get("mode"), reason: String(fields.get("reason")) };
  if (fields.get("label")) rule.label = String(fields.get("label"));
  if (fields.get("expiresAt")) rule.expiresAt = new Date(String(fields.get("expiresAt"))).toISOString();
  return rule;
}

const shortTime = (iso) => iso.slice(0, 19).replace("T", " ");

/** What the rule would have matched among the recent verdicts (POST /v1/admin/rules/preview), shown before it is saved. */
async function previewRule() {
  const form = $("#rule-form");
  if (!form.reportValidity()) return;
  try {
    const preview = await api("/v1/admin/rules/preview", { method: "POST", body: JSON.stringify(ruleFromForm(form)) });
    $("#rule-error").textContent = "";
    $("#preview-window").textContent = String(preview.window.verdicts);
    $("#preview-period").textContent = preview.window.from ? `${shortTime(preview.window.from)} to ${shortTime(preview.window.to)} UTC` : "none kept yet";
    $("#preview-matched").textContent = String(preview.matched);
    $("#preview-allowed").textContent = String(preview.otherwiseAllowed);
    $("#preview-sample tbody").replaceChildren(
      ...preview.sample.map((verdict) =>
        el(
          "tr",
          {},
          el("td", { textContent: shortTime(verdict.at) }),
          el("td", { textContent: verdict.cli ? `+${verdict.cli}` : "—" }),
          el("td", {}, el("span", { className: `action ${verdict.action}`, textContent: verdict.action })),
          el("td", {}, el("code", { textContent: verdict.requestId })),
        ),
      ),
    );
    $("#preview-sample").hidden = preview.sample.length === 0;
    $("#rule-preview").hidden = false;
  } catch (error) {
    $("#rule-error").textContent = error.message;
  }
}

$("#rule-search").addEventListener("input", () => loadRules().catch(showError));
$("#rule-active").addEventListener("change", () => loadRules().catch(showError));
$("#rule-preview-button").addEventListener("click", () => previewRule());
// A preview describes the form as it was: a change hides it until it is asked for again.
$("#rule-form").addEventListener("input", () => ($("#rule-preview").hidden = true));
$("#rule-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    await api("/v1/admin/rules", { method: "POST", body: JSON.stringify(ruleFromForm(event.target)) });
    $("#rule-error").textContent = "";
    event.target.reset();
    $("#rule-preview").hidden = true;
    await loadRules();
  } catch (error) {
    $("#rule-error").textContent = error.message;
  }
});

// --- Fraud reports --------------------------------------------------------------------------------

async function loadReports() {
  const { reports } = await api("/v1/reports?limit=200");
  $("#reports-table tbody").replaceChildren(
    ...reports.map((report) => {
      const block = el("button", { type: "button", textContent: "Block this CLI" });
      block.addEventListener("click", async () => {
        try {
          // A second click (or a retry after a lost answer) gets the same rule back, not a second one.
          await api(`/v1/reports/${report.id}/rules`, { method: "POST", body: "{}", headers: { "Idempotency-Key": `dashboard-report-rule-${report.id}` } });
          block.replaceWith(el("span", { className: "muted", textContent: "rule added" }));
        } catch (error) {
          showError(error);
        }
      });
      return el(
        "tr",
        {},
        el("td", { textContent: report.createdAt.slice(0, 16).replace("T", " ") }),
        el("td", { textContent: `+${report.presentedCli}` }),
        el("td", { textContent: `+${report.victim}` }),
        el("td", { textContent: report.callTime.slice(0, 16).replace("T", " ") }),
        el("td", { textContent: report.channel }),
        el("td", { textContent: report.notes ?? "" }),
        el("td", {}, block),
      );
    }),
  );
  if (reports.length === 0) $("#reports-table tbody").append(el("tr", {}, el("td", { colSpan: 7, className: "empty", textContent: "no reports" })));
}

// --- Recent verdicts ------------------------------------------------------------------------------

/**
 * A calling peer's text as the analyst must read it: each control or bidirectional formatting character
 * (src/lib/printable.ts) as its `\u` escape, so that "\u202eknaB kylaH" is not shown as "Halyk Bank".
 */
const escapedText = (text) => text.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`);

/**
 * The display name the call presented (the peer's text: shown escaped, isolated from the row's
 * direction), struck through when the verdict removed it from what the callee saw.
 */
function callerNameCell(callerName) {
  if (!callerName) return el("td", { className: "muted", textContent: "—" });
  const removed = callerName.presentation !== "shown";
  return el("td", { className: removed ? "caller-name removed" : "caller-name", title: removed ? `removed: ${callerName.reason ?? "the callee was not shown it"}` : "shown to the callee", textContent: escapedText(callerName.presented) });
}

async function loadVerdicts() {
  const form = new FormData($("#verdict-filter"));
  const query = new URLSearchParams({ limit: "200" });
  for (const [name, value] of form) if (String(value).trim()) query.set(name, String(value).trim());
  const { verdicts, next } = await api(`/v1/admin/verdicts?${query}`);
  const body = $("#verdicts-table tbody");
  body.replaceChildren();
  for (const verdict of verdicts) {
    const row = el(
      "tr",
      { className: "expandable", title: "Show the checks and their evidence" },
      el("td", { textContent: verdict.at.slice(0, 19).replace("T", " ") }),
      el("td", { textContent: verdict.cli ? `+${verdict.cli}` : "—" }),
      callerNameCell(verdict.callerName),
      el("td", { textContent: verdict.destination ? `+${verdict.destination}` : "—" }),
      el("td", { textContent: verdict.carrier }),
      el("td", {}, el("span", { className: `action ${verdict.action}`, textContent: verdict.action })),
      el("td", { textContent: verdict.verstat }),
      el("td", { textContent: verdict.decidedBy ?? "" }),
      el("td", { textContent: String(Math.round(verdict.elapsedMs)) }),
    );
    const evidence = el(
      "tr",
      { className: "evidence", hidden: true },
      el(
        "td",
        { colSpan: 9 },
        el("ul", {}, ...verdict.checks.map((check) => el("li", { className: check.result }, el("code", { textContent: `${check.result} ${check.id}` }), ` ${check.detail ?? ""}`, check.evidence ? el("pre", { textContent: escapedText(JSON.stringify(check.evidence, null, 2)) }) : null))),
      ),
    );
    row.addEventListener("click", () => (evidence.hidden = !evidence.hidden));
    body.append(row, evidence);
  }
  if (verdicts.length === 0) body.append(el("tr", {}, el("td", { colSpan: 9, className: "empty", textContent: "no verdicts match" })));
  // The API lists at most 4 MiB of verdicts per response; `next` says it stopped short of the limit.
  if (next !== undefined) body.append(el("tr", {}, el("td", { colSpan: 9, className: "empty", textContent: `more verdicts match than one response holds (older than seq ${next}): narrow the filter` })));
}
$("#verdict-filter").addEventListener("submit", (event) => {
  event.preventDefault();
  loadVerdicts().catch(showError);
});

// A token from this tab, or a Cloudflare Access sign-in (the API answers without a token).
if (sessionStorage.getItem(TOKEN_KEY) !== null) showApp(true);
else fetch("/v1/stats?top=1").then((response) => showApp(response.ok), () => showApp(false));
