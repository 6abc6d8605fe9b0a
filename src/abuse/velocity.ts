import { LRUCache } from "lru-cache";
import type { NormalizedCall } from "../call/call";
import { calledNumber } from "../call/normalize";
import { WriteBehind, type BoundedCall } from "../lib/write-behind";
import { recordBackgroundDrops, recordBackgroundTimeout, recordDurableObjectRequests, recordStoreRows } from "../metrics/record";
import { findingFor } from "../origin/policy";
import { fail, outweighs, pass, skip, type Check } from "../verdict/check";
import { describeError, type BackgroundTasks, type Deadline } from "../verdict/deadline";
import type { Finding } from "../verdict/finding";
import { VELOCITY_COUNTERS, type VelocityCounterName, type VelocityLimit } from "./settings";
import { velocityShardOf } from "./shard";
import type { VelocityCounter } from "./velocity-counter";
import type { Count, Observation } from "./velocity-window";

export interface VelocityStore {
  observe(shard: string, observations: Observation[]): Promise<Count[]>;
}

export function velocityStoreFrom(namespace: DurableObjectNamespace<VelocityCounter>): VelocityStore {
  return {
    async observe(shard, observations) {
      recordDurableObjectRequests("velocity", 1);
      const { counts, storage } = await namespace.getByName(shard).observe(observations);
      recordDurableObjectRequests("velocity", storage.alarmsRun);
      recordStoreRows("velocity", storage);
      return counts;
    },
  };
}

/** What one call contributes: its canonical CLI, the number it is routed to, the ingress trunk and carrier. */
export interface VelocityCall {
  cli: string | null;
  /** The other numbers the call presents besides the CLI (src/call/normalize.ts otherPresentedCallers): counted as CLIs too. */
  otherClis?: readonly string[];
  /** What destinations-per-cli counts: velocityDestinationOf(call). */
  destination: string | null;
  trunk: string | null;
  /** The carrier as the SBC names it: the interconnect whose CLIs are counted when it names no trunk. */
  carrier?: string | null;
}

/** As much of an unreadable Request-URI as the counters keep: the number a core routes by comes first in it. */
const UNREADABLE_DESTINATION_CHARS = 128;

/**
 * The destination destinations-per-cli counts: the call's called number, or the text of a Request-URI
 * that cannot be read. That one names no number, yet a core may route it (stripping the junk, placing a
 * local number in its context): a caller spraying such Request-URIs still drives the distinct count.
 */
export function velocityDestinationOf(call: NormalizedCall): string | null {
  return call.ruri?.unreadable ? `unreadable:${call.ruri.raw.slice(0, UNREADABLE_DESTINATION_CHARS)}` : calledNumber(call);
}

/**
 * The interconnect whose distinct CLIs are counted: the trunk, else `carrier:<name>` for an SBC that
 * names the carrier alone (the ingress map takes carrier-only entries); null when it names neither.
 */
const interconnectOf = ({ trunk, carrier }: VelocityCall): string | null => trunk ?? (carrier ? `carrier:${carrier}` : null);

/** The counter's subjects and counted values for a call, one per presented number; none when the call lacks what it counts. */
function observed(counter: VelocityCounterName, call: VelocityCall): { subject: string; value: string | null }[] {
  const { destination } = call;
  const interconnect = interconnectOf(call);
  const clis = [call.cli, ...(call.otherClis ?? [])].filter((cli): cli is string => typeof cli === "string");
  switch (counter) {
    case "calls-per-cli":
      return clis.map((cli) => ({ subject: cli, value: null }));
    case "destinations-per-cli":
      return destination === null ? [] : clis.map((cli) => ({ subject: cli, value: destination }));
    case "clis-per-trunk":
      return interconnect === null ? [] : clis.map((cli) => ({ subject: interconnect, value: cli }));
  }
}

/** Observations waiting for a flush are capped, so a store outage cannot grow an isolate's memory; the oldest go first. */
export const MAX_PENDING_OBSERVATIONS = 10_000;
const SHARDS_IN_FLIGHT = 8;
const TASK = "velocity-flush";

/**
 * What this isolate observed of one key that no count it holds reflects yet: the calls, and the distinct
 * values, it queued or sent since the counter last answered for the key.
 */
interface Unanswered {
  firstMs: number;
  events: number;
  values: Set<string>;
}

/**
 * Adds an observation; distinct values are held up to the count that decides the check, as the counter
 * holds them, and keys up to as many as observations may wait (a flush that hangs does not grow it further).
 */
function tally(tallies: Map<string, Unanswered>, { key, value, atMs, countUpTo }: Observation): void {
  let held = tallies.get(key);
  if (!held) {
    if (tallies.size >= MAX_PENDING_OBSERVATIONS) return;
    tallies.set(key, (held = { firstMs: atMs, events: 0, values: new Set() }));
  }
  held.events++;
  if (value !== null && held.values.size < (countUpTo ?? Number.POSITIVE_INFINITY)) held.values.add(value);
}

/** Observations grouped by `keyOf`, each group in queue order. */
function groupBy(observations: readonly Observation[], keyOf: (observation: Observation) => string): Map<string, Observation[]> {
  const groups = new Map<string, Observation[]>();
  for (const observation of observations) {
    const key = keyOf(observation);
    const group = groups.get(key);
    if (group) group.push(observation);
    else groups.set(key, [observation]);
  }
  return groups;
}

/**
 * The isolate's side of the counters. The verdict never waits for them: it is judged on the counts
 * the counters last answered plus what this isolate observed since (its calls not yet answered for),
 * and the call's observations
 * join the isolate's write-behind batch (src/lib/write-behind.ts: at most WRITE_BEHIND_LINGER_MS
 * later, written after the responses). Each batch is one request per shard that both
 * updates and answers with the current counts, so keeping the isolate informed costs no extra
 * round-trip, and a burst of calls shares batches instead of adding a request per call. The price is
 * a lag of one batch (up to WRITE_BEHIND_LINGER_MS plus the write) for the other isolates' calls: the
 * signal is a pattern over many calls, so the verdict's deadline is worth more than those few calls.
 */
export class VelocityTracker {
  private readonly known = new LRUCache<string, Count>({ max: 100_000 });
  private pending: Observation[] = [];
  /**
   * What the counters have not answered for yet, per key: queued (`unsent`) and in the flush being
   * written (`sending`, until its shard answers). A burst answered within one batch is judged on it too,
   * not only on the last count, which may be older than its window.
   */
  private unsent = new Map<string, Unanswered>();
  private sending = new Map<string, Unanswered>();
  /**
   * The observations the counters refused, back in the queue, per key in the order they were made: a
   * burst during an outage is judged on every call of it the isolate holds, not only on those since the
   * last attempt. Kept call by call rather than tallied, so an outage longer than the window still
   * judges the calls within it (a tally is set aside whole once its first call leaves the window).
   * Rebuilt by each flush from what it refused; at most the queue's MAX_PENDING_OBSERVATIONS.
   */
  private refused = new Map<string, Observation[]>();
  private readonly writer = new WriteBehind({ pending: () => this.pending.length, write: (bounded) => this.flush(bounded) }, 3_000, TASK, recordBackgroundTimeout);
  /** The batch being written, if any: the next waits for it (see flush). */
  private writing: Promise<void> | null = null;
  private failure: string | null = null;

  constructor(
    private readonly store: VelocityStore,
    private readonly limits: Partial<Record<VelocityCounterName, VelocityLimit>>,
    /** BACKGROUND_TIMEOUT_MS: how long one batch's calls to the counters may take. */
    private readonly timeoutMs: number,
  ) {}

  /** Judges the call on the counts known now, then queues its observations (written in the background). */
  assess(call: VelocityCall, atMs: number, deadline: Deadline, background: BackgroundTasks): { checks: Check[]; findings: Finding[] } {
    if (this.failure !== null) deadline.report({ dependency: "velocity", problem: "error", detail: `last counter update failed: ${this.failure}` });
    const checks: Check[] = [];
    const findings: Finding[] = [];
    for (const [counter, limit] of Object.entries(this.limits) as [VelocityCounterName, VelocityLimit][]) {
      // A call presenting two numbers is judged on each; its check for the counter is the one that says most.
      let check: Check | null = null;
      let judgedKey: string | null = null;
      for (const observation of observed(counter, call)) {
        const key = `${counter}:${observation.subject}`;
        // Both numbers on one trunk are two values of one subject, judged once.
        if (key !== judgedKey) {
          const judged = this.judge(counter, key, observation.subject, limit, atMs);
          if (check === null || outweighs(judged.check, check)) check = judged.check;
          if (judged.finding) findings.push(judged.finding);
          judgedKey = key;
        }
        const pending: Observation = { key, value: observation.value, atMs, windowMs: limit.windowMs };
        // A distinct count need not go past the limit: one more than it already decides the check.
        if (observation.value !== null) pending.countUpTo = limit.threshold + 1;
        this.pending.push(pending);
        tally(this.unsent, pending);
      }
      if (check !== null) checks.push(check);
    }
    this.keepNewest();
    if (this.pending.length > 0) this.writer.schedule({ waitUntil: background, timeoutMs: this.timeoutMs });
    return { checks, findings };
  }

  /**
   * Writes what is pending now, without waiting for the write-behind's linger: for a caller that judges
   * calls one after another and wants each judged on every call before it (the CLI's replay of call
   * records, whose store answers at once), rather than a batch behind as a busy isolate is.
   */
  async settle(): Promise<void> {
    if (this.pending.length > 0) await this.flush((call) => call);
  }

  private judge(counter: VelocityCounterName, key: string, subject: string, limit: VelocityLimit, atMs: number): { check: Check; finding?: Finding | null } {
    const id = `velocity.${counter}`;
    // A count older than its window says nothing about the window ending now.
    const answered = this.known.get(key);
    const fresh = answered && atMs - answered.atMs <= limit.windowMs ? answered : null;
    const known = this.withUnanswered(key, fresh, limit, atMs);
    if (!known) return { check: skip(id, "no recent count for this subject yet", { subject }) };
    // A count that stopped at an earlier, lower limit (the limit changed since) says "at least", not how many.
    if (known.capped && known.count <= limit.threshold) return { check: skip(id, "no count against the current limit yet", { subject }) };
    const evidence = { subject, count: known.count, countCapped: known.capped === true, threshold: limit.threshold, windowSeconds: limit.windowMs / 1000, countedAt: new Date(known.atMs).toISOString() };
    const counted = known.capped ? `more than ${limit.threshold}` : String(known.count);
    const detail = `${counted} ${VELOCITY_COUNTERS[counter].what} within ${limit.windowMs / 1000} s (limit ${limit.threshold})`;
    if (known.count <= limit.threshold) return { check: pass(id, detail, evidence) };
    return { check: fail(id, detail, evidence), finding: findingFor(id, limit.action, detail, { label: "High call velocity" }) };
  }

  /**
   * The counter's last fresh count with what this isolate observed of the key since (its own calls, a
   * lower bound of the others'): calls add up; distinct values may be among those counted, so the larger
   * of the two is taken. Observations spanning more than the window are left out. Null when there is no
   * fresh count and the isolate's own observations stay within the limit (the check then says so, as before).
   */
  private withUnanswered(key: string, fresh: Count | null, limit: VelocityLimit, atMs: number): Count | null {
    let events = 0;
    let values = 0;
    for (const tallies of [this.unsent, this.sending]) {
      const held = tallies.get(key);
      if (!held || atMs - held.firstMs > limit.windowMs) continue;
      events += held.events;
      values = Math.max(values, held.values.size);
    }
    const refused = this.refused.get(key);
    if (refused) {
      const distinct = new Set<string>();
      let within = 0;
      for (let index = refused.length - 1; index >= 0 && atMs - refused[index]!.atMs <= limit.windowMs; index--) {
        within++;
        const { value } = refused[index]!;
        if (value !== null && distinct.size <= limit.threshold) distinct.add(value);
      }
      events += within;
      values = Math.max(values, distinct.size);
    }
    const own = values > 0 ? values : events;
    if (own === 0) return fresh;
    if (!fresh) return own > limit.threshold ? { key, count: own, atMs, capped: false } : null;
    if (values > 0) return own > fresh.count ? { key, count: own, atMs, capped: false } : fresh;
    return { ...fresh, count: fresh.count + events };
  }

  /**
   * Writes what is pending, one request per shard, a few shards at a time; observations arriving
   * meanwhile join the next batch. What a shard refused goes back in front of the queue for the next
   * batch (an outage of a few seconds loses nothing), within MAX_PENDING_OBSERVATIONS, the oldest
   * dropped first, and the verdicts keep counting it (`refused`); the shards of a call that timed out
   * may still have counted, so their observations are not sent again (a call is never counted twice)
   * and are counted as dropped.
   */
  private flush(bounded: BoundedCall): Promise<boolean> {
    // One batch at a time: `settle()` beside the write-behind's batch would otherwise replace its
    // `sending` and its refusals, and the calls in flight would stop counting. The write-behind's store
    // calls are bounded by the background timeout, so a batch waits behind another at most that long.
    const batch = this.writing ? this.writing.then(() => this.writeBatch(bounded)) : this.writeBatch(bounded);
    const done = (): void => {
      if (this.writing === written) this.writing = null;
    };
    const written: Promise<void> = batch.then(done, done);
    this.writing = written;
    return batch;
  }

  private async writeBatch(bounded: BoundedCall): Promise<boolean> {
    const byShard = groupBy(this.pending, ({ key }) => velocityShardOf(key));
    this.pending = [];
    // What is sent now stays counted as unanswered until its shard answers with a count that holds it
    // (one flush runs at a time, and each ends with none held as sending).
    this.sending = this.unsent;
    this.unsent = new Map();
    // A few shards at a time, not all at once: a flush touches up to VELOCITY_SHARDS objects, and
    // firing every call together queues them all ahead of the verdicts arriving meanwhile (measured
    // in the bench, where the objects share the verdicts' thread: BENCHMARKS.md).
    const shards = [...byShard];
    const refused: Observation[][] = [];
    let failure: string | null = null;
    for (let start = 0; start < shards.length; start += SHARDS_IN_FLIGHT) {
      const group = shards.slice(start, start + SHARDS_IN_FLIGHT);
      let answers: PromiseSettledResult<Count[]>[];
      try {
        answers = await bounded(Promise.allSettled(group.map(([shard, observations]) => this.store.observe(shard, observations))));
      } catch (error) {
        recordBackgroundDrops(TASK, group.reduce((sum, [, observations]) => sum + observations.length, 0));
        refused.push(...shards.slice(start + SHARDS_IN_FLIGHT).map(([, observations]) => observations));
        failure = describeError(error);
        break;
      }
      for (const [index, answer] of answers.entries()) {
        if (answer.status === "fulfilled") {
          for (const count of answer.value) {
            this.known.set(count.key, count);
            this.sending.delete(count.key);
            this.refused.delete(count.key);
          }
        }
        else {
          refused.push(group[index]![1]);
          failure = describeError(answer.reason);
        }
      }
    }
    this.requeue(refused.flat());
    // What was refused stays unanswered; what was lost to a timeout is no longer held: a lower bound.
    // A key's observations all go to one shard, so each key's stay in the order they were made.
    this.refused = groupBy(refused.flat(), ({ key }) => key);
    this.sending = new Map();
    // The verdicts that follow say the counters are degraded until a batch is written whole again.
    this.failure = failure;
    return failure === null;
  }

  /** Puts observations back in front of the queue (they are older than what arrived meanwhile). */
  private requeue(observations: Observation[]): void {
    if (observations.length === 0) return;
    this.pending = observations.concat(this.pending);
    this.keepNewest();
  }

  /** Keeps the newest MAX_PENDING_OBSERVATIONS (the windows that end now need them most), counting the older ones as dropped. */
  private keepNewest(): void {
    const excess = this.pending.length - MAX_PENDING_OBSERVATIONS;
    if (excess <= 0) return;
    recordBackgroundDrops(TASK, excess);
    this.pending.splice(0, excess);
  }
}
