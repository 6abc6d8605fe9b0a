import * as z from "zod";
import { numberPatternSchema } from "../../numbering/number-pattern";

/**
 * Authorised-use allow-list (cli-spoofing.md §3 check 8): enterprise and cloud breakouts that
 * legitimately present national CLIs from abroad (UK 2025 guidance, Belgian "special interface",
 * BNetzA Vfg. 44/2022). An entry binds a customer's CLI range to the trunk it arrives on.
 */
export const allowListEntrySchema = z
  .object({
    customer: z.string().trim().min(1).max(128),
    cli: numberPatternSchema,
    trunk: z.string().trim().min(1).max(128),
  })
  .strict();
export type AllowListEntry = z.infer<typeof allowListEntrySchema>;

export const allowListSchema = z.object({ entries: z.array(allowListEntrySchema).max(10_000).default([]) }).strict();
export type AllowList = z.infer<typeof allowListSchema>;
