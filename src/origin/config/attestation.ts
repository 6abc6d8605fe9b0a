import * as z from "zod";
import { isValidServiceProviderCode } from "../../pki/profile";

/**
 * Whose `A` attestation vouches for a caller's right to a national number (checks 5–8 waived). Any
 * service provider under a trusted STI-CA may sign `A` for any number, and a leaf key of the least
 * careful of them is what a fraudster abroad holds; a national number that a foreign provider
 * attests, arriving on an international interconnect, is the spoofing checks 5–8 exist to catch. So
 * only the providers the operator lists here vouch; every other verified `A` is judged as unsigned
 * by checks 5–8 (checks 2–4 and 9 apply to every call). A provider is the service provider code
 * (ATIS-1000080 §6.4.1) that answers for the signed number: the signing certificate's, or for a
 * delegate certificate (RFC 9060) its issuing CA's.
 */
export const vouchingProviderSchema = z
  .object({
    spc: z.string().trim().refine(isValidServiceProviderCode, "expected a service provider code: upper-case letters and digits ([A-Z0-9]+, e.g. 818H)"),
    name: z.string().trim().min(1).max(128).optional(),
  })
  .strict();
export type VouchingProvider = z.infer<typeof vouchingProviderSchema>;

export const attestationConfigSchema = z
  .object({ vouching: z.array(vouchingProviderSchema).max(1_000).default([]) })
  .strict()
  .superRefine((config, ctx) => {
    const seen = new Map<string, number>();
    for (const [index, { spc }] of config.vouching.entries()) {
      const earlier = seen.get(spc);
      if (earlier !== undefined) ctx.addIssue({ code: "custom", path: ["vouching", index, "spc"], message: `${spc} is already listed by vouching.${earlier}: each provider is listed once` });
      seen.set(spc, index);
    }
  });
export type AttestationConfig = z.infer<typeof attestationConfigSchema>;
