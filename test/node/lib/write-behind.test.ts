import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { TimeoutError } from "../../../src/lib/timeout";
import { WRITE_BEHIND_LINGER_MS, WriteBehind, type BoundedCall } from "../../../src/lib/write-behind";

/**
 * The write-behind every verdict's records go through (src/lib/write-behind.ts), in Node, against a
 * store that keeps its entries in memory and answers as a test says. Timers and the clock are fake and
 * move only where a test moves them: the linger, the background timeout and the flush's span are all
 * judged by them, never by how long a test took.
 */
const BATCH = 3;
const TIMEOUT_MS = 1_000;
const neverSettles = () => new Promise<never>(() => {});

/** Entries waiting in memory, as recent-verdicts.ts and record.ts keep them; `answer` is the store call each write makes. */
function memoryStore() {
  const waiting: number[] = [];
  const written: number[][] = [];
  let next = 0;
  const state = { answer: (): Promise<unknown> => Promise.resolve() };
  const store = {
    pending: () => waiting.length,
    // As the stores do: a refused batch goes back in front for the next flush, one that timed out is dropped.
    write: async (bounded: BoundedCall) => {
      const batch = waiting.splice(0);
      try {
        await bounded(state.answer());
      } catch (error) {
        if (!(error instanceof TimeoutError)) waiting.unshift(...batch);
        return false;
      }
      written.push(batch);
      return true;
    },
  };
  const timeouts: string[] = [];
  const writer = new WriteBehind(store, BATCH, "write-behind:test", (task) => timeouts.push(task));
  const flushes: Promise<unknown>[] = [];
  const settled = new Set<Promise<unknown>>();
  const background = { waitUntil: (flush: Promise<unknown>) => void flushes.push(flush.then(() => settled.add(flush))), timeoutMs: TIMEOUT_MS };
  /** A verdict that records `count` entries after its response. */
  const verdict = (count = 1) => {
    for (let index = 0; index < count; index++) waiting.push(++next);
    writer.schedule(background);
  };
  return { state, waiting, written, timeouts, flushes, verdict, allSettled: () => flushes.length === settled.size };
}

beforeEach(() => void vi.useFakeTimers());
afterEach(() => void vi.useRealTimers());

describe("write-behind: an isolate's records go out in few writes, and every one of them goes out", () => {
  it("writes an idle isolate's entries in one write once the linger has passed, from the waitUntil of the verdict that started it", async () => {
    const { written, flushes, verdict, allSettled } = memoryStore();
    verdict();
    await vi.advanceTimersByTimeAsync(100);
    verdict();
    await vi.advanceTimersByTimeAsync(WRITE_BEHIND_LINGER_MS - 101);
    expect(written).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(written).toEqual([[1, 2]]);
    // One flush, handed to the first verdict's waitUntil, and over once nothing waits.
    expect(flushes).toHaveLength(1);
    expect(allSettled()).toBe(true);
  });

  it("ends the linger as soon as a full batch waits", async () => {
    const { written, verdict } = memoryStore();
    verdict();
    verdict(BATCH - 2);
    await vi.advanceTimersByTimeAsync(0);
    expect(written).toEqual([]);
    verdict();
    await vi.advanceTimersByTimeAsync(0);
    expect(written).toEqual([[1, 2, 3]]);
  });

  it("writes a full batch at once, without lingering", async () => {
    const { written, verdict } = memoryStore();
    verdict(BATCH);
    await vi.advanceTimersByTimeAsync(0);
    expect(written).toEqual([[1, 2, 3]]);
  });

  it("takes a full batch arriving during a write without failing the verdict that brought it, and writes it next", async () => {
    const { state, written, verdict } = memoryStore();
    let answer!: () => void;
    state.answer = () => new Promise<void>((resolve) => (answer = resolve));
    verdict(BATCH);
    await vi.advanceTimersByTimeAsync(0);
    // The write is in flight: no linger to end.
    expect(() => verdict(BATCH)).not.toThrow();
    state.answer = () => Promise.resolve();
    answer();
    await vi.advanceTimersByTimeAsync(0);
    expect(written).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
  });

  it("starts a new flush for what arrives after the last one ended", async () => {
    const { written, flushes, verdict, allSettled } = memoryStore();
    verdict();
    await vi.advanceTimersByTimeAsync(WRITE_BEHIND_LINGER_MS);
    verdict();
    expect(flushes).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(WRITE_BEHIND_LINGER_MS);
    expect(written).toEqual([[1], [2]]);
    expect(allSettled()).toBe(true);
  });

  it("keeps writing what arrives meanwhile for at most 10 s, then lets the verdict's waitUntil end; the next verdict's flush takes the rest", async () => {
    const { state, waiting, written, flushes, verdict, allSettled } = memoryStore();
    // Traffic that never pauses: an entry arrives during each write.
    state.answer = async () => void waiting.push(0);
    verdict();
    await vi.advanceTimersByTimeAsync(10_000);
    // One write per linger, every linger of the 10 s.
    expect(written).toHaveLength(10_000 / WRITE_BEHIND_LINGER_MS);
    expect(allSettled()).toBe(true);
    expect(waiting).toEqual([0]);
    verdict();
    expect(flushes).toHaveLength(2);
  });
});

describe("write-behind: a store that fails", () => {
  it("abandons a store call that never returns after the background timeout, counts it, and the next verdict's flush writes again", async () => {
    const { state, written, timeouts, verdict, allSettled } = memoryStore();
    state.answer = neverSettles;
    verdict();
    await vi.advanceTimersByTimeAsync(WRITE_BEHIND_LINGER_MS + TIMEOUT_MS - 1);
    expect(allSettled()).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(allSettled()).toBe(true);
    expect(timeouts).toEqual(["write-behind:test"]);

    state.answer = () => Promise.resolve();
    verdict();
    await vi.advanceTimersByTimeAsync(WRITE_BEHIND_LINGER_MS);
    expect(written).toEqual([[2]]);
    expect(allSettled()).toBe(true);
  });

  it("does not count a store's refusal as a timeout, and the next flush writes what was refused", async () => {
    const { state, written, timeouts, verdict } = memoryStore();
    state.answer = () => Promise.reject(new Error("D1_ERROR: Network connection lost."));
    verdict();
    await vi.advanceTimersByTimeAsync(WRITE_BEHIND_LINGER_MS + TIMEOUT_MS);
    expect(timeouts).toEqual([]);
    state.answer = () => Promise.resolve();
    verdict();
    await vi.advanceTimersByTimeAsync(WRITE_BEHIND_LINGER_MS);
    expect(written).toEqual([[1, 2]]);
  });
});
