import { yieldToEventLoop } from "../lib/yield";
import { KeyedRuleIndex, type KeyedColumns } from "./keyed-index";
import { RuleMatcherBuilder, type KeyedCriterion, type RuleBase } from "./matcher";
import type { Rule } from "./rule";

/**
 * A compiled rule base as one byte string, for the copy a fresh isolate loads instead of paging a
 * million rows out of D1 (src/origin/saved-snapshot.ts). The keyed indexes go as their typed arrays,
 * so loading them is a copy, not a compile; rules held whole go as JSON lines, compiled in slices.
 *
 *   u32 (little-endian) header length · header JSON · zero padding to a multiple of 8
 *   for cli, then destination: keys (f64 × n) · expiries (f64 × n)
 *   id hashes of cli (u32 × n) · id hashes of destination (u32 × m)
 *   actions of cli (u8 × n) · actions of destination (u8 × m)
 *   rules held whole, one JSON object per line
 *
 * Format 3 added the id hashes (21 bytes a keyed rule; format 2 had 17). A base of another format is
 * refused (RuleBaseEncodingError): the isolate compiles one from D1 as if none were saved, and the one
 * holding the build lease saves it over the old (src/origin/snapshot.ts).
 */
interface BaseHeader {
  format: typeof FORMAT;
  version: number;
  keyed: Record<KeyedCriterion, number>;
  wholeRules: number;
}

const FORMAT = "shaken-edge rule base 3";
/** Bytes a keyed rule takes: key and expiry (f64), id hash (u32), action (u8). */
const KEYED_ENTRY_BYTES = 21;
const CRITERIA: KeyedCriterion[] = ["cli", "destination"];
/** Rules held whole encoded or compiled between two turns of the event loop. */
const RULES_PER_SLICE = 2_000;

const align8 = (offset: number) => Math.ceil(offset / 8) * 8;

export class RuleBaseEncodingError extends Error {
  readonly code = "ERR_RULE_BASE_ENCODING";
}

/** Encodes the base; the rules held whole are written in slices, with a turn of the event loop between them. */
export async function encodeRuleBase(base: RuleBase): Promise<Uint8Array> {
  const encoder = new TextEncoder();
  const header: BaseHeader = { format: FORMAT, version: base.version, keyed: { cli: base.keyed.cli.size, destination: base.keyed.destination.size }, wholeRules: base.wholeRules.length };
  const headerBytes = encoder.encode(JSON.stringify(header));
  const wholeSlices: Uint8Array[] = [];
  for (let start = 0; start < base.wholeRules.length; start += RULES_PER_SLICE) {
    if (start > 0) await yieldToEventLoop();
    wholeSlices.push(encoder.encode(base.wholeRules.slice(start, start + RULES_PER_SLICE).map((rule) => `${JSON.stringify(rule)}\n`).join("")));
  }
  const keyedStart = align8(4 + headerBytes.length);
  const keyedEntries = header.keyed.cli + header.keyed.destination;
  const bytes = new Uint8Array(keyedStart + keyedEntries * KEYED_ENTRY_BYTES + wholeSlices.reduce((sum, slice) => sum + slice.length, 0));
  new DataView(bytes.buffer).setUint32(0, headerBytes.length, true);
  bytes.set(headerBytes, 4);
  let offset = keyedStart;
  const write = (column: Uint8Array) => {
    bytes.set(column, offset);
    offset += column.length;
  };
  for (const criterion of CRITERIA) {
    for (const column of [base.keyed[criterion].columns.keys, base.keyed[criterion].columns.expiries]) write(new Uint8Array(column.buffer, column.byteOffset, column.byteLength));
  }
  for (const criterion of CRITERIA) {
    const { idHashes } = base.keyed[criterion].columns;
    write(new Uint8Array(idHashes.buffer, idHashes.byteOffset, idHashes.byteLength));
  }
  for (const criterion of CRITERIA) write(base.keyed[criterion].columns.actions);
  for (const slice of wholeSlices) write(slice);
  return bytes;
}

/**
 * The base `encodeRuleBase` wrote. `bytes` must start at a multiple of 8 in its buffer (a buffer read
 * from KV, or one the parts were copied into, does). Every column is copied out, so the bytes can go.
 */
export async function decodeRuleBase(bytes: Uint8Array): Promise<RuleBase> {
  if (bytes.byteOffset % 8 !== 0 || bytes.length < 4) throw new RuleBaseEncodingError("saved rule base is truncated or misaligned");
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  let header: BaseHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + headerLength))) as BaseHeader;
  } catch {
    throw new RuleBaseEncodingError("saved rule base has no readable header");
  }
  if (header.format !== FORMAT) throw new RuleBaseEncodingError(`saved rule base has format ${JSON.stringify(header.format)}, not ${JSON.stringify(FORMAT)}`);
  let offset = align8(4 + headerLength);
  if (offset + (header.keyed.cli + header.keyed.destination) * KEYED_ENTRY_BYTES > bytes.length) throw new RuleBaseEncodingError("saved rule base is shorter than its header says");
  const float64s = (count: number) => {
    const column = new Float64Array(bytes.buffer, bytes.byteOffset + offset, count).slice();
    offset += count * 8;
    return column;
  };
  // The id hashes start at a multiple of 8 too: after the header's padding, eight bytes a key or an expiry.
  const uint32s = (count: number) => {
    const column = new Uint32Array(bytes.buffer, bytes.byteOffset + offset, count).slice();
    offset += count * 4;
    return column;
  };
  const keysAndExpiries = {} as Record<KeyedCriterion, Pick<KeyedColumns, "keys" | "expiries">>;
  for (const criterion of CRITERIA) keysAndExpiries[criterion] = { keys: float64s(header.keyed[criterion]), expiries: float64s(header.keyed[criterion]) };
  const idHashes = {} as Record<KeyedCriterion, Uint32Array>;
  for (const criterion of CRITERIA) idHashes[criterion] = uint32s(header.keyed[criterion]);
  const keyed = {} as Record<KeyedCriterion, KeyedRuleIndex>;
  for (const criterion of CRITERIA) {
    keyed[criterion] = new KeyedRuleIndex({ ...keysAndExpiries[criterion], idHashes: idHashes[criterion], actions: bytes.slice(offset, offset + header.keyed[criterion]) });
    offset += header.keyed[criterion];
  }
  const whole = new RuleMatcherBuilder();
  const wholeRules: Rule[] = [];
  const decoder = new TextDecoder();
  for (let start = offset; start < bytes.length; ) {
    const end = bytes.indexOf(0x0a, start);
    const rule = JSON.parse(decoder.decode(bytes.subarray(start, end === -1 ? bytes.length : end))) as Rule;
    whole.add(rule);
    wholeRules.push(rule);
    start = end === -1 ? bytes.length : end + 1;
    if (wholeRules.length % RULES_PER_SLICE === 0) await yieldToEventLoop();
  }
  if (wholeRules.length !== header.wholeRules) throw new RuleBaseEncodingError(`saved rule base holds ${wholeRules.length} whole rules, its header says ${header.wholeRules}`);
  return { version: header.version, whole: whole.build(), wholeRules, keyed };
}
