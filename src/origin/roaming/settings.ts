import * as z from "zod";
import { hostMatches, nonPublicHost } from "../../certificate/x5u-policy";

/**
 * Where roaming status comes from and how long a call may wait for it (issue 4 "Roaming lookup":
 * per-call budget default 150 ms, results cached for minutes — cli-spoofing.md §3 "cache for
 * minutes, not hours"). The CAMARA bearer token is a secret (CAMARA_TOKEN), never configuration.
 */
export const roamingSettingsSchema = z
  .object({
    source: z.enum(["table", "camara"]).default("table"),
    // The CAMARA token goes wherever this points: a public https server, no credentials in the URL.
    camaraBaseUrl: z
      .url({ protocol: /^https$/, error: "expected an https:// URL" })
      .superRefine((value, ctx) => {
        const url = new URL(value);
        const problem = url.username !== "" || url.password !== "" ? "must not carry userinfo" : nonPublicHost(url);
        if (problem) ctx.addIssue({ code: "custom", message: `camaraBaseUrl ${problem}: the CAMARA token is sent there` });
      })
      .optional(),
    budgetMs: z.number().int().min(10).max(2_000).default(150),
    cacheTtlSeconds: z.number().int().min(0).max(3_600).default(300),
    /** A roaming answer observed longer ago than this at the call's instant is unknown (check 6 asks "right now"); null: any age. */
    maxObservationAgeSeconds: z.number().int().min(1).max(7 * 86_400).nullable().optional(),
    /** The home country's mobile country codes (ITU-T E.212): a subscriber roaming on one is in the home country. Absent: HOME_MCCS. */
    homeMccs: z.array(z.string().regex(/^[0-9]{3}$/, "expected a 3-digit mobile country code (MCC), e.g. \"401\"")).max(20).optional(),
  })
  .strict()
  .refine((settings) => settings.source !== "camara" || settings.camaraBaseUrl !== undefined, {
    path: ["camaraBaseUrl"],
    message: "the camara source needs camaraBaseUrl",
  });
export type RoamingSettings = z.infer<typeof roamingSettingsSchema>;

/**
 * MCCs by home country, for the homeMccs default: Kazakhstan has 401 alone (ITU-T E.212 list).
 * Kept here rather than a package: the MCC lists on npm carry every network (~900 kB) to give one number.
 */
const HOME_MCCS: Record<string, readonly string[]> = { KZ: ["401"] };

/** What the isolate cache keeps answers under: one CAMARA server's are never served once the settings name another. */
export const roamingCacheScope = (settings: RoamingSettings): string => (settings.source === "camara" ? `camara ${settings.camaraBaseUrl}` : settings.source);

/** The observation age limit in ms, or null when the operator set none. */
export const maxObservationAgeMsOf = (settings: RoamingSettings): number | null => (settings.maxObservationAgeSeconds == null ? null : settings.maxObservationAgeSeconds * 1000);

/** The MCCs that mean "in the home country" for check 6. */
export const homeMccsOf = (settings: RoamingSettings, homeCountry: string): readonly string[] => settings.homeMccs ?? HOME_MCCS[homeCountry] ?? [];

export interface CamaraEnv {
  /** Comma-separated hosts the CAMARA token may be sent to; `.example.net` admits subdomains. */
  CAMARA_ALLOWED_HOSTS?: string;
}

/** The deploy-time list of CAMARA hosts: operator configuration in D1 chooses among them, never beyond. */
export const camaraAllowedHosts = (env: CamaraEnv): string[] =>
  (env.CAMARA_ALLOWED_HOSTS ?? "").split(",").map((host) => host.trim()).filter(Boolean);

/**
 * Why the camara source may not be used with these settings, or null (issue 22 item 11): the bearer
 * token goes to camaraBaseUrl, and an admin token alone must not be able to point it anywhere.
 */
export function camaraHostRefusal(settings: RoamingSettings, allowedHosts: readonly string[]): string | null {
  if (settings.source !== "camara" || settings.camaraBaseUrl === undefined) return null;
  if (allowedHosts.length === 0) return "the camara source is refused: CAMARA_ALLOWED_HOSTS is not set in this deployment";
  const host = new URL(settings.camaraBaseUrl).hostname;
  return allowedHosts.some((allowed) => hostMatches(host, allowed)) ? null : `host ${host} is not in CAMARA_ALLOWED_HOSTS (${allowedHosts.join(", ")})`;
}
