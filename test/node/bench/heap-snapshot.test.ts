import { describe, expect, it } from "vitest";
import { formatHeapByKind, heapByKind, type HeapSnapshot } from "../../../bench/lib/heap-snapshot";

/** A snapshot in V8's layout: six fields a node, names and types by index. */
function snapshotOf(nodes: [type: string, name: string, bytes: number][]): HeapSnapshot {
  const types = ["hidden", "array", "string", "object", "code", "closure", "native"];
  const strings: string[] = [];
  const flat: number[] = [];
  for (const [type, name, bytes] of nodes) {
    strings.push(name);
    flat.push(types.indexOf(type), strings.length - 1, flat.length / 6 + 1, bytes, 0, 0);
  }
  return { snapshot: { meta: { node_fields: ["type", "name", "id", "self_size", "edge_count", "detachedness"], node_types: [types] } }, nodes: flat, strings };
}

describe("bench: a heap snapshot by kind", () => {
  const source = "export default { fetch() {} } // and 100 KiB more of the bundle";
  const { total, kinds } = heapByKind(
    snapshotOf([
      ["string", source, 200 * 1024],
      ["string", "a", 16],
      ["string", "b", 16],
      ["object", "LRUCache", 400],
      ["object", "LRUCache", 600],
      ["code", "(bytecode)", 1_000],
      ["array", "", 50_000],
    ]),
  );

  it("sums self sizes by constructor or node type, largest first, each big string on its own line", () => {
    expect(total).toBe(200 * 1024 + 32 + 1_000 + 1_000 + 50_000);
    expect(kinds).toEqual([
      { kind: `(string) ${JSON.stringify(source.slice(0, 60))}…`, bytes: 200 * 1024, count: 1 },
      { kind: "(array)", bytes: 50_000, count: 1 },
      { kind: "LRUCache", bytes: 1_000, count: 2 },
      { kind: "(code)", bytes: 1_000, count: 1 },
      { kind: "(string)", bytes: 32, count: 2 },
    ]);
  });

  it("prints MiB and counts, the largest kinds only", () => {
    const lines = formatHeapByKind({ total, kinds }, 2).split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe("live heap   0.24 MiB");
    expect(lines[2]).toMatch(/^ {2}0\.05 MiB +1 {2}\(array\)$/);
  });
});
