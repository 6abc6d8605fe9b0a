import { CallRepositories } from "../certificate/certificate-source";
import { parseIdentityHeader } from "../identity/identity-header";
import { shortened } from "../lib/strict-json";
import { telephoneNumberDigits } from "../numbers/telephone-number";
import { fail, pass, type Check } from "../verdict/check";
import type { Attestation, Verstat } from "../verdict/verdict";
import { OUTCOMES, type Outcome } from "./outcomes";
import { verifyIdentity, type CallNumbers, type IdentityResult, type VerifierOptions } from "./verify-identity";

/** More Identity headers than a forwarded call plausibly carries are not evaluated (bounded work per call). */
export const MAX_IDENTITY_HEADERS = 8;

/**
 * Repositories one call may have fetched for it (x5u not in the isolate's cache). A call carries a
 * shaken PASSporT and, retargeted, a div PASSporT per diversion (RFC 8946), each signed by whoever
 * diverted it: three covers a call diverted twice. The headers beyond are strangers' URLs, and each
 * would be a fetch from a host of their choosing.
 */
export const MAX_REPOSITORIES_PER_CALL = 3;

export interface CallVerification {
  verstat: Verstat;
  attest: Attestation | null;
  /** Why the call did not pass, as the outcome table says; null when it passed. */
  failure: (Outcome & { reasondesc: string }) | null;
  /** Each Identity header's result, in arrival order. */
  identities: IdentityResult[];
  /** Call-level checks (presence, supported ppt, div chaining); each identity carries its own. */
  checks: Check[];
}

const failure = (row: keyof typeof OUTCOMES, reasondesc: string) => ({ ...OUTCOMES[row], reasondesc });

/** A PASSporT's number as signed: E.164 digits (RFC 8225 §5.2.1); null for a `uri` claim or none. */
const signedTn = (claim: string | null): string | null => (claim === null ? null : telephoneNumberDigits(claim));

function pptParameter(headerValue: string): string | null {
  try {
    return parseIdentityHeader(headerValue).ppt;
  } catch {
    return null;
  }
}

/**
 * Verifies every Identity header of a call (RFC 8224 §6.2 step 1: find one we can use) and decides
 * the call's verstat. `div` PASSporTs (RFC 8946) are verified first: each one that holds extends the
 * numbers the `shaken` PASSporT's dest may name (the call was retargeted), and must itself chain to a
 * verified `shaken` PASSporT — same orig, and its diverting number among the shaken dest.
 */
export async function verifyCall(identityHeaders: string[], call: CallNumbers, options: VerifierOptions): Promise<CallVerification> {
  if (identityHeaders.length === 0) {
    return {
      verstat: "No-TN-Validation",
      attest: null,
      failure: failure("IDENTITY_MISSING", "the call carries no Identity header"),
      identities: [],
      checks: [fail(OUTCOMES.IDENTITY_MISSING.checkId, "no Identity header")],
    };
  }
  const checks: Check[] = [pass(OUTCOMES.IDENTITY_MISSING.checkId, `${identityHeaders.length} Identity header(s)`)];
  const evaluated = identityHeaders.slice(0, MAX_IDENTITY_HEADERS);
  if (identityHeaders.length > MAX_IDENTITY_HEADERS) {
    checks.push({ id: "identity.count", result: "warn", detail: `only the first ${MAX_IDENTITY_HEADERS} of ${identityHeaders.length} Identity headers were evaluated` });
  }

  const verifier: VerifierOptions = { ...options, repositories: new CallRepositories(MAX_REPOSITORIES_PER_CALL) };
  const results = new Array<IdentityResult>(evaluated.length);
  // Only a call with several PASSporTs has div ones to verify first; a single header is read once, by verifyIdentity.
  const isDiv = evaluated.length === 1 ? [false] : evaluated.map((value) => pptParameter(value) === "div");
  await Promise.all(
    evaluated.map(async (value, index) => {
      if (isDiv[index]) results[index] = await verifyIdentity(value, call, verifier);
    }),
  );
  const divertedFrom = results.flatMap((result) => (result?.outcome === "verified" ? (signedTn(result.divertedFrom) ?? []) : []));
  const shakenCall: CallNumbers = { ...call, dest: [...call.dest, ...divertedFrom] };
  await Promise.all(
    evaluated.map(async (value, index) => {
      if (!isDiv[index]) results[index] = await verifyIdentity(value, shakenCall, verifier);
    }),
  );

  const verifiedShaken = results.find((result) => result.ppt === "shaken" && result.outcome === "verified");
  for (const result of results) {
    if (result.ppt === "div" && result.outcome === "verified") chainDiv(result, verifiedShaken, checks);
  }

  if (verifiedShaken) {
    return { verstat: "TN-Validation-Passed", attest: verifiedShaken.attest, failure: null, identities: results, checks };
  }
  if (results.every((result) => result.outcome === "unsupported")) {
    return {
      verstat: "No-TN-Validation",
      attest: null,
      failure: failure("PPT_UNSUPPORTED", `no Identity header carries a supported PASSporT type (${results.map((result) => result.ppt).join(", ")})`),
      identities: results,
      checks,
    };
  }
  const decisive = results.find((result) => result.ppt === "shaken" && result.failure) ?? results.find((result) => result.failure)!;
  return { verstat: decisive.verstat, attest: null, failure: decisive.failure, identities: results, checks };
}

/** A verified PASSporT the replay guard saw on another call: which Identity header carried it, and why it is a replay. */
export interface ReplayedIdentity {
  identity: number;
  reasondesc: string;
}

/**
 * The call's verification once the replay guard has answered (src/abuse/replay.ts): a PASSporT presented
 * again on another call vouches for nothing about this one (RFC 8224 §12.1). Each replayed identity
 * fails, and a call that had passed fails with the first replay's reason, its attestation no longer
 * trusted. A call that had already failed keeps its own reason.
 */
export function failReplays(verification: CallVerification, replays: ReplayedIdentity[]): CallVerification {
  if (replays.length === 0) return verification;
  const identities = verification.identities.map((result, index) => {
    const replay = replays.find((candidate) => candidate.identity === index);
    return replay ? { ...result, outcome: "failed" as const, verstat: OUTCOMES.PASSPORT_REPLAYED.verstat, failure: failure("PASSPORT_REPLAYED", replay.reasondesc) } : result;
  });
  if (verification.failure !== null) return { ...verification, identities };
  return { ...verification, verstat: OUTCOMES.PASSPORT_REPLAYED.verstat, attest: null, failure: failure("PASSPORT_REPLAYED", replays[0]!.reasondesc), identities };
}

/**
 * RFC 8946 §5: the `div` PASSporT's orig is the shaken orig, and its diverting number is among the shaken
 * dest. A claim is quoted shortened: a `div` or `dest` may be a URI of the peer's text.
 */
function chainDiv(div: IdentityResult, shaken: IdentityResult | undefined, checks: Check[]): void {
  const divertedFrom = signedTn(div.divertedFrom);
  const chained =
    shaken !== undefined && divertedFrom !== null && signedTn(div.orig) === signedTn(shaken.orig) && shaken.dest.some((claim) => signedTn(claim) === divertedFrom);
  if (chained) {
    checks.push(pass(OUTCOMES.DIV_NOT_CHAINED.checkId, `div from ${shortened(String(div.divertedFrom))} chains to the shaken PASSporT`));
    return;
  }
  const reasondesc = shaken
    ? `div PASSporT (orig ${shortened(String(div.orig))}, div ${shortened(String(div.divertedFrom))}) does not chain to the shaken PASSporT (orig ${shortened(String(shaken.orig))}, dest ${shortened(shaken.dest.join(","))})`
    : "div PASSporT present without a verified shaken PASSporT to chain to";
  div.outcome = "failed";
  div.verstat = OUTCOMES.DIV_NOT_CHAINED.verstat;
  div.failure = failure("DIV_NOT_CHAINED", reasondesc);
  div.checks.push(fail(OUTCOMES.DIV_NOT_CHAINED.checkId, reasondesc));
  checks.push(fail(OUTCOMES.DIV_NOT_CHAINED.checkId, reasondesc));
}
