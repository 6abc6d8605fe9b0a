import * as z from "zod";
import { dialledNumberSchema } from "../numbering/number-pattern";
import type { DiallingPlan } from "../numbers/telephone-number";

/**
 * A fraud report (issue 4 "Fraud reports"): a subscriber's complaint, or a National Bank anti-fraud
 * centre report, about a call that presented someone else's number. Kazakh rules in force since
 * 18 Nov 2025 require operators to examine each within two working days (spec digest §2).
 */
export interface FraudReport {
  id: string;
  victim: string;
  presentedCli: string;
  callTime: number;
  channel: string;
  /** Free text for analysts (possibly a victim's details): kept here, never copied into a rule or sent in SIP. */
  notes: string | null;
  /** Who reported it, by the client's account; the audit log names the operator who filed it. */
  reporter: string;
  createdAt: number;
}

/** Reports about calls further ahead than this are clock mistakes, not fraud. */
const FUTURE_TOLERANCE_MS = 5 * 60_000;

/** Numbers are read as the verdict reads a caller ID, with the home plan, and kept in canonical form. */
export const fraudReportInputSchema = (nowMs: number, plan: DiallingPlan) =>
  z
    .object({
      victim: dialledNumberSchema(plan),
      presentedCli: dialledNumberSchema(plan),
      time: z.iso.datetime({ offset: true }).transform((iso) => Date.parse(iso)),
      channel: z.string().trim().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, "expected a short lowercase name, e.g. call-centre, app, national-bank"),
      notes: z.string().trim().max(4000).optional(),
      reporter: z.string().trim().min(1).max(128).optional(),
    })
    .strict()
    .refine((input) => input.time <= nowMs + FUTURE_TOLERANCE_MS, { path: ["time"], message: "the reported call cannot be in the future" });
export type FraudReportInput = z.infer<ReturnType<typeof fraudReportInputSchema>>;

export const presentReport = (report: FraudReport) => ({ ...report, callTime: new Date(report.callTime).toISOString(), createdAt: new Date(report.createdAt).toISOString() });
