import * as z from "zod";

/**
 * The operator's map of interconnects (issue 4 "Inputs"): which trunks and carriers are
 * international or domestic, whose they are, and which are our own network (on-net). An ingress
 * the map does not know falls back to what the SBC declared, or to the configured default.
 */
const name = z.string().trim().min(1).max(128);

export const interconnectSchema = z
  .object({
    trunk: name.optional(),
    carrier: name.optional(),
    kind: z.enum(["international", "domestic"]),
    carrierName: name,
    /** ISO 3166 alpha-2 of the carrier's side of the interconnect. */
    country: z.string().regex(/^[A-Z]{2}$/, "expected an ISO 3166 alpha-2 code").nullable().default(null),
    /** Our own core network: own subscribers legitimately arrive here (check 7). */
    onNet: z.boolean().default(false),
  })
  .strict()
  .refine((entry) => entry.trunk !== undefined || entry.carrier !== undefined, { message: "give a trunk, a carrier, or both" });
export type Interconnect = z.infer<typeof interconnectSchema>;

export const ingressConfigSchema = z
  .object({
    interconnects: z.array(interconnectSchema).max(10_000).default([]),
    unknownIngress: z
      .object({
        /** Treatment when neither the map nor the SBC says; international is the safe side (checks 5 and 6 run). */
        kind: z.enum(["international", "domestic"]).default("international"),
        /** Use the SBC's `international` flag for an ingress the map does not know. */
        trustDeclared: z.boolean().default(true),
      })
      .strict()
      .default({ kind: "international", trustDeclared: true }),
  })
  .strict();
export type IngressConfig = z.infer<typeof ingressConfigSchema>;
