import { calledNumbers, callFromInvite } from "../../src/call/normalize";
import { parseInvite } from "../../src/sip/invite";
import { verifyCall } from "../../src/verification/verify-call";
import { printableLines, requiredPositional, type CliCommand } from "../command";
import { parseInputFile } from "../files";
import { checkLines, optionHints, VERIFY_OPTIONS, verifierFrom } from "./passport";

/** The STIR part of a call, all `invite verify` judges, does not depend on where the call came in. */
const NO_INGRESS = { trunk: null, carrier: null, international: null };

/**
 * `invite verify`: a captured INVITE judged as `/v1/verdict` judges its STIR part — the SIP read by
 * the same parser, the calling number from P-Asserted-Identity else From, the called number from the
 * Request-URI else To, the Date header, and every Identity header verified (div before shaken).
 */
const inviteVerify: CliCommand = {
  name: "invite verify",
  summary: "Verify the Identity headers of a captured SIP INVITE against its own numbers and Date",
  positionals: "<invite-file>",
  options: VERIFY_OPTIONS,
  async run(context) {
    const file = requiredPositional(context, 0, "INVITE file");
    const { config, options } = await verifierFrom(context);
    // A message the SIP parser refuses is bad input (exit 2), named with the file.
    const call = await parseInputFile(file, (text) => callFromInvite(parseInvite(text), NO_INGRESS, config.plan));
    const numbers = { orig: call.cli?.tn ?? null, dest: calledNumbers(call), date: call.date };
    const verification = await verifyCall(call.identity, numbers, options);
    const identities = verification.identities.map(({ passport: _decoded, ...identity }) => identity);
    const describe = (label: string, party: { raw: string; tn: string | null } | null) => `${label}: ${party ? `${party.raw}${party.tn ? ` → ${party.tn}` : " (no telephone number)"}` : "(none)"}`;
    const text = printableLines([
      describe(`calling number (${call.cliSource ?? "none"})`, call.cli),
      `called numbers: ${numbers.dest.join(", ") || "(none)"}`,
      `Date: ${call.date ?? "(none)"}`,
      ...checkLines(verification.checks),
      ...identities.flatMap((identity, index) => [`Identity header ${index + 1} (${identity.ppt ?? "unreadable"}):`, ...checkLines(identity.checks).map((line) => `  ${line}`)]),
      verification.failure
        ? `${verification.verstat}: ${verification.failure.reasonCode} ${verification.failure.reasonText} (${verification.failure.reasondesc})`
        : `${verification.verstat}${verification.attest ? `, attestation ${verification.attest}` : ""}`,
      ...optionHints([...verification.checks, ...identities.flatMap((identity) => identity.checks)], context, options.x5u),
    ]);
    return {
      json: { call: { cli: call.cli, cliSource: call.cliSource, called: numbers.dest, date: call.date }, ...verification, identities },
      text,
      exitCode: verification.verstat === "TN-Validation-Passed" ? 0 : 1,
    };
  },
};

export const commands = [inviteVerify];
