import { z } from "zod";

/**
 * Where roaming status comes from and how long a call may wait for it (issue 4 "Roaming lookup":
 * per-call budget default 150 ms, results cached for minutes — cli-spoofing.md §3 "cache for
 * minutes, not hours"). The CAMARA bearer token is a secret (CAMARA_TOKEN), never configuration.
 */
export const roamingSettingsSchema = z
  .object({
    source: z.enum(["table", "camara"]).default("table"),
    camaraBaseUrl: z.url({ protocol: /^https$/, error: "expected an https:// URL" }).optional(),
    budgetMs: z.number().int().min(10).max(2_000).default(150),
    cacheTtlSeconds: z.number().int().min(0).max(3_600).default(300),
  })
  .strict()
  .refine((settings) => settings.source !== "camara" || settings.camaraBaseUrl !== undefined, {
    path: ["camaraBaseUrl"],
    message: "the camara source needs camaraBaseUrl",
  });
export type RoamingSettings = z.infer<typeof roamingSettingsSchema>;
