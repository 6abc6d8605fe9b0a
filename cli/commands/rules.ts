import { CliInputError, PROGRESS_OPTION, booleanOption, requiredOption, requiredPositional, stringOption, type CliCommand, type CommandContext, type OptionSpec } from "../command";
import { readInputFile } from "../files";

/**
 * `shaken-edge rules add|list|expire|import`: the analysts' blocking rules, through the admin API of a
 * running instance (issue 4 "Operator rules"). The server validates; its field errors are shown as is.
 */
export const ADMIN_API_OPTIONS: Record<string, OptionSpec> = {
  url: { type: "string", description: "base URL of the shaken-edge instance", valueName: "url", default: "http://127.0.0.1:8787" },
  token: { type: "string", description: "admin bearer token (default: $SHAKEN_EDGE_ADMIN_TOKEN)", valueName: "token" },
};

/**
 * Calls the admin API; a non-2xx answer becomes a CliInputError carrying the server's message and the
 * field errors it does not already spell out (a validation message names each field: printed once).
 */
export async function callAdminApi(context: CommandContext, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<unknown> {
  const base = (stringOption(context, "url") ?? "http://127.0.0.1:8787").replace(/\/+$/, "");
  const token = stringOption(context, "token") ?? process.env.SHAKEN_EDGE_ADMIN_TOKEN;
  if (!token) throw new CliInputError("an admin token is required: --token or SHAKEN_EDGE_ADMIN_TOKEN");
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body !== undefined ? { "Content-Type": "application/json" } : {}), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new CliInputError(`cannot reach ${base}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const payload: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const error = (payload as { error?: { code?: string; message?: string; fields?: Record<string, string> } } | null)?.error;
    const message = error?.message ?? "";
    const fields = Object.entries(error?.fields ?? {})
      .filter(([field, problem]) => !message.includes(`${field}: ${problem}`))
      .map(([field, problem]) => `\n  ${field}: ${problem}`)
      .join("");
    throw new CliInputError(`${method} ${path}: HTTP ${response.status} ${error?.code ?? ""} ${message}${fields}`.trim());
  }
  return payload;
}

interface RuleView {
  id: string;
  action: string;
  reason: string;
  author: string;
  expiresAt: string | null;
  criteria: Record<string, unknown>;
  /** Absent from a deployment older than publishing, and from a rule just written (published by its write). */
  published?: boolean;
}

/** A rule on one line; one an unfinished import left unpublished says so first, as no isolate enforces it. */
const describeRule = (rule: RuleView) =>
  `${rule.id}  ${rule.action.padEnd(8)} ${rule.published === false ? "NOT PUBLISHED " : ""}${JSON.stringify(rule.criteria)}  expires ${rule.expiresAt ?? "never"}  by ${rule.author}: ${rule.reason}`;

const DURATION = /^(\d+)([mhd])$/;
const DURATION_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

function criteriaFrom(context: CommandContext): Record<string, unknown> {
  const number = (exact: string, prefix: string, from: string, to: string) => {
    const given = [stringOption(context, exact), stringOption(context, prefix), stringOption(context, from) ?? stringOption(context, to)].filter((value) => value !== undefined);
    if (given.length > 1) throw new CliInputError(`give only one of --${exact}, --${prefix}, --${from}/--${to}`);
    if (stringOption(context, exact)) return { exact: stringOption(context, exact) };
    if (stringOption(context, prefix)) return { prefix: stringOption(context, prefix) };
    if (stringOption(context, from) || stringOption(context, to)) return { from: stringOption(context, from), to: stringOption(context, to) };
    return undefined;
  };
  const windowStart = stringOption(context, "window-start");
  const windowEnd = stringOption(context, "window-end");
  return Object.fromEntries(
    Object.entries({
      cli: number("cli", "cli-prefix", "cli-from", "cli-to"),
      destination: number("destination", "destination-prefix", "destination-from", "destination-to"),
      carrier: stringOption(context, "carrier"),
      trunk: stringOption(context, "trunk"),
      name: stringOption(context, "name"),
      timeWindow: windowStart || windowEnd ? { start: windowStart, end: windowEnd } : undefined,
    }).filter(([, value]) => value !== undefined),
  );
}

function expiryFrom(context: CommandContext): string | undefined {
  const expires = stringOption(context, "expires");
  const ttl = stringOption(context, "ttl");
  if (expires && ttl) throw new CliInputError("give --expires or --ttl, not both");
  if (!ttl) return expires;
  const match = DURATION.exec(ttl);
  if (!match) throw new CliInputError("--ttl must look like 30m, 12h or 7d");
  return new Date(Date.now() + Number(match[1]) * DURATION_MS[match[2] as keyof typeof DURATION_MS]).toISOString();
}

const text = (description: string, valueName = "value"): OptionSpec => ({ type: "string", description, valueName });

const add: CliCommand = {
  name: "rules add",
  summary: "Add a blocking rule (every given criterion must hold)",
  options: {
    cli: text("caller ID, exactly", "tn"),
    "cli-prefix": text("caller IDs under this prefix", "digits"),
    "cli-from": text("caller ID range start (with --cli-to)", "tn"),
    "cli-to": text("caller ID range end", "tn"),
    destination: text("called number, exactly", "tn"),
    "destination-prefix": text("called numbers under this prefix", "digits"),
    "destination-from": text("called number range start", "tn"),
    "destination-to": text("called number range end", "tn"),
    carrier: text("ingress carrier", "name"),
    trunk: text("ingress trunk", "id"),
    name: text("a phrase of the caller's display name (case, look-alike letters and punctuation ignored)", "phrase"),
    "window-start": text("daily window start, local time (UTC+5 unless the API is told otherwise)", "HH:MM"),
    "window-end": text("daily window end", "HH:MM"),
    action: { type: "string", description: "allow | tag | withhold | block", valueName: "action", default: "block" },
    reason: text("why (shown in the Reason header and the audit log)", "text"),
    label: text("label for tag", "text"),
    expires: text("expiry instant (ISO 8601)", "instant"),
    ttl: text("expiry from now: 30m, 12h, 7d", "duration"),
    author: text("who adds it (audit log)", "name"),
    report: text("linked fraud report id", "id"),
    ...ADMIN_API_OPTIONS,
  },
  async run(context) {
    const body = {
      criteria: criteriaFrom(context),
      action: stringOption(context, "action") ?? "block",
      reason: requiredOption(context, "reason"),
      ...(stringOption(context, "label") ? { label: stringOption(context, "label") } : {}),
      ...(expiryFrom(context) ? { expiresAt: expiryFrom(context) } : {}),
      ...(stringOption(context, "author") ? { author: stringOption(context, "author") } : {}),
      ...(stringOption(context, "report") ? { reportId: stringOption(context, "report") } : {}),
    };
    const { rule } = (await callAdminApi(context, "POST", "/v1/admin/rules", body)) as { rule: RuleView };
    return { text: `added ${describeRule(rule)}`, json: rule };
  },
};

const list: CliCommand = {
  name: "rules list",
  summary: "List blocking rules, newest first",
  options: {
    active: { type: "boolean", description: "only rules not yet expired" },
    cli: text("only rules whose CLI criterion mentions these digits", "digits"),
    limit: text("at most this many", "n"),
    unpublished: { type: "boolean", description: "only the rules an unfinished import left unpublished (enforced nowhere until published)" },
    ...ADMIN_API_OPTIONS,
  },
  async run(context) {
    const query = new URLSearchParams();
    if (booleanOption(context, "active")) query.set("active", "true");
    if (booleanOption(context, "unpublished")) query.set("published", "false");
    if (stringOption(context, "cli")) query.set("cli", stringOption(context, "cli")!);
    if (stringOption(context, "limit")) query.set("limit", stringOption(context, "limit")!);
    const { rules } = (await callAdminApi(context, "GET", `/v1/admin/rules?${query}`)) as { rules: RuleView[] };
    return { text: rules.length ? rules.map(describeRule).join("\n") : "no rules", json: rules };
  },
};

const expire: CliCommand = {
  name: "rules expire",
  summary: "Expire a blocking rule now (it stays in the audit log)",
  positionals: "<rule-id>",
  options: { author: text("who expires it (audit log)", "name"), ...ADMIN_API_OPTIONS },
  async run(context) {
    const id = requiredPositional(context, 0, "<rule-id>");
    const author = stringOption(context, "author");
    const { rule } = (await callAdminApi(context, "POST", `/v1/admin/rules/${encodeURIComponent(id)}/expire`, author ? { author } : {})) as { rule: RuleView };
    return { text: `expired ${describeRule(rule)}`, json: rule };
  },
};

/** One rule per line: the body `POST /v1/admin/rules` takes. Blank lines are skipped. */
async function readRuleLines(file: string): Promise<{ line: number; rule: Record<string, unknown> }[]> {
  const text = await readInputFile(file);
  return text.split("\n").flatMap((raw, index) => {
    if (raw.trim() === "") return [];
    let rule: unknown;
    try {
      rule = JSON.parse(raw);
    } catch {
      throw new CliInputError(`${file}:${index + 1}: not JSON; each line must be one rule object as for POST /v1/admin/rules`);
    }
    if (typeof rule !== "object" || rule === null || Array.isArray(rule)) throw new CliInputError(`${file}:${index + 1}: must be a JSON object (one rule)`);
    return [{ line: index + 1, rule: rule as Record<string, unknown> }];
  });
}

/** Rules per import request: well inside the admin API's 1 MiB body and its 1 000-rule batch. */
const IMPORT_BATCH_RULES = 500;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The first rule of a batch the server names as invalid (`rules.<index>.<field>`). */
const REJECTED_RULE = /\brules\.(\d+)\b/;

const importRules: CliCommand = {
  name: "rules import",
  summary: "Add many rules from a JSON Lines file (one POST /v1/admin/rules body per line), in order, in batches",
  positionals: "<file.jsonl>",
  options: {
    author: text("author for rules that name none (audit log)", "name"),
    skip: text("skip the first n rules (to resume after a rejected one)", "n"),
    "import-id": text("resume this import (printed when one stops): rules it already wrote are not written again", "uuid"),
    progress: PROGRESS_OPTION,
    ...ADMIN_API_OPTIONS,
  },
  async run(context) {
    const file = requiredPositional(context, 0, "<file.jsonl>");
    const skip = Number(stringOption(context, "skip") ?? "0");
    if (!Number.isSafeInteger(skip) || skip < 0) throw new CliInputError("--skip must be a whole number");
    const importId = stringOption(context, "import-id") ?? crypto.randomUUID();
    if (!UUID.test(importId)) throw new CliInputError("--import-id must be the UUID a stopped import printed");
    const author = stringOption(context, "author");
    // Every line is read and parsed before the first request, so a typo late in the file adds nothing.
    const pending = (await readRuleLines(file)).slice(skip);
    const ids: string[] = [];
    // Each batch is written whole or not at all, and only the last one publishes: isolates compile the
    // import once, when it is complete (issue 22 item 7). Positions name the rules, so a batch sent again,
    // or a resumed import with the same --import-id, writes nothing twice.
    for (let start = 0; start < pending.length; start += IMPORT_BATCH_RULES) {
      const batch = pending.slice(start, start + IMPORT_BATCH_RULES);
      const publish = start + IMPORT_BATCH_RULES >= pending.length;
      const request = { importId, first: skip + start, rules: batch.map(({ rule }) => rule), publish, ...(author ? { author } : {}) };
      try {
        const outcome = (await callAdminApi(context, "POST", "/v1/admin/rules/import", request)) as { ids: string[] };
        for (const id of outcome.ids) ids.push(id);
      } catch (error) {
        if (!(error instanceof CliInputError)) throw error;
        // What earlier batches wrote is put in force (best effort: the failure may be the server's own).
        if (ids.length > 0) await callAdminApi(context, "POST", "/v1/admin/rules/import", { importId, first: skip + start, rules: [], publish: true }).catch(() => {});
        const rejected = REJECTED_RULE.exec(error.message);
        const line = batch[rejected ? Number(rejected[1]) : 0]?.line ?? batch[0]!.line;
        throw new CliInputError(
          `${file}:${line}: not imported: ${error.message}\n${skip + ids.length} rule(s) imported before its batch of ${batch.length}; ` +
            `once the cause is fixed, resume with --skip ${skip + ids.length} --import-id ${importId} (a rule already written is not written again)`,
        );
      }
      context.progress(ids.length, pending.length, "imported");
    }
    return { text: `imported ${ids.length} rule(s) from ${file}`, json: { imported: ids.length, skipped: skip, importId, ids } };
  },
};

export const commands: CliCommand[] = [add, list, expire, importRules];
