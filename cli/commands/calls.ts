import { stat } from "node:fs/promises";
import { callFromJson, RequestFieldError } from "../../src/call/normalize";
import { ConfigError, readVerifierConfig, type VerifierConfig } from "../../src/config";
import { UnknownCountryError } from "../../src/numbers/telephone-number";
import { DEFAULT_HOME_COUNTRY } from "../../src/origin/deps";
import { UNKNOWN_CARRIER } from "../../src/stats/record";
import type { Evaluation } from "../../src/verdict/evaluate";
import { readCallRecords, recordFormatOf } from "../call-records";
import { booleanOption, CliInputError, listOption, PROGRESS_OPTION, requiredOption, stringOption, type CliCommand, type CommandContext } from "../command";
import { parseInputFile } from "../files";
import { CallReplayer, directoryCertificateSource, readConfigurationExport } from "../replay-runtime";
import { directoryTrustSource } from "./passport";

/**
 * `shaken-edge calls replay`: what the policy would have done with recorded calls (issue 20, "What-if
 * replay"), judged by the Worker's own pipeline (cli/replay-runtime.ts), offline.
 */

const TIME_EXPECTED = "expected an ISO 8601 instant with an offset (2026-11-27T10:15:00+05:00) or epoch seconds";
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
/** Epoch seconds, up to 11 digits: 13 digits would be milliseconds, the usual slip, refused rather than read as year 50 000. */
const EPOCH_SECONDS = /^\d{1,11}(\.\d{1,3})?$/;

/** A record's `time` in epoch ms; undefined when it gives none; a string saying what is wrong otherwise. */
export function instantOf(value: unknown): number | undefined | { problem: string } {
  if (value === undefined || value === null || value === "") return undefined;
  const text = typeof value === "number" ? String(value) : value;
  if (typeof text === "string") {
    if (EPOCH_SECONDS.test(text)) return Math.round(Number(text) * 1000);
    const ms = ISO_INSTANT.test(text) ? Date.parse(text) : Number.NaN;
    if (!Number.isNaN(ms)) return ms;
  }
  return { problem: `time ${JSON.stringify(value).slice(0, 40)}: ${TIME_EXPECTED}` };
}

/** The Worker's settings (HOME_COUNTRY, POLICY_MODE, FRESHNESS_SECONDS, VELOCITY_*, …) read from the environment, with the Worker's defaults. */
function workerSettings(environment: Record<string, string | undefined>): { config: VerifierConfig; homeCountry: string } {
  try {
    return { config: readVerifierConfig(environment), homeCountry: environment.HOME_COUNTRY?.trim().toUpperCase() || DEFAULT_HOME_COUNTRY };
  } catch (error) {
    if (error instanceof ConfigError || error instanceof UnknownCountryError) throw new CliInputError(`environment: ${error.message}`);
    throw error;
  }
}

/** What a replay counts; `calls` are the lines judged, `invalid` the lines that could not be. */
export interface ReplaySummary {
  calls: number;
  invalid: number;
  /** Calls whose time is earlier than a call before them in the file (velocity is counted in file order). */
  outOfOrder: number;
  byAction: Record<string, number>;
  byMonitoredAction: Record<string, number>;
  byDecidedBy: Record<string, number>;
  byCarrier: Record<string, Record<string, number>>;
  /** Of the calls whose From has a display name, how many the callee would be shown it (`shown`) and how many not (`removed`): what CALLER_NAMES would do. */
  byCallerName: Record<string, number>;
}

const NOT_DECIDED = "none";
const increment = (counts: Record<string, number>, key: string) => (counts[key] = (counts[key] ?? 0) + 1);

/** One judged call as `--json` prints it. */
const verdictLine = (line: number, { verdict, callerName }: Evaluation) => ({
  line,
  action: verdict.action,
  verstat: verdict.verstat,
  decidedBy: verdict.decidedBy,
  failed: verdict.checks.filter((check) => check.result === "fail").map((check) => check.id),
  monitored: verdict.monitored ?? [],
  ...(callerName ? { callerName } : {}),
});

function summaryTable(summary: ReplaySummary): string {
  const rows = (title: string, counts: Record<string, number>) => {
    const entries = Object.entries(counts).sort(([, a], [, b]) => b - a);
    if (entries.length === 0) return [];
    const width = Math.max(...entries.map(([key]) => key.length));
    return [title, ...entries.map(([key, count]) => `  ${key.padEnd(width)}  ${String(count).padStart(8)}`)];
  };
  const carriers = Object.entries(summary.byCarrier).map(([carrier, actions]) => `  ${carrier}: ${Object.entries(actions).map(([action, count]) => `${action} ${count}`).join(", ")}`);
  return [
    `calls ${summary.calls}, invalid lines ${summary.invalid}${summary.outOfOrder > 0 ? `, out of time order ${summary.outOfOrder} (velocity counted in file order)` : ""}`,
    ...rows("by action", summary.byAction),
    ...rows("would have (monitored)", summary.byMonitoredAction),
    ...rows("decided by", summary.byDecidedBy),
    ...rows("display names (CALLER_NAMES)", summary.byCallerName),
    ...(carriers.length > 0 ? ["by carrier", ...carriers] : []),
  ].join("\n");
}

async function replayerFrom(context: CommandContext, { config: verifierConfig, homeCountry }: ReturnType<typeof workerSettings>): Promise<CallReplayer> {
  const configPath = stringOption(context, "config");
  const exported = configPath ? await parseInputFile(configPath, (text) => JSON.parse(text) as unknown) : {};
  const withUnpublished = booleanOption(context, "unpublished");
  const configuration = readConfigurationExport(exported, homeCountry, { withUnpublished });
  if (configuration.unpublished > 0) {
    const judged = withUnpublished ? "judged with them too (--unpublished)" : "enforced by none of its isolates, so left out here too (--unpublished judges with them)";
    context.warn(`${configuration.unpublished} rule(s) in --config are not published (an unfinished import): ${judged}`);
  }
  return new CallReplayer({
    verifierConfig,
    homeCountry,
    configuration,
    trust: await directoryTrustSource(stringOption(context, "trust-dir"), listOption(context, "crl")),
    certificates: await directoryCertificateSource(stringOption(context, "certs")),
  });
}

/** The command, with the environment it reads the Worker's settings from (tests give their own). */
export function callsReplayCommand(environment: Record<string, string | undefined> = process.env): CliCommand {
  return {
    name: "calls replay",
    summary: "Replay recorded calls through the policy, rules and checks offline: what would have been done",
    options: {
      input: { type: "string", valueName: "file", description: "calls: CSV (time,from,to,trunk,carrier,international,identity) or JSON Lines of /v1/verdict calls plus time (required)" },
      format: { type: "string", valueName: "csv|jsonl", description: "the input's format (default: from its extension)" },
      config: { type: "string", valueName: "file", description: "the configuration `config export` wrote (default: a fresh deployment's)" },
      unpublished: { type: "boolean", description: "judge with the rules an unfinished import left unpublished too, as the deployment will once they are published" },
      at: { type: "string", valueName: "instant", description: "judge every call at this instant (ISO 8601 or epoch seconds) instead of its own time" },
      "trust-dir": { type: "string", valueName: "dir", description: "trust anchors for signed calls (default: none)" },
      crl: { type: "string", valueName: "file", description: "CRL file(s)", multiple: true },
      certs: { type: "string", valueName: "dir", description: "x5u chains, by file name as `repo serve` serves them; none is fetched" },
      progress: PROGRESS_OPTION,
    },
    async run(context) {
      const input = requiredOption(context, "input");
      const format = recordFormatOf(input, stringOption(context, "format"));
      const atOption = stringOption(context, "at");
      const at = atOption === undefined ? undefined : instantOf(atOption);
      if (typeof at === "object") throw new CliInputError(`--at: ${at.problem}`);
      const json = booleanOption(context, "json");
      const settings = workerSettings(environment);
      const replayer = await replayerFrom(context, settings);
      const { plan } = settings.config;
      const summary: ReplaySummary = { calls: 0, invalid: 0, outOfOrder: 0, byAction: {}, byMonitoredAction: {}, byDecidedBy: {}, byCarrier: {}, byCallerName: {} };
      const size = (await stat(input).catch(() => null))?.size ?? 0;
      let latestMs = Number.NEGATIVE_INFINITY;
      let pending: string[] = [];
      const flush = async () => {
        if (pending.length === 0) return;
        const text = pending.join("\n");
        pending = [];
        await context.write(text);
      };
      const invalid = (line: number, problem: string) => {
        summary.invalid++;
        if (json) pending.push(JSON.stringify({ line, invalid: problem }));
        else context.warn(`line ${line}: ${problem}`);
      };
      for await (const record of readCallRecords(input, format)) {
        // Written a thousand lines at a time, bad lines included: the output is never held whole either.
        if (pending.length >= 1_000) await flush();
        if ("problem" in record) {
          invalid(record.line, record.problem);
          continue;
        }
        const own = instantOf(record.time);
        if (typeof own === "object") {
          invalid(record.line, own.problem);
          continue;
        }
        let call;
        try {
          call = callFromJson(record.body, plan);
        } catch (error) {
          if (!(error instanceof RequestFieldError)) throw error;
          invalid(record.line, error.message);
          continue;
        }
        const atMs = at ?? own ?? Date.now();
        if (atMs < latestMs) summary.outOfOrder++;
        latestMs = Math.max(latestMs, atMs);
        const evaluation = await replayer.judge(call, atMs, `replay-line-${record.line}`);
        const { verdict, origin } = evaluation;
        summary.calls++;
        increment(summary.byAction, verdict.action);
        for (const monitored of verdict.monitored ?? []) increment(summary.byMonitoredAction, monitored.action);
        increment(summary.byDecidedBy, verdict.decidedBy ?? NOT_DECIDED);
        increment((summary.byCarrier[origin.ingress.carrierName ?? origin.ingress.carrier ?? UNKNOWN_CARRIER] ??= {}), verdict.action);
        if (evaluation.callerName) increment(summary.byCallerName, evaluation.callerName.presentation);
        if (json) pending.push(JSON.stringify(verdictLine(record.line, evaluation)));
        if ((summary.calls & 0x3ff) === 0) context.progress(Math.min(record.read, size), size, `replayed ${summary.calls} calls; characters read`);
      }
      context.progress(size, size, `replayed ${summary.calls} calls; characters read`);
      if (summary.outOfOrder > 0) context.warn(`${summary.outOfOrder} calls are earlier than a call before them: velocity is counted in file order, so sort the file by time for the counts a deployment would have seen`);
      if (json) {
        pending.push(JSON.stringify({ summary }));
        await flush();
        return { json: { summary }, text: "", streamed: true };
      }
      return { json: { summary }, text: summaryTable(summary) };
    },
  };
}

export const commands = [callsReplayCommand()];
