import type { z } from "zod";
import { defaultNumberingOverrides, numberingOverridesSchema } from "../../numbering/home-plan";
import { policyOverridesSchema } from "../policy";
import { roamingSettingsSchema } from "../roaming/settings";
import { allowListSchema } from "./allow-list";
import { attestationConfigSchema } from "./attestation";
import { ingressConfigSchema } from "./ingress-config";

/**
 * The operator configuration the origin checks read, one versioned document per section
 * (migrations/0003). A section never written takes its default; for numbering that default fills
 * the metadata gaps the spec digest §2 lists for the home country.
 */
export const CONFIG_SECTION_SCHEMAS = {
  ingress: ingressConfigSchema,
  numbering: numberingOverridesSchema,
  "allow-list": allowListSchema,
  policy: policyOverridesSchema,
  roaming: roamingSettingsSchema,
  attestation: attestationConfigSchema,
} as const;
export type ConfigSection = keyof typeof CONFIG_SECTION_SCHEMAS;
export const CONFIG_SECTIONS = Object.keys(CONFIG_SECTION_SCHEMAS) as ConfigSection[];

export type OperatorConfig = { [S in ConfigSection]: z.output<(typeof CONFIG_SECTION_SCHEMAS)[S]> };

export const isConfigSection = (value: string): value is ConfigSection => Object.hasOwn(CONFIG_SECTION_SCHEMAS, value);

export function defaultSection<S extends ConfigSection>(section: S, homeCountry: string): OperatorConfig[S] {
  if (section === "numbering") return defaultNumberingOverrides(homeCountry) as OperatorConfig[S];
  return CONFIG_SECTION_SCHEMAS[section].parse({}) as OperatorConfig[S];
}

export const defaultOperatorConfig = (homeCountry: string): OperatorConfig =>
  Object.fromEntries(CONFIG_SECTIONS.map((section) => [section, defaultSection(section, homeCountry)])) as OperatorConfig;
