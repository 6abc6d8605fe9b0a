import type { CertificateRole, LintProfile, LintRule } from "./rule";
import { CONSTRAINT_RULES } from "./rules/constraints";
import { EXTENSION_RULES } from "./rules/extensions";
import { FIELD_RULES } from "./rules/fields";
import { NAME_RULES } from "./rules/names";
import { PATH_RULES } from "./rules/path";
import { TN_AUTH_LIST_RULES } from "./rules/tn-auth-list";

/** Every rule, in the order findings are reported: certificate fields, names, constraints, extensions, TNAuthList, path. */
export const LINT_RULES: readonly LintRule[] = [...FIELD_RULES, ...NAME_RULES, ...CONSTRAINT_RULES, ...EXTENSION_RULES, ...TN_AUTH_LIST_RULES, ...PATH_RULES];

const selections = new Map<string, readonly LintRule[]>();

/** The rules a certificate in `role` is held to under `profile` (us-cp adds its rules to ATIS-1000080's). */
export function rulesFor(profile: LintProfile, role: CertificateRole): readonly LintRule[] {
  const key = `${profile}:${role}`;
  let rules = selections.get(key);
  if (!rules) {
    rules = LINT_RULES.filter((rule) => rule.roles.includes(role) && (rule.profile === "atis" || rule.profile === profile));
    selections.set(key, rules);
  }
  return rules;
}
