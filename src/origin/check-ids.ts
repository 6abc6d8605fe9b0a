/**
 * Stable ids of the origin-consistency checks, numbered as in cli-spoofing.md §3 and issue 4.
 * Verdicts, statistics, the policy table and analysts' tooling all key on these strings.
 */
export const ORIGIN_CHECK_IDS = {
  ingress: "origin.ingress",
  format: "cli.format", // 1
  allocated: "cli.allocated", // 2
  type: "cli.type", // 3
  doNotOriginate: "cli.dno", // 4
  nationalOnInternational: "origin.national-on-international", // 5
  roaming: "origin.roaming", // 6
  ownNumberOffNet: "origin.own-number-off-net", // 7
  authorisedUse: "origin.authorised-use", // 8
  operatorRules: "rules.operator", // 9
} as const;
