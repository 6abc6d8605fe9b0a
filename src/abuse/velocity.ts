import { LRUCache } from "lru-cache";
import { WriteBehind } from "../lib/write-behind";
import { findingFor } from "../origin/policy";
import { fail, pass, skip, type Check } from "../verdict/check";
import { describeError, type BackgroundTasks, type Deadline } from "../verdict/deadline";
import type { Finding } from "../verdict/finding";
import { VELOCITY_COUNTERS, type VelocityCounterName, type VelocityLimit } from "./settings";
import { velocityShardOf } from "./shard";
import type { VelocityCounter } from "./velocity-counter";
import type { Count, Observation } from "./velocity-tables";

export interface VelocityStore {
  observe(shard: string, observations: Observation[]): Promise<Count[]>;
}

export function velocityStoreFrom(namespace: DurableObjectNamespace<VelocityCounter>): VelocityStore {
  return { observe: async (shard, observations) => namespace.getByName(shard).observe(observations) };
}

/** What one call contributes: its canonical CLI, a called number, the ingress trunk. */
export interface VelocityCall {
  cli: string | null;
  destination: string | null;
  trunk: string | null;
}

/** The counter's subject and counted value for a call; null when the call lacks what it counts. */
function observed(counter: VelocityCounterName, call: VelocityCall): { subject: string; value: string | null } | null {
  switch (counter) {
    case "calls-per-cli":
      return call.cli === null ? null : { subject: call.cli, value: null };
    case "destinations-per-cli":
      return call.cli === null || call.destination === null ? null : { subject: call.cli, value: call.destination };
    case "clis-per-trunk":
      return call.trunk === null || call.cli === null ? null : { subject: call.trunk, value: call.cli };
  }
}

/** Observations waiting for a flush are capped, so a store outage cannot grow an isolate's memory. */
const MAX_PENDING = 10_000;
const SHARDS_IN_FLIGHT = 8;

/**
 * The isolate's side of the counters. The verdict never waits for them: it is judged on the counts
 * the counters last answered (this isolate's own recent calls included), and the call's observations
 * join the isolate's write-behind batch (src/lib/write-behind.ts: at most WRITE_BEHIND_LINGER_MS
 * later, written after the responses). Each batch is one request per shard that both
 * updates and answers with the current counts, so keeping the isolate informed costs no extra
 * round-trip, and a burst of calls shares batches instead of adding a request per call. The price is
 * a lag of one batch (up to WRITE_BEHIND_LINGER_MS plus the write): the call that crosses a limit is counted, and the calls after it are flagged —
 * the signal is a pattern over many calls, so the verdict's deadline is worth more than that one call.
 */
export class VelocityTracker {
  private readonly known = new LRUCache<string, Count>({ max: 100_000 });
  private pending: Observation[] = [];
  private readonly writer = new WriteBehind({ pending: () => this.pending.length, write: () => this.flush() }, 3_000);
  private failure: string | null = null;
  /** Observations refused because MAX_PENDING were waiting; reported with the next batch. */
  private dropped = 0;

  constructor(
    private readonly store: VelocityStore,
    private readonly limits: Partial<Record<VelocityCounterName, VelocityLimit>>,
  ) {}

  /** Judges the call on the counts known now, then queues its observations (written in the background). */
  assess(call: VelocityCall, atMs: number, deadline: Deadline, background: BackgroundTasks): { checks: Check[]; findings: Finding[] } {
    if (this.failure !== null) deadline.report({ dependency: "velocity", problem: "error", detail: `last counter update failed: ${this.failure}` });
    const checks: Check[] = [];
    const findings: Finding[] = [];
    for (const [counter, limit] of Object.entries(this.limits) as [VelocityCounterName, VelocityLimit][]) {
      const observation = observed(counter, call);
      if (observation === null) continue;
      const key = `${counter}:${observation.subject}`;
      const judged = this.judge(counter, key, observation.subject, limit, atMs);
      checks.push(judged.check);
      if (judged.finding) findings.push(judged.finding);
      if (this.pending.length < MAX_PENDING) {
        const pending: Observation = { key, value: observation.value, atMs, windowMs: limit.windowMs };
        // A distinct count need not go past the limit: one more than it already decides the check.
        if (observation.value !== null) pending.countUpTo = limit.threshold + 1;
        this.pending.push(pending);
      } else this.dropped++;
    }
    if (this.pending.length > 0) this.writer.schedule(background);
    return { checks, findings };
  }

  private judge(counter: VelocityCounterName, key: string, subject: string, limit: VelocityLimit, atMs: number): { check: Check; finding?: Finding | null } {
    const id = `velocity.${counter}`;
    const known = this.known.get(key);
    // A count older than its window says nothing about the window ending now.
    if (!known || atMs - known.atMs > limit.windowMs) return { check: skip(id, "no recent count for this subject yet", { subject }) };
    // A count that stopped at an earlier, lower limit (the limit changed since) says "at least", not how many.
    if (known.capped && known.count <= limit.threshold) return { check: skip(id, "no count against the current limit yet", { subject }) };
    const evidence = { subject, count: known.count, countCapped: known.capped === true, threshold: limit.threshold, windowSeconds: limit.windowMs / 1000, countedAt: new Date(known.atMs).toISOString() };
    const counted = known.capped ? `more than ${limit.threshold}` : String(known.count);
    const detail = `${counted} ${VELOCITY_COUNTERS[counter].what} within ${limit.windowMs / 1000} s (limit ${limit.threshold})`;
    if (known.count <= limit.threshold) return { check: pass(id, detail, evidence) };
    return { check: fail(id, detail, evidence), finding: findingFor(id, limit.action, detail, { label: "High call velocity" }) };
  }

  /** Writes what is pending, one request per shard; observations arriving meanwhile join the next batch. */
  private async flush(): Promise<boolean> {
    if (this.dropped > 0) {
      console.error(JSON.stringify({ level: "error", event: "velocity-observations-dropped", dropped: this.dropped, because: `more than ${MAX_PENDING} observations waited for the counters` }));
      this.dropped = 0;
    }
    const batch = this.pending;
    this.pending = [];
    const byShard = new Map<string, Observation[]>();
    for (const observation of batch) {
      const shard = velocityShardOf(observation.key);
      const observations = byShard.get(shard);
      if (observations) observations.push(observation);
      else byShard.set(shard, [observation]);
    }
    try {
      // A few shards at a time, not all at once: a flush touches up to VELOCITY_SHARDS objects, and
      // firing every call together queues them all ahead of the verdicts arriving meanwhile (measured
      // in the bench, where the objects share the verdicts' thread: BENCHMARKS.md).
      const shards = [...byShard];
      for (let start = 0; start < shards.length; start += SHARDS_IN_FLIGHT) {
        const answers = await Promise.all(shards.slice(start, start + SHARDS_IN_FLIGHT).map(([shard, observations]) => this.store.observe(shard, observations)));
        for (const count of answers.flat()) this.known.set(count.key, count);
      }
      this.failure = null;
      return true;
    } catch (error) {
      // Counting is best effort: a batch the store refused is dropped (memory stays bounded) and the
      // verdicts that follow say the counters are degraded until a write succeeds again.
      this.failure = describeError(error);
      return false;
    }
  }
}
