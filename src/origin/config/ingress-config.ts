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

/**
 * The first entry that names an ingress another entry already names: the map keeps one entry per trunk,
 * and one per carrier among the entries without a trunk (src/origin/ingress.ts compileIngressMap), so
 * the later would silently replace the earlier, and a trunk the operator mapped as international could be
 * judged as domestic. Refused when written; a document stored before this check still loads as it did
 * (the later entry wins), so a deploy never turns a working configuration into a configuration outage.
 * Null when every ingress is named once.
 */
export function duplicateIngressRefusal(config: IngressConfig): { field: string; message: string } | null {
  const named = new Map<string, number>();
  for (const [index, entry] of config.interconnects.entries()) {
    const [what, name] = entry.trunk !== undefined ? ["trunk", entry.trunk] : ["carrier", entry.carrier!];
    const earlier = named.get(`${what}\u0000${name}`);
    if (earlier !== undefined) {
      return { field: `document.interconnects.${index}.${what}`, message: `${what} ${JSON.stringify(name)} is already mapped by interconnects.${earlier}: each ${what} is named once` };
    }
    named.set(`${what}\u0000${name}`, index);
  }
  return null;
}
