import { appendAll } from "../lib/arrays";
import type { NumberPattern } from "./number-pattern";

/**
 * Finds every entry whose number pattern covers a TN without scanning the entries: exact numbers and
 * prefixes in hash maps, looked up by the TN and by each of its leading parts of a length some prefix
 * has (cost grows with the TN's length, not the entry count), and, per TN length, a static centred
 * interval tree for ranges (O(log n + matches)). Operator rule sets reach hundreds of thousands of
 * entries and are consulted on every call, so nothing here recurses or spreads a list of entries into
 * a call's arguments (200 000 rules under one prefix overflowed the stack that way).
 */
export interface PatternIndex<T> {
  readonly size: number;
  /** Every value whose pattern covers `tn`: prefixes from the shortest, then exact numbers, then ranges. */
  matching(tn: string): T[];
}

interface Interval<T> {
  low: number;
  high: number;
  value: T;
}

interface IntervalNode<T> {
  centre: number;
  byLow: Interval<T>[];
  byHighDescending: Interval<T>[];
  below: IntervalNode<T> | null;
  above: IntervalNode<T> | null;
}

/** Collects entries one at a time (a compile adds them page by page), then builds the index once. */
export class PatternIndexBuilder<T> {
  private readonly exact = new Map<string, T[]>();
  private readonly prefixes = new Map<string, T[]>();
  private readonly rangesByLength = new Map<number, Interval<T>[]>();
  private size = 0;

  add(pattern: NumberPattern, value: T): void {
    this.size++;
    if ("exact" in pattern) appendTo(this.exact, pattern.exact, value);
    else if ("prefix" in pattern) appendTo(this.prefixes, pattern.prefix, value);
    // 15 digits stay below 2^53, so a TN of one length compares exactly as a double.
    else appendTo(this.rangesByLength, pattern.from.length, { low: Number(pattern.from), high: Number(pattern.to), value });
  }

  build(): PatternIndex<T> {
    const { exact, prefixes, size } = this;
    const prefixLengths = [...new Set([...prefixes.keys()].map((prefix) => prefix.length))].sort((a, b) => a - b);
    const treesByLength = new Map<number, IntervalNode<T>>();
    for (const [length, ranges] of this.rangesByLength) treesByLength.set(length, buildIntervalTree(ranges));
    return {
      size,
      matching(tn) {
        const found: T[] = [];
        for (const length of prefixLengths) {
          if (length > tn.length) break;
          const underPrefix = prefixes.get(tn.slice(0, length));
          if (underPrefix) appendAll(found, underPrefix);
        }
        const exactly = exact.get(tn);
        if (exactly) appendAll(found, exactly);
        const tree = treesByLength.get(tn.length);
        if (tree && /^[0-9]+$/.test(tn)) collectCovering(tree, Number(tn), found);
        return found;
      },
    };
  }
}

export function buildPatternIndex<T>(entries: Iterable<{ pattern: NumberPattern; value: T }>): PatternIndex<T> {
  const builder = new PatternIndexBuilder<T>();
  for (const { pattern, value } of entries) builder.add(pattern, value);
  return builder.build();
}

function appendTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/**
 * The centred interval tree, built from a work list instead of by recursion: each node keeps the
 * intervals containing its centre (the median endpoint) and hands the rest to a node below or above.
 */
function buildIntervalTree<T>(intervals: Interval<T>[]): IntervalNode<T> {
  let root: IntervalNode<T> | null = null;
  const work: { intervals: Interval<T>[]; attach: (node: IntervalNode<T>) => void }[] = [{ intervals, attach: (node) => (root = node) }];
  for (let next = work.pop(); next; next = work.pop()) {
    const centre = medianEndpoint(next.intervals);
    const here: Interval<T>[] = [];
    const below: Interval<T>[] = [];
    const above: Interval<T>[] = [];
    for (const interval of next.intervals) {
      if (interval.high < centre) below.push(interval);
      else if (interval.low > centre) above.push(interval);
      else here.push(interval);
    }
    const node: IntervalNode<T> = { centre, byLow: here.sort((a, b) => a.low - b.low), byHighDescending: here.slice().sort((a, b) => b.high - a.high), below: null, above: null };
    next.attach(node);
    if (below.length > 0) work.push({ intervals: below, attach: (child) => (node.below = child) });
    if (above.length > 0) work.push({ intervals: above, attach: (child) => (node.above = child) });
  }
  return root!;
}

function medianEndpoint(intervals: Interval<unknown>[]): number {
  const endpoints = new Float64Array(intervals.length * 2);
  intervals.forEach((interval, index) => {
    endpoints[2 * index] = interval.low;
    endpoints[2 * index + 1] = interval.high;
  });
  return endpoints.sort()[intervals.length]!;
}

function collectCovering<T>(root: IntervalNode<T>, point: number, found: T[]): void {
  let node: IntervalNode<T> | null = root;
  while (node) {
    if (point < node.centre) {
      for (const interval of node.byLow) {
        if (interval.low > point) break;
        found.push(interval.value);
      }
      node = node.below;
    } else {
      for (const interval of node.byHighDescending) {
        if (interval.high < point) break;
        found.push(interval.value);
      }
      node = point === node.centre ? null : node.above;
    }
  }
}
