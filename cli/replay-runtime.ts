import { readdir, readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import * as z from "zod";
import { PresentationLedger } from "../src/abuse/presentation-ledger";
import type { ReplayStore } from "../src/abuse/replay";
import { VelocityTracker, type VelocityStore } from "../src/abuse/velocity";
import { SlidingCounts } from "../src/abuse/velocity-window";
import { staticCertificateSource, type CertificateSource } from "../src/certificate/certificate-source";
import type { TrustSource } from "../src/certificate/trust-store";
import type { VerifierConfig } from "../src/config";
import type { NormalizedCall } from "../src/call/call";
import type { Clock } from "../src/lib/clock";
import { numberPatternSchema } from "../src/numbering/number-pattern";
import type { OriginDeps } from "../src/origin/assess";
import { CONFIG_SECTION_SCHEMAS, CONFIG_SECTIONS, defaultOperatorConfig, isConfigSection, type OperatorConfig } from "../src/origin/config/sections";
import type { RoamingAnswer } from "../src/origin/roaming/lookup";
import { TABLE_SOURCE, tableAnswer } from "../src/origin/roaming/table-lookup";
import { compileOriginSnapshot, type SnapshotCache } from "../src/origin/snapshot";
import { matchRules, ruleSetOf } from "../src/rules/matcher";
import type { Rule } from "../src/rules/rule";
import { timeWindowSchema } from "../src/rules/time-window";
import { verifierOptionsFrom, type Runtime } from "../src/runtime";
import { Deadline } from "../src/verdict/deadline";
import { evaluateCall, type Evaluation } from "../src/verdict/evaluate";
import { sipLabelSchema } from "../src/verdict/sip-label";
import { ACTIONS, ENFORCEMENT_MODES } from "../src/verdict/verdict";
import { CliInputError } from "./command";

/**
 * The Worker's verdict pipeline run in Node over recorded calls (`calls replay`, issue 20 "What-if
 * replay"): the same normalisation, `evaluateCall`, snapshot compile, rule matcher, replay ledger and
 * velocity counters, with the stores in memory and the configuration from a `config export` file.
 * Nothing of the evaluation is written again here; only where the Worker reads D1, KV, Durable
 * Objects or the network, this reads the export, a directory, or memory.
 */

/** The configuration `config export` writes; every part may be left out (the defaults of a fresh deployment). */
export interface ConfigurationExport {
  config: Partial<Record<string, unknown>>;
  rules: unknown[];
  roaming: { tn: string; status: string; visitedCountry: string | null; observedAt: string | null }[];
}

/** A rule as the admin API shows it (presentRule): numbers as E.164 digits after `+`, instants as ISO strings. */
const instantOrNull = z.iso.datetime({ offset: true }).transform((iso) => Date.parse(iso)).nullable();
const exportedRuleSchema = z.object({
  id: z.string().min(1),
  criteria: z
    .object({ cli: numberPatternSchema.optional(), destination: numberPatternSchema.optional(), carrier: z.string().optional(), trunk: z.string().optional(), name: z.string().optional(), timeWindow: timeWindowSchema.optional() })
    .strict(),
  action: z.enum(ACTIONS),
  mode: z.enum(ENFORCEMENT_MODES).default("enforce"),
  reason: z.string().default(""),
  label: sipLabelSchema.nullable().default(null),
  author: z.string().default("unknown"),
  expiresAt: instantOrNull.default(null),
  reportId: z.string().nullable().default(null),
  version: z.number().int().default(1),
  createdAt: instantOrNull.default(null),
  updatedAt: instantOrNull.default(null),
  // Whether the deployment enforces it (src/rules/store.ts): an export from before rules were published is all in force.
  published: z.boolean().default(true),
});

const roamingEntrySchema = z.object({
  tn: z.string().regex(/^[0-9]{1,15}$/, "expected the canonical number (digits)"),
  status: z.enum(["roaming", "home", "not-mobile"]),
  visitedCountry: z.string().regex(/^[A-Z]{2}$/).nullable().optional(),
  observedAt: z.string().nullable().optional(),
});

const exportSchema = z
  .object({
    config: z.record(z.string(), z.unknown()).default({}),
    rules: z.array(z.unknown()).default([]),
    roaming: z.array(roamingEntrySchema).default([]),
  })
  .strict();

/** What the replay judges with: the compiled configuration and rules, and the roaming table by number. */
export interface ReplayConfiguration {
  config: OperatorConfig;
  rules: Rule[];
  /** The exported rules an unfinished import left unpublished, which `rules` leaves out unless asked to keep them. */
  unpublished: number;
  roaming: Map<string, RoamingAnswer>;
}

const issueText = (error: z.ZodError, where: string) => {
  const issue = error.issues[0]!;
  const path = [where, ...issue.path.map(String)].filter(Boolean).join(".");
  return `${path}: ${issue.message}`;
};

/**
 * Reads a configuration export; each section is validated with the schema the admin API writes it
 * with, each rule as the API shows it. The first problem is named by its path (`config.policy.…`,
 * `rules.3.criteria.cli`) and stops the run: a replay on a configuration half read would mislead.
 * A rule the deployment has not published (an unfinished import) is enforced by none of its isolates,
 * so the replay leaves it out too, unless `withUnpublished` asks what publishing it would do.
 */
export function readConfigurationExport(value: unknown, homeCountry: string, { withUnpublished = false }: { withUnpublished?: boolean } = {}): ReplayConfiguration {
  const parsed = exportSchema.safeParse(value ?? {});
  if (!parsed.success) throw new CliInputError(`--config: ${issueText(parsed.error, "")}`);
  const config = defaultOperatorConfig(homeCountry);
  for (const [section, document] of Object.entries(parsed.data.config)) {
    if (!isConfigSection(section)) throw new CliInputError(`--config: config.${section}: no such section; the sections are ${CONFIG_SECTIONS.join(", ")}`);
    const read = CONFIG_SECTION_SCHEMAS[section].safeParse(document);
    if (!read.success) throw new CliInputError(`--config: ${issueText(read.error, `config.${section}`)}`);
    Object.assign(config, { [section]: read.data });
  }
  const read = parsed.data.rules.map((rule, index) => {
    const exported = exportedRuleSchema.safeParse(rule);
    if (!exported.success) throw new CliInputError(`--config: ${issueText(exported.error, `rules.${index}`)}`);
    const { published, ...fields } = exported.data;
    return { published, rule: { ...fields, createdAt: fields.createdAt ?? 0, updatedAt: fields.updatedAt ?? 0 } satisfies Rule };
  });
  const rules = read.filter(({ published }) => published || withUnpublished).map(({ rule }) => rule);
  const unpublished = read.filter(({ published }) => !published).length;
  const roaming = new Map(
    parsed.data.roaming.map((entry): [string, RoamingAnswer] => [
      entry.tn,
      { status: entry.status, ...(entry.visitedCountry ? { visitedCountry: entry.visitedCountry } : {}), observedAt: entry.observedAt ? Date.parse(entry.observedAt) : null, source: TABLE_SOURCE },
    ]),
  );
  return { config, rules, unpublished, roaming };
}

/**
 * Certificates for x5u read from a directory laid out as `repo serve` serves one: the chain of
 * `https://host/path/name.pem` is the file `name.pem`. An x5u with no file there fails as a fetch that
 * failed does on /v1/verdict (X5U_FETCH_FAILED): the replay never reaches the network.
 */
export async function directoryCertificateSource(dir: string | undefined): Promise<CertificateSource> {
  const chains = new Map<string, string>();
  if (dir !== undefined) {
    let names: string[];
    try {
      names = (await readdir(dir)).filter((name) => name.endsWith(".pem"));
    } catch (error) {
      throw new CliInputError(`${dir}: the certificate directory cannot be read (--certs): ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    for (const name of names) chains.set(name, await readFile(join(dir, name), "utf8"));
  }
  return staticCertificateSource((url) => chains.get(basename(new URL(url).pathname)));
}

/** A clock the replay sets to each call's time before judging it. */
class SettableClock implements Clock {
  private atMs = 0;
  set(atMs: number): void {
    this.atMs = atMs;
  }
  now(): number {
    return this.atMs;
  }
}

/**
 * The replay waits on nothing remote, yet the pipeline holds every wait to a deadline: one long enough
 * that a busy machine never turns an in-memory answer into a dependency timeout.
 */
const REPLAY_DEADLINE_MS = 60_000;

/** The most calls judged before their velocity observations are counted (a deployment's write-behind batch is 3 000). */
const VELOCITY_BATCH_CALLS = 1_000;

/** Work a Worker would hand to waitUntil: here it settles on its own (the velocity writes are also awaited by `settle`). */
const ignoreBackground = (work: Promise<unknown>) => void work.catch(() => {});

export interface ReplayerOptions {
  verifierConfig: VerifierConfig;
  homeCountry: string;
  configuration: ReplayConfiguration;
  trust: TrustSource;
  certificates: CertificateSource;
}

/**
 * Judges calls one after another, each at the instant given. The replay ledger and the velocity
 * counters are those the Durable Objects hold, kept in this process.
 */
export class CallReplayer {
  private readonly clock = new SettableClock();
  private readonly runtime: Runtime;
  private readonly origin: OriginDeps;
  private pendingSecond = Number.NaN;
  private pendingCalls = 0;

  constructor(options: ReplayerOptions) {
    const { verifierConfig: config, configuration, trust, certificates } = options;
    const clock = this.clock;
    const ledger = new PresentationLedger();
    const replay: ReplayStore = { present: async (presentation) => ledger.present(presentation) };
    // One counter set per shard name, as each velocity Durable Object holds its own (and bounds its own keys).
    const shards = new Map<string, SlidingCounts>();
    const velocityStore: VelocityStore = {
      observe: async (shard, observations) => {
        let counts = shards.get(shard);
        if (!counts) shards.set(shard, (counts = new SlidingCounts()));
        return counts.observe(observations);
      },
    };
    const snapshot = compileOriginSnapshot(0, options.homeCountry, configuration.config, ruleSetOf(configuration.rules));
    const snapshots: SnapshotCache = { current: async () => snapshot, ready: () => snapshot, markStale: () => {}, last: () => snapshot };
    this.runtime = {
      config,
      clock,
      trust,
      verifier: verifierOptionsFrom(config, { clock, certificates, trust }),
      replay,
      velocity: new VelocityTracker(velocityStore, config.velocity, config.backgroundTimeoutMs),
      snapshots,
    };
    // The roaming table of the export, whatever source the deployment uses: a replay asks no CAMARA server.
    const roaming = { lookup: async (tn: string) => tableAnswer(configuration.roaming.get(tn) ?? null) };
    this.origin = {
      clock,
      snapshot: async () => snapshot,
      // Every exported rule is held whole (ruleSetOf): no keyed index to read a store for.
      operatorRules: (rules, subject) => matchRules(rules, subject, async () => []),
      roamingLookup: () => roaming,
    };
  }

  async judge(call: NormalizedCall, atMs: number, requestId: string): Promise<Evaluation> {
    // The counts are written when recorded time enters a new second (the counters count in whole
    // seconds), and at least every VELOCITY_BATCH_CALLS calls: a call is judged on every call of the
    // seconds before its own, as a deployment judges on counts a write-behind batch (250 ms) old.
    const second = Math.floor(atMs / 1000);
    if (second !== this.pendingSecond || this.pendingCalls >= VELOCITY_BATCH_CALLS) {
      await this.runtime.velocity.settle();
      this.pendingSecond = second;
      this.pendingCalls = 0;
    }
    this.pendingCalls++;
    this.clock.set(atMs);
    const deadline = new Deadline(REPLAY_DEADLINE_MS, ignoreBackground);
    return evaluateCall(call, this.runtime, { origin: this.origin, deadline, background: ignoreBackground }, requestId);
  }
}
