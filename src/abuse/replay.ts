import type { Clock } from "../lib/clock";
import { findingFor } from "../origin/policy";
import type { IdentityResult } from "../verification/verify-identity";
import { fail, pass, skip, warn, type Check } from "../verdict/check";
import type { Deadline } from "../verdict/deadline";
import type { Finding } from "../verdict/finding";
import type { Presentation, PresentationRecord, ReplayGuard } from "./replay-guard";
import type { ReplayPolicy } from "./settings";
import { sha256Hex, shardOf } from "./shard";

export const REPLAY_CHECK_ID = "passport.replay";

export interface ReplayStore {
  present(presentation: Presentation): Promise<PresentationRecord>;
}

export function replayStoreFrom(namespace: DurableObjectNamespace<ReplayGuard>): ReplayStore {
  return { present: async (presentation) => namespace.getByName(shardOf(presentation.passport)).present(presentation) };
}

export interface ReplayDeps {
  store: ReplayStore;
  clock: Clock;
  deadline: Deadline;
  freshnessSeconds: number;
  policy: ReplayPolicy;
}

/**
 * Reports each verified PASSporT of the call to the replay guard and judges the answer. Only verified
 * PASSporTs are recorded, so forgeries cannot fill the store (spec digest §9). The verdict needs the
 * answer, so this is the one store round-trip on the critical path, bounded by the verdict's deadline;
 * when the store is slow or down the check is skipped and `store.replay` reports why.
 */
export async function checkReplay(identities: IdentityResult[], leg: string, deps: ReplayDeps): Promise<{ checks: Check[]; findings: Finding[] }> {
  const atMs = deps.clock.now();
  const verified = identities.flatMap((identity, index) => (identity.outcome === "verified" && identity.passport && identity.iat !== null ? [{ identity, index, iat: identity.iat, jws: identity.passport.jws }] : []));
  const judged = await Promise.all(
    verified.map(async ({ index, iat, jws }) => {
      const presentation: Presentation = {
        passport: await sha256Hex(jws.slice(jws.lastIndexOf(".") + 1)),
        leg,
        atMs,
        // RFC 8224 §12.1: past iat + freshness the PASSporT is refused as stale, so it need not be remembered longer.
        expiresAtMs: (iat + deps.freshnessSeconds) * 1000,
        forkWindowMs: deps.policy.forkWindowMs,
      };
      const record = await deps.deadline.within("replay", () => deps.store.present(presentation), () => null);
      return judgePresentation(record, identities.length > 1 ? { identity: index } : {}, deps.policy);
    }),
  );
  return { checks: judged.map(({ check }) => check), findings: judged.flatMap(({ finding }) => finding ?? []) };
}

function judgePresentation(record: PresentationRecord | null, where: Record<string, unknown>, policy: ReplayPolicy): { check: Check; finding?: Finding | null } {
  if (record === null) return { check: skip(REPLAY_CHECK_ID, "replay store unavailable; see store.replay", where) };
  const evidence = { ...where, presentations: record.presentations, fork: record.fork, legs: record.legs, firstSeenAt: new Date(record.firstSeenAtMs).toISOString() };
  if (record.presentations === 1) return { check: pass(REPLAY_CHECK_ID, "first presentation of this PASSporT", evidence) };
  if (record.fork) {
    const detail = `PASSporT presented on ${record.legs.length} legs within ${policy.forkWindowMs / 1000} s: a forked call`;
    return { check: policy.forkAction === "allow" ? warn(REPLAY_CHECK_ID, detail, evidence) : fail(REPLAY_CHECK_ID, detail, evidence), finding: findingFor(REPLAY_CHECK_ID, policy.forkAction, detail, { label: "Forked call" }) };
  }
  const detail = `PASSporT replayed: presented ${record.presentations} times within its freshness window (RFC 8224 §12.1)`;
  return { check: fail(REPLAY_CHECK_ID, detail, evidence), finding: findingFor(REPLAY_CHECK_ID, policy.action, detail, { label: "Replayed caller ID" }) };
}
