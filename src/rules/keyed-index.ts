import { fnv1a32 } from "../lib/fnv1a";
import { isRuleActive } from "./rule";
import { ACTIONS, type Action, type EnforcementMode } from "../verdict/verdict";

/**
 * Exact-number rules — one CLI or one called number and no other criterion, the bulk of what analysts
 * add after subscriber reports — held as parallel typed arrays sorted by number instead of as objects:
 * 21 bytes a rule, so a million of them take 21 MB of an isolate's 128 MB (a rule object with its
 * strings takes hundreds). The index says which numbers have rules, with each rule's action, expiry
 * and a hash of its id; the rule itself (id, reason, label) is read from the store only when a call
 * hits one.
 */

/**
 * A TN as one exact double: its digits behind a leading 1, so that `0123` and `123` differ and shorter
 * numbers order first; 16 digits stay below 2^53. The same key as migrations/0012's `cli_key` and
 * `destination_key`, by which the store pages the index out in order and reads a hit's rules.
 */
export function numberKey(tn: string): number | null {
  return /^[0-9]{1,15}$/.test(tn) ? Number(`1${tn}`) : null;
}

/** What the index keeps of one rule: enough to enforce it while its details cannot be read. */
export interface RuleHead {
  action: Action;
  mode: EnforcementMode;
  /** Epoch ms; null = until removed. */
  expiresAt: number | null;
  /** `ruleIdHash` of the rule's id: which rule it was, to tell the ones changed or deleted since (src/rules/matcher.ts). */
  idHash: number;
}

/**
 * A rule's id as the index keeps it: FNV-1a over the id, 32 bits (4 bytes a rule, where the UUID is 36
 * characters). It only ever drops a head: a rule whose id collides with one changed or deleted since
 * the base was compiled is not enforced as the index remembers it while the store cannot be read, and
 * is enforced again once the store answers or the next base is compiled. With the under 1 000 changes
 * an isolate holds before it compiles a new base, a head collides less than once in four million.
 */
export const ruleIdHash = (id: string): number => fnv1a32(id);

const NEVER = Number.POSITIVE_INFINITY;

/** The four columns, as the saved copy stores them (src/origin/saved-snapshot.ts). */
export interface KeyedColumns {
  keys: Float64Array;
  /** Epoch ms, +Infinity for none. */
  expiries: Float64Array;
  /** `ruleIdHash` of each rule's id. */
  idHashes: Uint32Array;
  /** Index into ACTIONS, with MONITORED set for a rule in monitor mode. */
  actions: Uint8Array;
}

/** The bit of an `actions` byte that marks a monitored rule (ACTIONS' indexes take the low bits). */
const MONITORED = 0x80;

export class KeyedRuleIndex {
  constructor(readonly columns: KeyedColumns) {}

  get size(): number {
    return this.columns.keys.length;
  }

  /** The rules on `tn` still in force at `atMs` (expiry is judged per call, like every rule's). */
  activeHeads(tn: string, atMs: number): RuleHead[] {
    const key = numberKey(tn);
    const heads: RuleHead[] = [];
    if (key === null) return heads;
    const { keys, expiries, idHashes, actions } = this.columns;
    for (let index = lowerBound(keys, key); index < keys.length && keys[index] === key; index++) {
      const byte = actions[index]!;
      const head: RuleHead = { action: ACTIONS[byte & ~MONITORED]!, mode: byte & MONITORED ? "monitor" : "enforce", expiresAt: expiries[index] === NEVER ? null : expiries[index]!, idHash: idHashes[index]! };
      if (isRuleActive(head, atMs)) heads.push(head);
    }
    return heads;
  }
}

/** The first index whose key is not below `key`. */
function lowerBound(keys: Float64Array, key: number): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (keys[middle]! < key) low = middle + 1;
    else high = middle;
  }
  return low;
}

const INITIAL_CAPACITY = 1_024;

/**
 * Collects rules one at a time into growing typed arrays. The store pages them out already sorted by
 * key (migrations/0012's index), so building costs no sort; rules appended out of order are sorted once.
 */
export class KeyedRuleIndexBuilder {
  private keys = new Float64Array(INITIAL_CAPACITY);
  private expiries = new Float64Array(INITIAL_CAPACITY);
  private idHashes = new Uint32Array(INITIAL_CAPACITY);
  private actions = new Uint8Array(INITIAL_CAPACITY);
  private length = 0;
  private sorted = true;

  append(key: number, { action, mode, expiresAt, idHash }: RuleHead): void {
    if (this.length === this.keys.length) this.grow();
    if (this.length > 0 && key < this.keys[this.length - 1]!) this.sorted = false;
    this.keys[this.length] = key;
    this.expiries[this.length] = expiresAt ?? NEVER;
    this.idHashes[this.length] = idHash;
    this.actions[this.length] = ACTIONS.indexOf(action) | (mode === "monitor" ? MONITORED : 0);
    this.length++;
  }

  /** The index over the arrays as they are (a view: no copy of a million entries while verdicts wait). */
  build(): KeyedRuleIndex {
    const { length } = this;
    if (this.sorted) {
      return new KeyedRuleIndex({ keys: this.keys.subarray(0, length), expiries: this.expiries.subarray(0, length), idHashes: this.idHashes.subarray(0, length), actions: this.actions.subarray(0, length) });
    }
    const order = new Uint32Array(length).map((_, index) => index).sort((a, b) => this.keys[a]! - this.keys[b]! || a - b);
    return new KeyedRuleIndex({
      keys: Float64Array.from(order, (index) => this.keys[index]!),
      expiries: Float64Array.from(order, (index) => this.expiries[index]!),
      idHashes: Uint32Array.from(order, (index) => this.idHashes[index]!),
      actions: Uint8Array.from(order, (index) => this.actions[index]!),
    });
  }

  /** By half again: what the arrays hold beyond the entries stays under half of them. */
  private grow(): void {
    const capacity = Math.ceil(this.keys.length * 1.5);
    const keys = new Float64Array(capacity);
    const expiries = new Float64Array(capacity);
    const idHashes = new Uint32Array(capacity);
    const actions = new Uint8Array(capacity);
    keys.set(this.keys);
    expiries.set(this.expiries);
    idHashes.set(this.idHashes);
    actions.set(this.actions);
    this.keys = keys;
    this.expiries = expiries;
    this.idHashes = idHashes;
    this.actions = actions;
  }
}
