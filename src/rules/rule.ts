import * as z from "zod";
import { dialledNumberPatternSchema, type NumberPattern } from "../numbering/number-pattern";
import type { DiallingPlan } from "../numbers/telephone-number";
import { sipLabelSchema } from "../verdict/sip-label";
import { ACTIONS, ENFORCEMENT_MODES, type Action, type EnforcementMode } from "../verdict/verdict";
import { MAX_PHRASE_CHARS, MIN_PHRASE_KEY_CHARS, namePhraseKey } from "./name-phrase";
import { timeWindowSchema, type TimeWindow } from "./time-window";

/**
 * An operator blocking rule (cli-spoofing.md §3 check 9, Kazakhtelecom practice): what analysts add
 * after subscriber reports. Every given criterion must hold for the rule to match.
 */
export interface RuleCriteria {
  cli?: NumberPattern;
  destination?: NumberPattern;
  /** Ingress carrier as the SBC names it, or the carrier name the operator's ingress map gives. */
  carrier?: string;
  trunk?: string;
  /** A phrase the caller's display name contains, as src/rules/name-phrase.ts reads both; kept as the analyst wrote it. */
  name?: string;
  timeWindow?: TimeWindow;
}

export interface Rule {
  id: string;
  criteria: RuleCriteria;
  action: Action;
  /** Monitor: the rule matches and is counted, and the verdict lists it under `monitored`, but its action is not enforced. */
  mode: EnforcementMode;
  /** Why, for analysts: the audit log, the dashboard, the verdict's evidence; never sent in SIP. */
  reason: string;
  /** What SIP may carry: the label of a tag, the Reason text of a block (src/verdict/sip-label.ts). */
  label: string | null;
  /** The authenticated operator who created it. */
  author: string;
  /** Epoch ms at which the rule stops matching; null = until removed. */
  expiresAt: number | null;
  reportId: string | null;
  version: number;
  createdAt: number;
  updatedAt: number;
}

const identifier = z.string().trim().min(1).max(128);

/** A rule's id: a UUID (random, or derived from an import's id and position). */
export const RULE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A display-name phrase: one that keeps too few letters or digits once read would match most names. */
const namePhraseSchema = z
  .string()
  .trim()
  .min(1)
  .max(MAX_PHRASE_CHARS)
  .refine((phrase) => namePhraseKey(phrase).length >= MIN_PHRASE_KEY_CHARS, {
    message: `a name phrase needs at least ${MIN_PHRASE_KEY_CHARS} letters or digits (case, look-alike characters and punctuation are ignored)`,
  });

/** Numbers are read as the verdict reads a caller ID, with the home plan, and kept in canonical form. */
const criteriaSchema = (plan: DiallingPlan) =>
  z
    .object({
      cli: dialledNumberPatternSchema(plan).optional(),
      destination: dialledNumberPatternSchema(plan).optional(),
      carrier: identifier.optional(),
      trunk: identifier.optional(),
      name: namePhraseSchema.optional(),
      timeWindow: timeWindowSchema.optional(),
    })
    .strict()
    // A time window alone would block every caller for hours: a rule must name whom it is about.
    .refine((criteria) => criteria.cli || criteria.destination || criteria.carrier || criteria.trunk || criteria.name, {
      message: "give at least one of cli, destination, carrier, trunk, name",
    });

/** The latest expiry accepted: the end of year 9999, so every expiry has an ISO 8601 form (a rule that never expires has none). */
const LATEST_EXPIRY_MS = Date.parse("9999-12-31T23:59:59.999Z");
const INSTANT_EXPECTED = "an ISO 8601 instant with an offset (e.g. 2027-01-31T00:00:00Z) or epoch milliseconds";

/** Expiry as an ISO 8601 instant or epoch milliseconds. */
const instant = z.union(
  [
    z.iso.datetime({ offset: true }).transform((iso) => Date.parse(iso)),
    z.number().int().positive().max(LATEST_EXPIRY_MS, `expiry must be at most 9999-12-31T23:59:59.999Z (${LATEST_EXPIRY_MS} ms); leave it out for a rule that does not expire`),
  ],
  { error: `expected ${INSTANT_EXPECTED}` },
);

const buildRuleFieldsSchema = (plan: DiallingPlan) =>
  z
    .object({
      criteria: criteriaSchema(plan),
      action: z.enum(ACTIONS),
      mode: z.enum(ENFORCEMENT_MODES).optional(),
      reason: z.string().trim().min(1).max(500),
      label: sipLabelSchema.nullable().optional(),
      // The client's account of who acts; the audit log keeps it beside the authenticated operator.
      author: identifier.optional(),
      expiresAt: instant.nullable().optional(),
      reportId: identifier.nullable().optional(),
    })
    .strict();

/**
 * The fields' schemas, built once per dialling plan (plans are themselves kept per country). Built per
 * request, every rule written made some fifteen schema objects, and zod's memo of which schemas are
 * recursive (a WeakMap) kept the capacity for all of them: after 10 000 rules, a megabyte of the
 * isolate's live heap, which sets how long its full collections pause (BENCHMARKS.md "The half-rate tail").
 */
function buildFields(plan: DiallingPlan) {
  const input = buildRuleFieldsSchema(plan);
  return { input, replacement: input.extend({ version: z.number().int().positive().optional() }) };
}
const fieldsByPlan = new WeakMap<DiallingPlan, ReturnType<typeof buildFields>>();
function fieldsFor(plan: DiallingPlan) {
  let fields = fieldsByPlan.get(plan);
  if (!fields) fieldsByPlan.set(plan, (fields = buildFields(plan)));
  return fields;
}

/** Rejects an expiry already past at `nowMs` (issue 4 "Bad input"). */
const expiryInFuture = (nowMs: number) => (input: { expiresAt?: number | null }, ctx: z.RefinementCtx) => {
  if (input.expiresAt != null && input.expiresAt <= nowMs) ctx.addIssue({ code: "custom", path: ["expiresAt"], message: "expiry must be in the future" });
};

/** What a client sends to create a rule. */
export const ruleInputSchema = (nowMs: number, plan: DiallingPlan) => fieldsFor(plan).input.superRefine(expiryInFuture(nowMs));

/** What a client sends to replace a rule: the same, plus the version it read (or If-Match). */
export const ruleReplacementSchema = (nowMs: number, plan: DiallingPlan) => fieldsFor(plan).replacement.superRefine(expiryInFuture(nowMs));

export type RuleInput = z.infer<ReturnType<typeof ruleInputSchema>>;

export const isRuleActive = (rule: Pick<Rule, "expiresAt">, nowMs: number) => rule.expiresAt === null || nowMs < rule.expiresAt;

/** The furthest instant from 1970 a Date can carry (ECMA-262 §21.4.1.22). */
const MAX_DATE_MS = 8.64e15;

/**
 * A rule's expiry as an ISO string. Input is bounded to year 9999, but a row stored before that bound
 * may hold any number: past what a Date can carry, it is shown as the latest instant one can, so that
 * the rule still reads and still matches (it never expires) instead of failing every call it names.
 */
export const expiryIso = (expiresAt: number | null): string | null =>
  expiresAt === null ? null : new Date(Math.min(Math.max(expiresAt, -MAX_DATE_MS), MAX_DATE_MS)).toISOString();

/**
 * A rule's numbers as the admin API shows them: international, with `+`. They are stored as digits, and
 * digits alone read back otherwise: `81312345678` (Tokyo) is the Kazakh national `8 131…` to the rule
 * schema, and a prefix `86` may be national, so it is refused. With `+`, a rule read and sent back (an
 * edit, an import elsewhere) names the numbers it named.
 */
function presentPattern(pattern: NumberPattern): NumberPattern {
  if ("exact" in pattern) return { exact: `+${pattern.exact}` };
  if ("prefix" in pattern) return { prefix: `+${pattern.prefix}` };
  return { from: `+${pattern.from}`, to: `+${pattern.to}` };
}

/** Rule as the admin API shows it: numbers in international form, instants as ISO strings; what the store adds (a listing's `published`) kept. */
export function presentRule<R extends Rule>(rule: R) {
  const { cli, destination } = rule.criteria;
  const criteria = { ...rule.criteria, ...(cli ? { cli: presentPattern(cli) } : {}), ...(destination ? { destination: presentPattern(destination) } : {}) };
  return { ...rule, criteria, expiresAt: expiryIso(rule.expiresAt), createdAt: new Date(rule.createdAt).toISOString(), updatedAt: new Date(rule.updatedAt).toISOString() };
}
