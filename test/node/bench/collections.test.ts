import { describe, expect, it } from "vitest";
import { collectionsBetween, type TracedCollection } from "../../../bench/lib/workerd";

const WORKER = "0xworker";
const D1 = "0xd1";
const scavenges = (isolate: string, from: number, to: number, every: number): TracedCollection[] =>
  Array.from({ length: Math.floor((to - from) / every) }, (_, index) => ({ at: from + index * every, isolate, pauseMs: null }));

describe("bench: a window's full collections are the Worker isolate's", () => {
  it("takes the isolate that collected most inside the window, though another collected more over the process's life", () => {
    const collections = [
      // Seeding: Miniflare's D1 isolate busy long before the window.
      ...scavenges(D1, 0, 10_000, 10),
      { at: 5_000, isolate: D1, pauseMs: 15 },
      // The window: the Worker collects often and pauses twice; D1 collects now and then.
      ...scavenges(WORKER, 20_000, 50_000, 100),
      ...scavenges(D1, 20_000, 50_000, 1_000),
      { at: 30_000, isolate: WORKER, pauseMs: 210 },
      { at: 42_000, isolate: WORKER, pauseMs: 180 },
      { at: 45_000, isolate: D1, pauseMs: 12 },
      // After the window.
      { at: 55_000, isolate: WORKER, pauseMs: 300 },
    ];
    expect(collectionsBetween(collections, 20_000, 50_000)).toEqual({ count: 2, maxPauseMs: 210, totalPauseMs: 390, atSeconds: [10, 22] });
  });

  it("reports none for a window in which the Worker made no full collection", () => {
    expect(collectionsBetween(scavenges(WORKER, 0, 30_000, 100), 0, 30_000)).toEqual({ count: 0, maxPauseMs: 0, totalPauseMs: 0, atSeconds: [] });
  });
});
