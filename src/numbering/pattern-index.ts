import type { NumberPattern } from "./number-pattern";

/**
 * Finds every entry whose number pattern covers a TN without scanning the entries: a digit trie for
 * exact numbers and prefixes (cost grows with the TN's length, not the entry count) and, per TN
 * length, a static centred interval tree for ranges (O(log n + matches)). Operator rule sets reach
 * tens of thousands of entries and are consulted on every call.
 */
export interface PatternIndex<T> {
  readonly size: number;
  /** Every value whose pattern covers `tn`, exact/prefix matches first (longest prefix last). */
  matching(tn: string): T[];
}

interface TrieNode<T> {
  children: Map<string, TrieNode<T>>;
  /** Values whose prefix ends at this node. */
  underPrefix: T[];
  /** Values whose exact number ends at this node. */
  exactly: T[];
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

const newTrieNode = <T>(): TrieNode<T> => ({ children: new Map(), underPrefix: [], exactly: [] });

export function buildPatternIndex<T>(entries: Iterable<{ pattern: NumberPattern; value: T }>): PatternIndex<T> {
  const root = newTrieNode<T>();
  const rangesByLength = new Map<number, Interval<T>[]>();
  let size = 0;
  for (const { pattern, value } of entries) {
    size++;
    if ("from" in pattern) {
      // 15 digits stay below 2^53, so a TN of one length compares exactly as a double.
      const ranges = rangesByLength.get(pattern.from.length) ?? [];
      ranges.push({ low: Number(pattern.from), high: Number(pattern.to), value });
      rangesByLength.set(pattern.from.length, ranges);
      continue;
    }
    const digits = "exact" in pattern ? pattern.exact : pattern.prefix;
    let node = root;
    for (const digit of digits) {
      let child = node.children.get(digit);
      if (!child) node.children.set(digit, (child = newTrieNode<T>()));
      node = child;
    }
    ("exact" in pattern ? node.exactly : node.underPrefix).push(value);
  }
  const treesByLength = new Map([...rangesByLength].map(([length, ranges]) => [length, buildIntervalTree(ranges)]));

  return {
    size,
    matching(tn) {
      const found: T[] = [];
      let node: TrieNode<T> | undefined = root;
      for (const digit of tn) {
        node = node.children.get(digit);
        if (!node) break;
        found.push(...node.underPrefix);
      }
      if (node) found.push(...node.exactly);
      const tree = treesByLength.get(tn.length);
      if (tree && /^[0-9]+$/.test(tn)) collectCovering(tree, Number(tn), found);
      return found;
    },
  };
}

function buildIntervalTree<T>(intervals: Interval<T>[]): IntervalNode<T> | null {
  if (intervals.length === 0) return null;
  const endpoints = intervals.flatMap((interval) => [interval.low, interval.high]).sort((a, b) => a - b);
  const centre = endpoints[endpoints.length >> 1]!;
  const here: Interval<T>[] = [];
  const below: Interval<T>[] = [];
  const above: Interval<T>[] = [];
  for (const interval of intervals) {
    if (interval.high < centre) below.push(interval);
    else if (interval.low > centre) above.push(interval);
    else here.push(interval);
  }
  return {
    centre,
    byLow: [...here].sort((a, b) => a.low - b.low),
    byHighDescending: [...here].sort((a, b) => b.high - a.high),
    below: buildIntervalTree(below),
    above: buildIntervalTree(above),
  };
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
