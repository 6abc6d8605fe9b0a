import type { StoreWait } from "../rules/store";
import { decodeRuleBase, encodeRuleBase } from "../rules/base-encoding";
import type { RuleBase } from "../rules/matcher";
import { CONFIG_SECTION_SCHEMAS, CONFIG_SECTIONS, defaultSection, type OperatorConfig } from "./config/sections";

/**
 * The last good operator configuration and compiled rule base, saved in KV (`ORIGIN_SNAPSHOTS`) for a
 * fresh isolate: it loads the rule base as one value instead of paging every rule out of D1, and when
 * D1 is down it still applies the operator's allow-list, ingress map, policy and rules as they were
 * saved, instead of defaults that are nobody's configuration (issue 22 item 4). Both are versioned
 * with the origin version they were read at.
 *
 *   origin/config                      {format, version, homeCountry, savedAt, config}
 *   origin/rule-base                   {format, version, parts, bytes, savedAt}: which base is current
 *   origin/rule-base/<version>/<part>  the encoded base (src/rules/base-encoding.ts), in parts under KV's 25 MiB value limit
 */
const CONFIG_KEY = "origin/config";
const BASE_KEY = "origin/rule-base";
const basePartKey = (version: number, part: number) => `${BASE_KEY}/${version}/${part}`;
const PART_BYTES = 16 * 1024 * 1024;
const FORMAT = 1;

export interface SavedConfig {
  version: number;
  homeCountry: string;
  savedAt: number;
  config: OperatorConfig;
}

interface SavedBasePointer {
  format: typeof FORMAT;
  version: number;
  parts: number;
  bytes: number;
  savedAt: number;
}

/**
 * Saves the configuration unless a newer one is saved already. An isolate that compiled a base saves
 * the configuration it read then, in the background; an admin write saves the one it made. Landing
 * after the admin's, the older copy would be what a fresh isolate applies while D1 is down. KV has no
 * compare-and-set, so this narrows that race to the moment between the read and the write.
 */
export async function saveConfig(kv: KVNamespace, saved: SavedConfig): Promise<void> {
  const held = await kv.get<{ format?: number; version?: number }>(CONFIG_KEY, "json").catch(() => null);
  if (held?.format === FORMAT && typeof held.version === "number" && held.version > saved.version) return;
  await kv.put(CONFIG_KEY, JSON.stringify({ format: FORMAT, ...saved }));
}

/** The saved configuration, if one was saved for this home country and every section still validates. */
export async function readSavedConfig(kv: KVNamespace, homeCountry: string, wait: StoreWait): Promise<SavedConfig | null> {
  const saved = await wait(kv.get<SavedConfig & { format: number }>(CONFIG_KEY, "json"));
  if (!saved || saved.format !== FORMAT || saved.homeCountry !== homeCountry) return null;
  // A record without its configuration (cut short, or written by something else) is no saved copy: read
  // section by section it would be every default, nobody's configuration (issue 22 item 4).
  if (typeof saved.config !== "object" || saved.config === null || Array.isArray(saved.config) || typeof saved.version !== "number") return null;
  const config = {} as Record<string, unknown>;
  for (const section of CONFIG_SECTIONS) {
    // A section added since the copy was saved takes its default, as one never written does.
    const document = saved.config?.[section];
    const parsed = document === undefined ? { success: true as const, data: defaultSection(section, homeCountry) } : CONFIG_SECTION_SCHEMAS[section].safeParse(document);
    if (!parsed.success) return null;
    config[section] = parsed.data;
  }
  return { version: saved.version, homeCountry, savedAt: saved.savedAt, config: config as OperatorConfig };
}

async function newerBaseSaved(kv: KVNamespace, version: number): Promise<boolean> {
  const pointer = await kv.get<SavedBasePointer>(BASE_KEY, "json");
  return pointer?.format === FORMAT && pointer.version > version;
}

/** The version of the saved rule base, without reading it. */
export async function savedRuleBaseVersion(kv: KVNamespace, wait: StoreWait): Promise<number | null> {
  const pointer = await wait(kv.get<SavedBasePointer>(BASE_KEY, "json"));
  return pointer?.format === FORMAT ? pointer.version : null;
}

export async function readSavedRuleBase(kv: KVNamespace, wait: StoreWait): Promise<RuleBase | null> {
  const pointer = await wait(kv.get<SavedBasePointer>(BASE_KEY, "json"));
  if (pointer?.format !== FORMAT) return null;
  const parts = await Promise.all(Array.from({ length: pointer.parts }, (_, part) => wait(kv.get(basePartKey(pointer.version, part), "arrayBuffer"))));
  if (parts.some((part) => part === null)) return null; // replaced by a newer base while we read
  const bytes = new Uint8Array(pointer.bytes);
  let offset = 0;
  for (const part of parts) {
    bytes.set(new Uint8Array(part!), offset);
    offset += part!.byteLength;
  }
  return decodeRuleBase(bytes);
}

/**
 * Saves the base, points readers at it, then removes the one it replaces; a base older than the one
 * saved meanwhile (by an isolate that compiled later) takes its parts back instead of the pointer.
 */
export async function saveRuleBase(kv: KVNamespace, base: RuleBase, savedAt: number): Promise<void> {
  const bytes = await encodeRuleBase(base);
  if (await newerBaseSaved(kv, base.version)) return;
  const previous = await kv.get<SavedBasePointer>(BASE_KEY, "json");
  const parts = Math.max(1, Math.ceil(bytes.length / PART_BYTES));
  for (let part = 0; part < parts; part++) await kv.put(basePartKey(base.version, part), bytes.subarray(part * PART_BYTES, (part + 1) * PART_BYTES));
  if (await newerBaseSaved(kv, base.version)) {
    await Promise.all(Array.from({ length: parts }, (_, part) => kv.delete(basePartKey(base.version, part))));
    return;
  }
  const pointer: SavedBasePointer = { format: FORMAT, version: base.version, parts, bytes: bytes.length, savedAt };
  await kv.put(BASE_KEY, JSON.stringify(pointer));
  if (previous && previous.version !== base.version) {
    await Promise.all(Array.from({ length: previous.parts }, (_, part) => kv.delete(basePartKey(previous.version, part))));
  }
}
