/**
 * One event for a sliding-window counter. `value` null counts events (calls per CLI); a value counts
 * distinct values (destinations per CLI, CLIs per trunk).
 */
export interface Observation {
  /** `<counter>:<subject>`, e.g. `calls-per-cli:77272501234`. */
  key: string;
  value: string | null;
  atMs: number;
  windowMs: number;
  /**
   * For distinct counts: the count at which counting may stop (the limit plus one), since past it the
   * verdict is the same. Absent: counted in full, up to MAX_DISTINCT_VALUES.
   */
  countUpTo?: number;
}

/** A counter's value over its window ending at `atMs`, the latest observation of its key. */
export interface Count {
  key: string;
  count: number;
  atMs: number;
  /** Counting stopped at the observation's `countUpTo`: there are at least `count`. */
  capped: boolean;
}

/**
 * How far behind a key's newest observation a batch may still be counted exactly: batches from
 * different isolates arrive out of order by a write-behind linger and a network trip, far less than this.
 */
export const LATE_OBSERVATION_MS = 60_000;
/** A distinct count that names no cap (an isolate of an earlier version) stops here, so one key's memory is bounded. */
export const MAX_DISTINCT_VALUES = 100_000;
/**
 * Keys one object holds. Past this, the key observed least recently is forgotten: a key under attack
 * is observed again and again and stays; one forgotten starts counting again from its next call.
 */
export const MAX_KEYS = 100_000;

/**
 * How stale a key's place in the least-recently-observed order may be. A key observed again is moved to
 * the end of the map only when it was last moved this long before; otherwise its counts are updated in
 * place. Moving means a delete and a re-insert, and V8's Map keeps every deleted entry until it next
 * rehashes: a key observed on every call (a busy trunk's `cli-per-trunk`) among tens of thousands of
 * quiet ones made each lookup walk its dead copies, some 100 µs a call (issue 20's replay; the velocity
 * objects alike). The order is then exact to this much: an idle key is forgotten, or evicted at
 * MAX_KEYS, at most this much later than its last observation allows. Counts are unaffected.
 */
export const REORDER_GRANULARITY_MS = 1_000;

/** What every key holds besides its counts. */
interface KeyState {
  windowMs: number;
  newestMs: number;
  /** When the key last moved to the end of the order (REORDER_GRANULARITY_MS). */
  movedMs: number;
}

/** Calls of a key, per second: `[second, calls, second, calls, …]` in ascending seconds. */
interface EventCounts extends KeyState {
  seconds: number[];
}

/** A key's distinct values and when each was last seen, in the order they were last seen. */
interface DistinctValues extends KeyState {
  /** At most this many are kept: the newest sightings, which are the ones a capped count reads. */
  keep: number;
  lastSeen: Map<string, number>;
  /**
   * The latest sighting dropped to keep within `keep` (−Infinity: none). A window that starts before it
   * lost a value it would have counted, so its count is a floor: after a limit was raised, until the
   * window has moved past what the lower cap dropped.
   */
  droppedMs: number;
}

type KeyCounts = EventCounts | DistinctValues;
const isEvents = (counts: KeyCounts): counts is EventCounts => "seconds" in counts;

/** What a snapshot holds per key: `[key, windowMs, newestMs, seconds]` or `[key, windowMs, newestMs, keep, [value, lastMs, …], droppedMs]`. */
type SavedKey = [string, number, number, number[]] | [string, number, number, number, (string | number)[], number | null];

/**
 * Sliding-window counters for velocity and rotation detection (cli-spoofing.md §3 check 11), held in
 * memory by the Durable Object that owns their keys (src/abuse/velocity-counter.ts), which saves a
 * snapshot now and then. Counting in memory writes nothing per call: the SQLite tables this replaces
 * wrote five rows per call (issue 19). The counts are exact, as they were: calls in one-second buckets,
 * distinct values by their last sighting, each key pruned to its window (plus LATE_OBSERVATION_MS),
 * and a distinct count kept to the newest `countUpTo` values, which is all a count that stops there
 * reads. A sketch (HyperLogLog, count-min) would bound memory the same way but answer near the limit
 * with an error, and the checks report the count as evidence.
 */
export class SlidingCounts {
  /** Least recently observed first, to REORDER_GRANULARITY_MS: a key observed again moves to the end once that much has passed. */
  private readonly keys = new Map<string, KeyCounts>();
  /** Idle keys are looked for once per REORDER_GRANULARITY_MS of observations: each look starts at the map's head, past the entries deleted since it last rehashed. */
  private nextForgetMs = Number.NEGATIVE_INFINITY;

  /** Counts a batch, and answers each key's count over its window ending at its latest observation in the batch. */
  observe(observations: Observation[]): Count[] {
    const latest = new Map<string, Observation>();
    let newestMs = Number.NEGATIVE_INFINITY;
    for (const observation of observations) {
      this.record(observation);
      const known = latest.get(observation.key);
      if (!known || known.atMs <= observation.atMs) latest.set(observation.key, observation);
      newestMs = Math.max(newestMs, observation.atMs);
    }
    this.forgetIdle(newestMs);
    return [...latest.values()].map(({ key, atMs, windowMs, countUpTo }): Count => {
      const counts = this.keys.get(key);
      if (counts === undefined) return { key, atMs, count: 0, capped: false };
      if (isEvents(counts)) return { key, atMs, count: eventsIn(counts, atMs, windowMs), capped: false };
      const cap = capOf(countUpTo);
      const count = distinctIn(counts, atMs, windowMs, cap);
      return { key, atMs, count, capped: (countUpTo !== undefined && count >= cap) || counts.droppedMs > atMs - windowMs };
    });
  }

  get size(): number {
    return this.keys.size;
  }

  /**
   * Forgets the keys whose every count has left its window: they count nothing now, and the next call
   * of such a key starts from zero, as it would have. Keys are in the order they were last observed,
   * so the idle ones lead.
   */
  private forgetIdle(nowMs: number): void {
    if (nowMs < this.nextForgetMs) return;
    this.nextForgetMs = nowMs + REORDER_GRANULARITY_MS;
    for (const [key, counts] of this.keys) {
      if (counts.newestMs + counts.windowMs + LATE_OBSERVATION_MS >= nowMs) break;
      this.keys.delete(key);
    }
  }

  private record(observation: Observation): void {
    const { key, value, atMs, windowMs } = observation;
    let counts = this.keys.get(key);
    if (counts === undefined) {
      if (this.keys.size >= MAX_KEYS) this.keys.delete(this.keys.keys().next().value!);
    } else if (atMs - counts.movedMs >= REORDER_GRANULARITY_MS) {
      this.keys.delete(key);
      counts.movedMs = atMs;
    }
    if (value === null) {
      const events = counts !== undefined && isEvents(counts) ? counts : { windowMs, newestMs: atMs, movedMs: counts?.movedMs ?? atMs, seconds: [] };
      addEvent(events, Math.floor(atMs / 1000));
      counts = events;
    } else {
      const keep = capOf(observation.countUpTo);
      const distinct =
        counts !== undefined && !isEvents(counts)
          ? counts
          : { windowMs, newestMs: atMs, movedMs: counts?.movedMs ?? atMs, keep, lastSeen: new Map<string, number>(), droppedMs: Number.NEGATIVE_INFINITY };
      distinct.keep = keep;
      addSighting(distinct, value, atMs);
      counts = distinct;
    }
    counts.windowMs = windowMs;
    counts.newestMs = Math.max(counts.newestMs, atMs);
    prune(counts);
    // A key not moved is updated in place: Map.set of a key it holds keeps the key's place.
    this.keys.set(key, counts);
  }

  /** The counts as JSON, for the object's snapshot. */
  save(): string {
    const saved: SavedKey[] = [];
    for (const [key, counts] of this.keys) {
      saved.push(
        isEvents(counts)
          ? [key, counts.windowMs, counts.newestMs, counts.seconds]
          : [key, counts.windowMs, counts.newestMs, counts.keep, [...counts.lastSeen].flat(), Number.isFinite(counts.droppedMs) ? counts.droppedMs : null],
      );
    }
    return JSON.stringify(saved);
  }

  /** Counts from a snapshot `save` wrote; what cannot be read is left out (a count then starts over). */
  static restore(json: string): SlidingCounts {
    const restored = new SlidingCounts();
    let saved: unknown;
    try {
      saved = JSON.parse(json);
    } catch {
      return restored;
    }
    if (!Array.isArray(saved)) return restored;
    for (const entry of saved.slice(-MAX_KEYS) as unknown[]) {
      const counts = keyCountsOf(entry);
      if (counts) restored.keys.set((entry as SavedKey)[0], counts);
    }
    return restored;
  }
}

const capOf = (countUpTo: number | undefined) => (countUpTo !== undefined && Number.isSafeInteger(countUpTo) && countUpTo >= 1 ? Math.min(countUpTo, MAX_DISTINCT_VALUES) : MAX_DISTINCT_VALUES);

function addEvent(events: EventCounts, second: number): void {
  const { seconds } = events;
  // Calls arrive in time order but for a late batch: find the bucket from the end.
  let index = seconds.length - 2;
  while (index >= 0 && seconds[index]! > second) index -= 2;
  if (index >= 0 && seconds[index] === second) seconds[index + 1]!++;
  else seconds.splice(index + 2, 0, second, 1);
}

function addSighting(distinct: DistinctValues, value: string, atMs: number): void {
  const held = distinct.lastSeen.get(value);
  // An older sighting than the one held changes nothing.
  if (held !== undefined && held >= atMs) return;
  distinct.lastSeen.delete(value);
  distinct.lastSeen.set(value, atMs);
}

/** Drops what no count can read any more: older than the window (and a late batch's allowance) before the newest observation, or past the newest `keep` values. */
function prune(counts: KeyCounts): void {
  const oldestMs = counts.newestMs - counts.windowMs - LATE_OBSERVATION_MS;
  if (isEvents(counts)) {
    const oldestSecond = Math.floor(oldestMs / 1000);
    let drop = 0;
    while (drop < counts.seconds.length && counts.seconds[drop]! < oldestSecond) drop += 2;
    if (drop > 0) counts.seconds.splice(0, drop);
    return;
  }
  // Sightings are in the order they were last seen, as far as observations arrive in order: the old ones lead.
  for (const [value, lastMs] of counts.lastSeen) {
    if (lastMs >= oldestMs) break;
    counts.lastSeen.delete(value);
  }
  // Past half as many again as it keeps, a key keeps its newest: one sort shared by that many sightings.
  if (counts.lastSeen.size >= counts.keep + Math.ceil(counts.keep / 2)) {
    const byAge = [...counts.lastSeen].sort((a, b) => a[1] - b[1]);
    const dropped = byAge.length - counts.keep;
    counts.droppedMs = Math.max(counts.droppedMs, byAge[dropped - 1]![1]);
    counts.lastSeen.clear();
    for (const [value, lastMs] of byAge.slice(dropped)) counts.lastSeen.set(value, lastMs);
  }
}

/** Calls in the window's seconds: after the second (atMs − windowMs) falls in, as the earlier SQL counted them. */
function eventsIn(events: EventCounts, atMs: number, windowMs: number): number {
  const after = Math.floor((atMs - windowMs) / 1000);
  let count = 0;
  for (let index = events.seconds.length - 2; index >= 0 && events.seconds[index]! > after; index -= 2) count += events.seconds[index + 1]!;
  return count;
}

/** Values last seen after the window's start (atMs − windowMs), up to `cap`. */
function distinctIn(distinct: DistinctValues, atMs: number, windowMs: number, cap: number): number {
  const after = atMs - windowMs;
  let count = 0;
  for (const lastMs of distinct.lastSeen.values()) {
    if (lastMs > after && ++count >= cap) break;
  }
  return count;
}

const isFiniteNumber = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value);

function keyCountsOf(entry: unknown): KeyCounts | null {
  if (!Array.isArray(entry) || typeof entry[0] !== "string" || !isFiniteNumber(entry[1]) || !isFiniteNumber(entry[2])) return null;
  const [, windowMs, newestMs] = entry as [string, number, number];
  if (entry.length === 4 && Array.isArray(entry[3]) && entry[3].length % 2 === 0 && entry[3].every(isFiniteNumber)) return { windowMs, newestMs, movedMs: newestMs, seconds: entry[3] as number[] };
  if (entry.length !== 6 || !isFiniteNumber(entry[3]) || !Array.isArray(entry[4]) || entry[4].length % 2 !== 0 || !(entry[5] === null || isFiniteNumber(entry[5]))) return null;
  const lastSeen = new Map<string, number>();
  const pairs = entry[4] as unknown[];
  for (let index = 0; index < pairs.length; index += 2) {
    const [value, lastMs] = [pairs[index], pairs[index + 1]];
    if (typeof value !== "string" || !isFiniteNumber(lastMs)) return null;
    lastSeen.set(value, lastMs);
  }
  return { windowMs, newestMs, movedMs: newestMs, keep: entry[3] as number, lastSeen, droppedMs: (entry[5] as number | null) ?? Number.NEGATIVE_INFINITY };
}
