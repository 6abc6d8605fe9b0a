import type { Clock } from "../lib/clock";
import type { Runtime } from "../runtime";
import { recordDurableObjectRequests, recordStoreRows } from "../metrics/record";
import { findingFor } from "../origin/policy";
import type { ReplayedIdentity } from "../verification/verify-call";
import type { IdentityResult } from "../verification/verify-identity";
import { fail, pass, skip, warn, type Check } from "../verdict/check";
import type { Deadline } from "../verdict/deadline";
import type { Finding } from "../verdict/finding";
import type { Presentation, PresentationRecord } from "./presentation-ledger";
import type { ReplayGuard } from "./replay-guard";
import type { ReplayPolicy } from "./settings";
import { sha256Hex } from "../lib/sha256";
import { replayShardOf } from "./shard";

export const REPLAY_CHECK_ID = "passport.replay";

/**
 * The time the guard is given however much of the verdict's budget verification used: a call can name
 * a second PASSporT whose repository answers just before the budget runs out, and a guard left no time
 * would skip, letting a replayed PASSporT beside it pass. A verdict that spent its budget answers up to
 * this much later instead.
 */
export const REPLAY_FLOOR_MS = 100;

export interface ReplayStore {
  present(presentation: Presentation): Promise<PresentationRecord>;
}

export function replayStoreFrom(namespace: DurableObjectNamespace<ReplayGuard>): ReplayStore {
  return {
    async present(presentation) {
      recordDurableObjectRequests("replay", 1);
      const { storage, ...record } = await namespace.getByName(replayShardOf(presentation.signingInput)).present(presentation);
      recordDurableObjectRequests("replay", storage.alarmsRun);
      recordStoreRows("replay", storage);
      return record;
    },
  };
}

export interface ReplayDeps {
  store: ReplayStore;
  clock: Clock;
  deadline: Deadline;
  freshnessSeconds: number;
  policy: ReplayPolicy;
}

/** The guard as a runtime (the Worker's, or the CLI replay's) has it, for one verdict's or verification's deadline. */
export const replayDepsOf = (runtime: Pick<Runtime, "replay" | "clock" | "config">, deadline: Deadline): ReplayDeps => ({
  store: runtime.replay,
  clock: runtime.clock,
  deadline,
  freshnessSeconds: runtime.config.freshnessSeconds,
  policy: runtime.config.replay,
});

/** Where the PASSporTs of a call arrived: its leg (the Request-URI, else To) and its SIP Call-ID, when known. */
export interface Arrival {
  leg: string;
  callId: string | null;
}

export interface ReplayJudgement {
  checks: Check[];
  /** Forks, by the operator's fork action. A replay asks for no action of its own: it fails the verification. */
  findings: Finding[];
  /** The PASSporTs presented again on another call, or too late for a re-send of the same one. */
  replays: ReplayedIdentity[];
}

/**
 * What identifies a PASSporT to the guard: the digest of its JWS Signing Input, `b64(header).b64(claims)`
 * as received (RFC 7515 §2) — what was signed, never the signature's text. RFC 8224 §12.1 bounds a
 * replay by the freshness of what the signer vouched for (`iat`, `orig`, `dest`); the signature is
 * only the proof, and it has other spellings that verify as well: ECDSA's twin (r, n − s), and spare
 * bits in the last base64url character, which the decoder drops. A key over the signature, even
 * decoded and normalised to low s, would also count the signer's own second signature over the same
 * claims (ECDSA draws a fresh nonce each time) as new. The header and claims need no decoding: the
 * signature is validated over their text as received (RFC 7515 §5.2), so no other spelling of them
 * verifies, and whoever can sign another text can sign a fresh PASSporT anyway.
 */
export const signingInputDigest = (jws: string): Promise<string> => sha256Hex(jws.slice(0, jws.lastIndexOf(".")));

type Repeat = "re-send" | "fork" | "replay";

/**
 * A repeat's kind. Retransmissions (RFC 3261 §17), failovers to another server after a 5xx or a
 * timeout (RFC 3263 §4.3: the same request in a new transaction), and a proxy's forks and recursion
 * on a 3xx (RFC 3261 §16.5, §16.6) keep the request's Call-ID (§8.1.1.4), so within the fork window a
 * repeat with the first presentation's Call-ID is the same call: a re-send on a leg already seen, a
 * fork on a new one. An attacker who copies the Call-ID with the PASSporT gains a call to the same
 * callee (`dest` is signed) within those seconds, on what SIP elements downstream take for the request
 * already in progress (RFC 3261 §8.2.2.2, merged requests); a copy with a Call-ID of its own, or
 * without one, is a replay. Requests that never say a Call-ID (JSON from an SBC that does not send
 * `callId`) are told by their leg alone: a new leg within the window is a fork.
 */
function repeatOf(record: PresentationRecord, withinWindow: boolean): Repeat {
  if (withinWindow && record.sameCall === true) return record.newLeg ? "fork" : "re-send";
  if (withinWindow && record.sameCall === null && record.newLeg) return "fork";
  return "replay";
}

/**
 * Reports each verified PASSporT of the call to the replay guard and judges the answer. Only verified
 * PASSporTs are recorded, so forgeries cannot fill the store (spec digest §9). The verdict needs the
 * answer, so this is the one store round-trip on the critical path, bounded by the verdict's deadline;
 * when the store is slow or down the check is skipped and `store.replay` reports why.
 */
export async function checkReplay(identities: IdentityResult[], arrival: Arrival, deps: ReplayDeps): Promise<ReplayJudgement> {
  const atMs = deps.clock.now();
  const verified = identities.flatMap((identity, index) => (identity.outcome === "verified" && identity.passport && identity.iat !== null ? [{ index, iat: identity.iat, jws: identity.passport.jws }] : []));
  const judged = await Promise.all(
    verified.map(async ({ index, iat, jws }) => {
      const presentation: Presentation = {
        signingInput: await signingInputDigest(jws),
        leg: arrival.leg,
        callId: arrival.callId,
        atMs,
        // RFC 8224 §12.1: from second iat + freshness + 1 the PASSporT is refused as stale (freshness is judged on
        // the clock's whole seconds, so all of second iat + freshness is fresh). Verification judged it at an
        // earlier instant than this one, by up to the verdict's longest wait: it is remembered that much longer,
        // so a PASSporT judged fresh is never presented to a guard that has already forgotten it.
        expiresAtMs: (iat + deps.freshnessSeconds + 1) * 1000 + deps.deadline.budgetMs + REPLAY_FLOOR_MS,
      };
      const record = await deps.deadline.within("replay", () => deps.store.present(presentation), () => null, REPLAY_FLOOR_MS);
      return { index, ...judgePresentation(record, atMs, identities.length > 1 ? { identity: index } : {}, deps.policy) };
    }),
  );
  return {
    checks: judged.map(({ check }) => check),
    findings: judged.flatMap(({ finding }) => finding ?? []),
    replays: judged.flatMap(({ index, check, replayed }) => (replayed ? [{ identity: index, reasondesc: check.detail! }] : [])),
  };
}

function judgePresentation(record: PresentationRecord | null, atMs: number, where: Record<string, unknown>, policy: ReplayPolicy): { check: Check; finding?: Finding | null; replayed?: true } {
  if (record === null) return { check: skip(REPLAY_CHECK_ID, "replay store unavailable; see store.replay", where) };
  const facts = { ...where, presentations: record.presentations, sameCall: record.sameCall, legs: record.legs, firstSeenAt: new Date(record.firstSeenAtMs).toISOString() };
  if (record.presentations === 1) return { check: pass(REPLAY_CHECK_ID, "first presentation of this PASSporT", facts) };
  const secondsLater = (atMs - record.firstSeenAtMs) / 1000;
  const windowSeconds = policy.forkWindowMs / 1000;
  const repeat = repeatOf(record, secondsLater <= windowSeconds);
  const evidence = { ...facts, repeat };
  switch (repeat) {
    case "re-send":
      return { check: pass(REPLAY_CHECK_ID, `PASSporT re-sent on the same call (Call-ID) within ${windowSeconds} s: a retransmission or failover`, evidence) };
    case "fork": {
      const detail = `PASSporT presented on ${record.legs.length} legs within ${windowSeconds} s: a forked call`;
      return { check: policy.forkAction === "allow" ? warn(REPLAY_CHECK_ID, detail, evidence) : fail(REPLAY_CHECK_ID, detail, evidence), finding: findingFor(REPLAY_CHECK_ID, policy.forkAction, detail, { label: "Forked call" }) };
    }
    case "replay": {
      const why =
        record.sameCall === false
          ? "on another call than the first presentation (Call-ID)"
          : secondsLater > windowSeconds
            ? `${Math.round(secondsLater)} s after the first presentation, past the ${windowSeconds} s re-send window`
            : "again on a leg already seen, with no Call-ID to tell a re-send";
      return { check: fail(REPLAY_CHECK_ID, `PASSporT replayed: presentation ${record.presentations} within its freshness window, ${why} (RFC 8224 §12.1)`, evidence), replayed: true };
    }
  }
}
