import { booleanOption, CliInputError, stringOption, type CliCommand, type CommandContext } from "../command";
import { writeOutputFiles } from "../files";
import type { ConfigurationExport } from "../replay-runtime";
import { ADMIN_API_OPTIONS, callAdminApi } from "./rules";

/**
 * `shaken-edge config export`: a deployment's operator configuration, rules and roaming table in one
 * file, read through its admin API — what `calls replay --config` judges with (issue 20).
 */

/** The admin API's largest page (pagingQuery). */
const PAGE = 1_000;

async function exportRules(context: CommandContext): Promise<unknown[]> {
  // Paged by the API's cursor, newest first: a rule added or deleted meanwhile moves no other rule from its page.
  const rules: unknown[] = [];
  for (let after: string | null = null; ; ) {
    const query: string = after === null ? "" : `&after=${encodeURIComponent(after)}`;
    const page = (await callAdminApi(context, "GET", `/v1/admin/rules?limit=${PAGE}${query}`)) as { rules: unknown[]; next?: string | null };
    rules.push(...page.rules);
    context.progress(rules.length, rules.length + (page.next ? PAGE : 0), "rules read");
    // A deployment older than the cursor answers without `next`: it cannot be paged exactly, so it is refused rather than read short.
    if (page.next === undefined) throw new CliInputError("GET /v1/admin/rules: the deployment gives no `next` cursor; upgrade it to export its rules");
    if (page.next === null) return rules;
    after = page.next;
  }
}

async function exportRoaming(context: CommandContext): Promise<ConfigurationExport["roaming"]> {
  const entries: ConfigurationExport["roaming"] = [];
  for (let after = ""; ; ) {
    const page = (await callAdminApi(context, "GET", `/v1/admin/roaming?limit=${PAGE}&after=${after}`)) as { entries: { tn: string; status: string; visitedCountry?: string; observedAt: number }[]; next: string | null };
    // When each entry was observed: a replay with roaming.maxObservationAgeSeconds judges its age as check 6 does.
    for (const { tn, status, visitedCountry, observedAt } of page.entries) entries.push({ tn, status, visitedCountry: visitedCountry ?? null, observedAt: new Date(observedAt).toISOString() });
    if (page.next === null) return entries;
    after = page.next;
  }
}

const configExport: CliCommand = {
  name: "config export",
  summary: "Write a deployment's configuration sections, rules and roaming table as one JSON file (for calls replay --config)",
  options: {
    out: { type: "string", valueName: "file", description: "write here instead of stdout" },
    force: { type: "boolean", description: "replace --out if it exists" },
    ...ADMIN_API_OPTIONS,
  },
  async run(context) {
    const { sections } = (await callAdminApi(context, "GET", "/v1/admin/config")) as { sections: Record<string, { document: unknown }> };
    const exported: ConfigurationExport = {
      config: Object.fromEntries(Object.entries(sections).map(([section, { document }]) => [section, document])),
      rules: await exportRules(context),
      roaming: await exportRoaming(context),
    };
    const text = JSON.stringify(exported, null, 2);
    const out = stringOption(context, "out");
    if (out === undefined) return { json: exported, text };
    await writeOutputFiles([{ path: out, content: `${text}\n` }], { force: booleanOption(context, "force") });
    const counts = { sections: Object.keys(exported.config).length, rules: exported.rules.length, roaming: exported.roaming.length };
    return { json: { out, ...counts }, text: `wrote ${out}: ${counts.sections} configuration sections, ${counts.rules} rules, ${counts.roaming} roaming entries` };
  },
};

export const commands = [configExport];
