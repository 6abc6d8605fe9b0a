import { describe, expect, it } from "vitest";
import { collectionsBetween, heapAfter, type TracedCollection } from "../../../bench/lib/workerd";

const WORKER = "0xworker";
const D1 = "0xd1";
const scavenges = (isolate: string, heapMB: number, from: number, to: number, every: number): TracedCollection[] =>
  Array.from({ length: Math.floor((to - from) / every) }, (_, index) => ({ at: from + index * every, isolate, pauseMs: null, heapMB }));

describe("bench: a window's full collections are the Worker isolate's", () => {
  it("takes the isolate with the largest heap in the window, though Miniflare's D1 isolate collected more often", () => {
    const collections = [
      // Seeding, before the window: the D1 isolate busy.
      ...scavenges(D1, 3, 0, 10_000, 10),
      // The window: D1 collects more often than the Worker, whose heap holds the rules.
      ...scavenges(D1, 3, 20_000, 50_000, 50),
      ...scavenges(WORKER, 40, 20_000, 50_000, 100),
      { at: 30_000, isolate: WORKER, pauseMs: 210, heapMB: 18 },
      { at: 42_000, isolate: WORKER, pauseMs: 180, heapMB: 19 },
      { at: 45_000, isolate: D1, pauseMs: 12, heapMB: 1 },
      // After the window.
      { at: 55_000, isolate: WORKER, pauseMs: 300, heapMB: 18 },
    ];
    expect(collectionsBetween(collections, 20_000, 50_000)).toEqual({ count: 2, maxPauseMs: 210, totalPauseMs: 390, atSeconds: [10, 22] });
  });

  it("reports none for a window in which the Worker made no full collection", () => {
    const collections = [...scavenges(WORKER, 20, 0, 30_000, 100), { at: 12_000, isolate: D1, pauseMs: 12, heapMB: 1 }];
    expect(collectionsBetween(collections, 0, 30_000)).toEqual({ count: 0, maxPauseMs: 0, totalPauseMs: 0, atSeconds: [] });
  });
});

describe("bench: the heap after a traced collection", () => {
  it("reads V8's plain trace and its JSON trace (BENCH_TRACE_GC=phases), so either picks the Worker's isolate", () => {
    expect(heapAfter("[12:0x3e00]    45822 ms: Mark-Compact 60.9 (98.1) -> 18.2 (90.5) MB, pooled: 2.2 MB, 227.10 / 0.00 ms")).toBe(18.2);
    expect(heapAfter("[12:0x3e00]    4582 ms: Scavenge 20.1 (24.0) -> 19.5 (25.0) MB, 1.20 / 0.00 ms")).toBe(19.5);
    expect(heapAfter('[12:0x3e00]    45822 ms: GC: {"gc":"mc","pause":227.1,"start_object_size":63858278,"end_object_size":19084083}')).toBeCloseTo(18.2, 1);
    expect(heapAfter('[12:0x3e00]    4582 ms: GC: {"gc":"s","pause":1.2,"end_object_size": 20447232}')).toBeCloseTo(19.5, 1);
    expect(heapAfter("[12:0x3e00]    4582 ms: something else")).toBe(0);
  });
});
