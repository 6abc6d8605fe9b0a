import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Inspector } from "./inspector";

/**
 * What a V8 heap snapshot (`.heapsnapshot`, the DevTools format) holds, by kind: the live heap that sets
 * how far V8 lets the old generation grow before its next full collection, and so how long that
 * collection's pause is (BENCHMARKS.md "The half-rate tail").
 */
export interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export interface HeapKind {
  kind: string;
  bytes: number;
  count: number;
}

const NAMED = new Set(["object", "closure", "native", "hidden"]);

/**
 * Self sizes summed by kind: an object by its constructor's name, anything else by V8's node type
 * ("string", "code", "array", …), with each string of 64 KiB or more (a script's source, mostly) on a
 * line of its own, since one such string can be a quarter of the heap.
 */
export function heapByKind(snapshot: HeapSnapshot): { total: number; kinds: HeapKind[] } {
  const fields = snapshot.snapshot.meta.node_fields;
  const width = fields.length;
  const [typeAt, nameAt, sizeAt] = ["type", "name", "self_size"].map((field) => fields.indexOf(field)) as [number, number, number];
  const types = snapshot.snapshot.meta.node_types[0];
  const kinds = new Map<string, HeapKind>();
  let total = 0;
  for (let at = 0; at < snapshot.nodes.length; at += width) {
    const type = types[snapshot.nodes[at + typeAt]!] ?? "?";
    const name = snapshot.strings[snapshot.nodes[at + nameAt]!] ?? "";
    const bytes = snapshot.nodes[at + sizeAt]!;
    total += bytes;
    const kind =
      type === "string" && bytes >= 64 * 1024 ? `(string) ${JSON.stringify(name.slice(0, 60))}…`
      : NAMED.has(type) ? name.slice(0, 60) || `(${type})`
      : `(${type})`;
    const entry = kinds.get(kind) ?? { kind, bytes: 0, count: 0 };
    entry.bytes += bytes;
    entry.count += 1;
    kinds.set(kind, entry);
  }
  return { total, kinds: [...kinds.values()].sort((a, b) => b.bytes - a.bytes) };
}

export function formatHeapByKind({ total, kinds }: { total: number; kinds: HeapKind[] }, top = 25): string {
  const MiB = (bytes: number) => (bytes / 1024 / 1024).toFixed(2).padStart(6);
  return [`live heap ${MiB(total)} MiB`, ...kinds.slice(0, top).map(({ kind, bytes, count }) => `${MiB(bytes)} MiB ${String(count).padStart(8)}  ${kind}`)].join("\n");
}

/**
 * Takes a heap snapshot of the isolate behind `inspector` and writes it to `file`. V8 collects garbage
 * before it takes the snapshot; the command runs when the isolate gets a turn, which `poke` (a request
 * or two) gives it.
 */
export async function takeHeapSnapshot(inspector: Inspector, file: string, poke: () => Promise<unknown>): Promise<HeapSnapshot> {
  const chunks: string[] = [];
  inspector.on("HeapProfiler.addHeapSnapshotChunk", (params) => chunks.push(String(params.chunk)));
  const taken = inspector.send("HeapProfiler.takeHeapSnapshot", { reportProgress: false, captureNumericValue: false });
  await poke();
  await taken;
  const text = chunks.join("");
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  return JSON.parse(text) as HeapSnapshot;
}
